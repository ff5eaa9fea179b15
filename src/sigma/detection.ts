import { type ConditionNode, identifiersMatching, parseCondition } from './condition.js';
import { atPath, SigmaError, type YamlPath } from './errors.js';
import { applyModifiers, type ItemState } from './modifiers.js';
import { parseSigmaString, type SigmaValue } from './values.js';

/** One `field|modifiers: values` line (or a keyword list when `field` is null), with its modifiers applied. */
export interface DetectionItem {
  field: string | null;
  /** Placeholders without values: they expanded to nothing, so the item may match nothing. */
  unresolved: readonly string[];
  modifiers: readonly string[];
  values: readonly SigmaValue[];
  linking: 'any' | 'all';
  negated: boolean;
  /** Where the item is in its YAML document. */
  path: YamlPath;
}

/** A search identifier's body: maps are AND, lists are OR. */
export type SearchNode =
  | { kind: 'all'; children: SearchNode[] }
  | { kind: 'any'; children: SearchNode[] }
  | { kind: 'item'; item: DetectionItem };

export interface Detection {
  /** Search identifiers in the order written. */
  searches: ReadonlyMap<string, SearchNode>;
  /**
   * Placeholders left without values. They only ever narrow an exclusion (every use is under
   * `not`), so the rule errs towards alerting; otherwise parsing fails.
   */
  unresolvedPlaceholders: readonly string[];
  /** The parsed condition; a list of conditions is one `or`. */
  condition: ConditionNode;
  /** The condition as written, for display. */
  conditionText: string;
}

export interface DetectionOptions {
  placeholders: ReadonlyMap<string, readonly string[]>;
}

type Scalar = string | number | boolean | null;

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function scalarToValue(value: Scalar): SigmaValue {
  if (value === null) return { kind: 'null' };
  if (typeof value === 'number') return { kind: 'number', value };
  if (typeof value === 'boolean') return { kind: 'boolean', value };
  return { kind: 'string', glob: parseSigmaString(value), cased: false, raw: value };
}

/** `Field|mod1|mod2` (or `|mod` for a keyword item) into field and modifiers. */
function splitKey(key: string): { field: string | null; modifiers: string[] } {
  const [field = '', ...modifiers] = key.split('|');
  if (modifiers.some((m) => m === '')) throw new SigmaError('SIGMA_MODIFIER', `empty modifier in '${key}'`);
  return { field: field === '' ? null : field, modifiers };
}

export function parseItem(
  key: string | null,
  rawValue: unknown,
  options: DetectionOptions,
  path: YamlPath,
): DetectionItem {
  return atPath(path, () => {
    const { field, modifiers } = key === null ? { field: null, modifiers: [] } : splitKey(key);
    const list = Array.isArray(rawValue) ? rawValue : [rawValue];
    if (list.length === 0) throw new SigmaError('SIGMA_VALUE', 'empty list of values');
    const values = list.map((value, index) => {
      if (!isScalar(value)) {
        throw new SigmaError(
          'SIGMA_VALUE',
          `values must be strings, numbers, booleans or null, not ${Array.isArray(value) ? 'a list' : 'a map'}`,
          {},
          Array.isArray(rawValue) ? [...path, index] : path,
        );
      }
      return scalarToValue(value);
    });
    const state: ItemState = { values, linking: 'any', negated: false };
    const unresolved = new Set<string>();
    applyModifiers(state, modifiers, { placeholders: options.placeholders, field, unresolved });
    if (field === null && state.values.some((value) => value.kind === 'null')) {
      throw new SigmaError('SIGMA_VALUE', 'a keyword cannot be null');
    }
    return {
      field,
      unresolved: [...unresolved],
      modifiers,
      values: state.values,
      linking: state.linking,
      negated: state.negated,
      path,
    };
  });
}

/** A map: every key must hold (AND). */
export function parseSelectionMap(
  map: Record<string, unknown>,
  options: DetectionOptions,
  path: YamlPath,
): SearchNode {
  const children = Object.entries(map).map(
    ([key, value]): SearchNode => ({ kind: 'item', item: parseItem(key, value, options, [...path, key]) }),
  );
  if (children.length === 0) throw new SigmaError('SIGMA_VALUE', 'empty selection', {}, path);
  return children.length === 1 ? children[0]! : { kind: 'all', children };
}

function parseSearch(body: unknown, options: DetectionOptions, path: YamlPath): SearchNode {
  if (isMap(body)) return parseSelectionMap(body, options, path);
  if (Array.isArray(body)) {
    if (body.length === 0) throw new SigmaError('SIGMA_VALUE', 'empty search identifier', {}, path);
    if (body.every(isScalar)) {
      return { kind: 'item', item: parseItem(null, body, options, path) };
    }
    const children = body.map((element, index): SearchNode => {
      const elementPath = [...path, index];
      if (isMap(element)) return parseSelectionMap(element, options, elementPath);
      if (isScalar(element)) return { kind: 'item', item: parseItem(null, element, options, elementPath) };
      throw new SigmaError('SIGMA_VALUE', 'a list of lists is not a search', {}, elementPath);
    });
    return children.length === 1 ? children[0]! : { kind: 'any', children };
  }
  if (isScalar(body) && body !== null) return { kind: 'item', item: parseItem(null, body, options, path) };
  throw new SigmaError('SIGMA_VALUE', 'a search identifier must be a map, a list or a keyword', {}, path);
}

