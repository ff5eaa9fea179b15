import type { FieldMap } from './compile.js';
import { type ConditionNode, identifiersMatching } from './condition.js';
import type { Detection, DetectionItem, SearchNode } from './detection.js';
import type { Glob } from './values.js';

/**
 * What must be in an event for a rule to have any chance: a set of (field, literal) pairs of
 * which at least one occurs, lower-cased, in the field's text. Most rules need a literal in some
 * field (`Image|endswith: '\\rundll32.exe'`), so one multi-pattern scan per field tells which few
 * rules to evaluate. 'always' means no such set can be proven (a `not` at the top, a regex ...):
 * the rule is always evaluated. Correctness never depends on this: it only skips rules that
 * cannot match.
 */
export interface Atom {
  /** null: any value of the event (keyword searches). */
  field: string | null;
  literal: string;
}

export type Requirement = Atom[] | 'always';

/** The longest run of plain characters of a glob, lower-cased; '' when there is none. */
function longestLiteral(glob: Glob): string {
  let best = '';
  let run = '';
  for (const part of glob) {
    if (typeof part === 'string') run += part;
    else {
      if (run.length > best.length) best = run;
      run = '';
    }
  }
  if (run.length > best.length) best = run;
  return best.toLowerCase();
}

function itemRequirement(item: DetectionItem, fieldmap: FieldMap): Requirement {
  if (item.negated) return 'always';
  if (item.values.length === 0) return []; // can never match
  const field = item.field === null ? null : (fieldmap.get(item.field) ?? item.field);
  const perValue: Atom[][] = [];
  for (const value of item.values) {
    if (value.kind === 'number' && field === null) {
      perValue.push([{ field, literal: String(value.value) }]); // a numeric keyword is searched as text
      continue;
    }
    // Cased values stay exact: lower-casing is not always a bijection (Greek final sigma).
    if (value.kind !== 'string' || value.cased) return 'always';
    const literal = longestLiteral(value.glob);
    if (literal === '') return 'always';
    perValue.push([{ field, literal }]);
  }
  // With `all`, any one value's literal is necessary; otherwise one of them is.
  return item.linking === 'all' ? best(perValue) : perValue.flat();
}

/** Of several sufficient requirements (AND), the most selective one. */
function best(options: Requirement[]): Requirement {
  let chosen: Requirement = 'always';
  let score = -1;
  for (const option of options) {
    if (option === 'always') continue;
    if (option.length === 0) return option;
    const s = Math.min(...option.map((a) => a.literal.length)) * 1000 - option.length;
    if (s > score) {
      score = s;
      chosen = option;
    }
  }
  return chosen;
}

function union(options: Requirement[]): Requirement {
  if (options.some((o) => o === 'always')) return 'always';
  return (options as Atom[][]).flat();
}

function searchRequirement(node: SearchNode, fieldmap: FieldMap): Requirement {
  if (node.kind === 'item') return itemRequirement(node.item, fieldmap);
  const children = node.children.map((child) => searchRequirement(child, fieldmap));
  return node.kind === 'all' ? best(children) : union(children);
}

export function detectionRequirement(detection: Detection, fieldmap: FieldMap): Requirement {
  const identifiers = [...detection.searches.keys()];
  const memo = new Map<string, Requirement>();
  const ofSearch = (name: string): Requirement => {
    let req = memo.get(name);
    if (req === undefined) {
      req = searchRequirement(detection.searches.get(name)!, fieldmap);
      memo.set(name, req);
    }
    return req;
  };
  const visit = (node: ConditionNode): Requirement => {
    switch (node.kind) {
      case 'ref':
        return ofSearch(node.name);
      case 'not':
        return 'always';
      case 'and':
        return best(node.children.map(visit));
      case 'or':
        return union(node.children.map(visit));
      case 'of': {
        const reqs = identifiersMatching(node.pattern, identifiers).map(ofSearch);
        return node.count === 'all' ? best(reqs) : union(reqs);
      }
    }
  };
  return visit(detection.condition);
}
