import { foldsSafely } from '../core/index.js';
import type { FieldMap } from './compile.js';
import { type ConditionNode, identifiersMatching } from './condition.js';
import type { Detection, DetectionItem, SearchNode } from './detection.js';
import { regexRequiredLiterals } from './regex.js';
import { longestLiteral } from './values.js';

/**
 * What must be in an event for a rule to have any chance: a set of (field, literal) pairs of
 * which at least one occurs, ignoring case, in the field's text. Most rules need a literal in some
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
    if (value.kind === 'regex') {
      const literals = regexRequiredLiterals(value.source);
      if (!literals?.every(foldsSafely)) return 'always';
      perValue.push(literals.map((literal) => ({ field, literal })));
      continue;
    }
    if (value.kind !== 'string') return 'always';
    const literal = longestLiteral(value.glob);
    if (literal === '' || !foldsSafely(literal)) return 'always';
    perValue.push([{ field, literal }]);
  }
  // With `all`, any one value's literals are necessary; otherwise one of all of them is.
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

/**
 * Longer literals are kept as their last characters only. An atom is a guard (a value or rule is
 * verified in full once its atom is found), so any piece of a literal will do, and the tail of a
 * path or a hash is its most telling piece. Shorter atoms make smaller automata: thousands of
 * hashes would otherwise need hundreds of thousands of states.
 */
const MAX_ATOM_LENGTH = 16;

/**
 * Numbers for (field, literal) pairs, shared by all compiled rules of an engine: the engine scans
 * each event once for all of them, and compiled items check their values' literals by number.
 */
export class AtomIndex {
  /** Field (null: any) -> literal -> id. */
  private readonly ids = new Map<string | null, Map<string, number>>();
  readonly fields: (string | null)[] = [];
  readonly literals: string[] = [];

  id(field: string | null, whole: string): number {
    const literal = whole.length > MAX_ATOM_LENGTH ? whole.slice(-MAX_ATOM_LENGTH) : whole;
    let ofField = this.ids.get(field);
    if (!ofField) {
      ofField = new Map();
      this.ids.set(field, ofField);
    }
    let id = ofField.get(literal);
    if (id === undefined) {
      id = this.literals.length;
      ofField.set(literal, id);
      this.fields.push(field);
      this.literals.push(literal);
    }
    return id;
  }

  /** The ids of a field's atoms, in the order they were numbered. */
  idsOf(field: string | null): number[] {
    return [...(this.ids.get(field)?.values() ?? [])];
  }

  get size(): number {
    return this.literals.length;
  }
}