/**
 * The `detection` section: search identifiers and the condition. Unknown identifiers in the
 * condition and patterns that match no identifier are errors.
 */
export function parseDetection(
  section: unknown,
  options: DetectionOptions,
  path: YamlPath = ['detection'],
): Detection {
  if (!isMap(section)) throw new SigmaError('SIGMA_SCHEMA', 'detection must be a map', {}, path);
  const searches = new Map<string, SearchNode>();
  for (const [name, body] of Object.entries(section)) {
    if (name === 'condition' || name === 'timeframe') continue;
    searches.set(name, parseSearch(body, options, [...path, name]));
  }
  const condition = parseConditionField(section.condition, [...path, 'condition']);
  checkReferences(condition.tree, [...searches.keys()], [...path, 'condition']);
  const unresolvedPlaceholders = checkPlaceholders(searches, condition.tree);
  return { searches, unresolvedPlaceholders, condition: condition.tree, conditionText: condition.text };
}

function itemsWithUnresolved(node: SearchNode): DetectionItem[] {
  if (node.kind === 'item') return node.item.unresolved.length ? [node.item] : [];
  return node.children.flatMap(itemsWithUnresolved);
}

/**
 * A placeholder without values is tolerated only where it can only shrink an exclusion: in
 * identifiers the condition uses under `not` and nowhere else. Anywhere else the rule would
 * silently detect nothing, so it is rejected.
 */
function checkPlaceholders(searches: ReadonlyMap<string, SearchNode>, condition: ConditionNode): string[] {
  const all = new Set<string>();
  const identifiers = [...searches.keys()];
  const polarity = identifierPolarity(condition, identifiers);
  for (const [name, node] of searches) {
    const items = itemsWithUnresolved(node);
    if (items.length === 0) continue;
    const missing = items.flatMap((item) => item.unresolved);
    if (polarity.get(name) !== 'negative') {
      const list = [...new Set(missing)].map((p) => `%${p}%`).join(', ');
      const first = items[0]!.path;
      throw new SigmaError(
        'SIGMA_PLACEHOLDER',
        `placeholder ${list} has no values: give them in a placeholder file (--placeholders FILE)`,
        { field: first.join('.') },
        first,
      );
    }
    for (const p of missing) all.add(p);
  }
  return [...all];
}

/** For each identifier: used only under an odd number of `not` ('negative'), or otherwise. */
function identifierPolarity(
  node: ConditionNode,
  identifiers: string[],
): Map<string, 'positive' | 'negative' | 'both'> {
  const out = new Map<string, 'positive' | 'negative' | 'both'>();
  const mark = (name: string, negated: boolean) => {
    const now = negated ? 'negative' : 'positive';
    const before = out.get(name);
    out.set(name, before === undefined || before === now ? now : 'both');
  };
  const visit = (n: ConditionNode, negated: boolean): void => {
    if (n.kind === 'not') visit(n.child, !negated);
    else if (n.kind === 'and' || n.kind === 'or') for (const child of n.children) visit(child, negated);
    else if (n.kind === 'ref') mark(n.name, negated);
    else for (const name of identifiersMatching(n.pattern, identifiers)) mark(name, negated);
  };
  visit(node, false);
  return out;
}

export function parseConditionField(raw: unknown, path: YamlPath): { tree: ConditionNode; text: string } {
  const texts = Array.isArray(raw) ? raw : [raw];
  if (raw === undefined || raw === null || texts.length === 0) {
    throw new SigmaError('SIGMA_SCHEMA', 'missing condition', {}, path);
  }
  const trees = texts.map((text, index) =>
    atPath(Array.isArray(raw) ? [...path, index] : path, () => {
      if (typeof text !== 'string') throw new SigmaError('SIGMA_SCHEMA', 'a condition must be a string');
      return parseCondition(text);
    }),
  );
  const tree: ConditionNode = trees.length === 1 ? trees[0]! : { kind: 'or', children: trees };
  return { tree, text: texts.map(String).join(' or ') };
}

function checkReferences(node: ConditionNode, identifiers: string[], path: YamlPath): void {
  const known = new Set(identifiers);
  const visit = (n: ConditionNode): void => {
    if (n.kind === 'ref' && !known.has(n.name)) {
      throw new SigmaError(
        'SIGMA_CONDITION',
        `condition names '${n.name}', which is not a search identifier`,
        {},
        path,
      );
    }
    if (n.kind === 'of' && identifiersMatching(n.pattern, identifiers).length === 0) {
      throw new SigmaError(
        'SIGMA_CONDITION',
        `'${n.count === 'all' ? 'all' : n.count} of ${n.pattern}' matches no search identifier`,
        {},
        path,
      );
    }
    if (n.kind === 'not') visit(n.child);
    if (n.kind === 'and' || n.kind === 'or') n.children.forEach(visit);
  };
  visit(node);
}
