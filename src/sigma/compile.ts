import {
  cidrContains,
  type FieldValue,
  foldCase,
  foldsSafely,
  isoWeek,
  parseCidr,
  parseTimestamp,
} from '../core/index.js';
import { type ConditionNode, identifiersMatching } from './condition.js';
import type { MatchContext } from './context.js';
import type { Detection, DetectionItem, SearchNode } from './detection.js';
import { globTest, type TextTest } from './glob.js';
import type { AtomIndex } from './prefilter.js';
import { compileSigmaRegex, regexRequiredLiterals } from './regex.js';
import {
  ANY,
  type CompareOp,
  type Glob,
  globIsPlain,
  globText,
  longestLiteral,
  type SigmaValue,
  type TimePart,
} from './values.js';

/** A compiled test on one event. Built once per rule; no YAML is looked at while matching. */
export type Predicate = (ctx: MatchContext) => boolean;

export type FieldMap = ReadonlyMap<string, string>;

const NO_FIELDS: FieldMap = new Map();

export interface CompiledDetection {
  matches: Predicate;
  /** Atoms the matcher reads (when compiled with an AtomIndex): the events must be scanned for them. */
  atoms: number[];
  /** The fields (after field mapping) of the items that made a matching event match, with their values. */
  explain(ctx: MatchContext): Record<string, FieldValue>;
}

/** What compilation needs besides the rule: field renames, and optionally the engine's literal atoms. */
interface Compiler {
  fieldmap: FieldMap;
  /**
   * When given, string values are guarded by their literal's atom: the engine scans each event
   * for all atoms first (and must, before running matchers compiled this way).
   */
  atoms?: AtomIndex;
  /** Atoms used so far. */
  used: Set<number>;
}

export function compileDetection(
  detection: Detection,
  fieldmap: FieldMap = NO_FIELDS,
  atoms?: AtomIndex,
): CompiledDetection {
  const compiler: Compiler = { fieldmap, atoms, used: new Set() };
  const identifiers = [...detection.searches.keys()];
  const searches = new Map<string, CompiledSearch>();
  for (const [name, node] of detection.searches) searches.set(name, compileSearch(node, compiler));
  const matches = compileCondition(detection.condition, identifiers, searches);
  const positive = positiveIdentifiers(detection.condition, identifiers);
  return {
    matches,
    atoms: [...compiler.used],
    explain(ctx) {
      const out: Record<string, FieldValue> = {};
      for (const name of positive) searches.get(name)?.explain(ctx, out);
      return out;
    },
  };
}

/** A lone selection (a pipeline's `when`), without condition. */
export function compileSelection(node: SearchNode, fieldmap: FieldMap = NO_FIELDS): Predicate {
  return compileSearch(node, { fieldmap, used: new Set() }).test;
}

interface CompiledSearch {
  test: Predicate;
  /** Records the fields of the items that hold; returns whether the search holds. */
  explain(ctx: MatchContext, out: Record<string, FieldValue>): boolean;
}

function compileSearch(node: SearchNode, compiler: Compiler): CompiledSearch {
  const { fieldmap } = compiler;
  if (node.kind === 'item') {
    const test = compileItem(node.item, compiler);
    const field = node.item.field === null ? null : (fieldmap.get(node.item.field) ?? node.item.field);
    return {
      test,
      explain(ctx, out) {
        if (!test(ctx)) return false;
        if (field !== null && !node.item.negated) {
          const value = ctx.get(field);
          if (value !== undefined) out[field] = value;
        }
        return true;
      },
    };
  }
  const children = node.children.map((child) => compileSearch(child, compiler));
  const tests = children.map((child) => child.test);
  if (node.kind === 'all') {
    return {
      test: allOf(tests),
      explain(ctx, out) {
        const found: Record<string, FieldValue> = {};
        for (const child of children) if (!child.explain(ctx, found)) return false;
        Object.assign(out, found);
        return true;
      },
    };
  }
  return {
    test: anyOf(tests),
    explain(ctx, out) {
      let any = false;
      for (const child of children) if (child.explain(ctx, out)) any = true;
      return any;
    },
  };
}

function compileCondition(
  node: ConditionNode,
  identifiers: readonly string[],
  searches: ReadonlyMap<string, CompiledSearch>,
): Predicate {
  switch (node.kind) {
    case 'ref':
      return searches.get(node.name)!.test;
    case 'not': {
      const child = compileCondition(node.child, identifiers, searches);
      return (ctx) => !child(ctx);
    }
    case 'and':
      return allOf(node.children.map((child) => compileCondition(child, identifiers, searches)));
    case 'or':
      return anyOf(node.children.map((child) => compileCondition(child, identifiers, searches)));
    case 'of': {
      const tests = identifiersMatching(node.pattern, identifiers).map((name) => searches.get(name)!.test);
      if (node.count === 'all') return allOf(tests);
      if (node.count === 1) return anyOf(tests);
      const needed = node.count;
      return (ctx) => {
        let hits = 0;
        for (const test of tests) if (test(ctx) && ++hits >= needed) return true;
        return false;
      };
    }
  }
}

/** Identifiers that count towards a match: those not under an odd number of `not`. */
function positiveIdentifiers(node: ConditionNode, identifiers: readonly string[]): string[] {
  const out = new Set<string>();
  const visit = (n: ConditionNode, negated: boolean): void => {
    if (n.kind === 'not') visit(n.child, !negated);
    else if (n.kind === 'and' || n.kind === 'or') for (const child of n.children) visit(child, negated);
    else if (!negated) {
      for (const name of n.kind === 'ref' ? [n.name] : identifiersMatching(n.pattern, identifiers))
        out.add(name);
    }
  };
  visit(node, false);
  return [...out];
}

export function allOf(tests: Predicate[]): Predicate {
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Predicate, Predicate];
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (const test of tests) if (!test(ctx)) return false;
    return true;
  };
}

export function anyOf(tests: Predicate[]): Predicate {
  if (tests.length === 1) return tests[0]!;
  if (tests.length === 2) {
    const [a, b] = tests as [Predicate, Predicate];
    return (ctx) => a(ctx) || b(ctx);
  }
  return (ctx) => {
    for (const test of tests) if (test(ctx)) return true;
    return false;
  };
}

type TextReader = (ctx: MatchContext, cased: boolean) => readonly string[];

function compileItem(item: DetectionItem, compiler: Compiler): Predicate {
  if (item.values.length === 0) return () => false; // every value was a placeholder without values
  const { fieldmap } = compiler;
  const field = item.field === null ? null : (fieldmap.get(item.field) ?? item.field);
  const read: TextReader =
    field === null ? (ctx, cased) => ctx.allTexts(cased) : (ctx, cased) => ctx.texts(field, cased);
  const values = field === null ? item.values.map(asKeyword) : item.values;
  let tests: Predicate[];
  if (item.linking === 'any') {
    // One pass over the field's texts for all string values of the same case.
    const strings = { lower: [] as SigmaValue[], cased: [] as SigmaValue[] };
    const others: SigmaValue[] = [];
    for (const value of values) {
      if (value.kind === 'string') (value.cased ? strings.cased : strings.lower).push(value);
      else others.push(value);
    }
    tests = [];
    if (strings.lower.length) tests.push(textsTest(read, false, strings.lower, field, compiler));
    if (strings.cased.length) tests.push(textsTest(read, true, strings.cased, field, compiler));
    for (const value of others) tests.push(compileValue(value, field, read, compiler));
  } else {
    tests = values.map((value) => compileValue(value, field, read, compiler));
  }
  const combined = item.linking === 'all' ? allOf(tests) : anyOf(tests);
  return item.negated ? (ctx) => !combined(ctx) : combined;
}

/** Keywords search inside values: a plain keyword is a substring. */
function asKeyword(value: SigmaValue): SigmaValue {
  if (value.kind === 'number' || value.kind === 'boolean') {
    return { kind: 'string', glob: [ANY, String(value.value), ANY], cased: false };
  }
  if (value.kind !== 'string') return value;
  const glob = [...value.glob];
  if (glob[0] !== ANY) glob.unshift(ANY);
  if (glob[glob.length - 1] !== ANY) glob.push(ANY);
  return { ...value, glob };
}

function textsTest(
  read: TextReader,
  cased: boolean,
  values: SigmaValue[],
  field: string | null,
  compiler: Compiler,
): Predicate {
  if (compiler.atoms && values.length >= GUARD_MIN_VALUES)
    return guardedTextsTest(read, values, field, cased, compiler);
  const exact = new Set<string>();
  const tests: TextTest[] = [];
  for (const value of values) {
    if (value.kind !== 'string') continue;
    if (globIsPlain(value.glob)) exact.add(cased ? globText(value.glob) : foldCase(globText(value.glob)));
    else tests.push(globTest(value.glob, cased));
  }
  if (exact.size === 1 && tests.length === 0) {
    const [only] = exact as Set<string> & [string];
    return (ctx) => {
      for (const text of read(ctx, cased)) if (text === only) return true;
      return false;
    };
  }
  if (exact.size > 0) tests.unshift((text) => exact.has(text));
  const test = tests.length === 1 ? tests[0]! : (text: string) => tests.some((t) => t(text));
  return (ctx) => {
    for (const text of read(ctx, cased)) if (test(text)) return true;
    return false;
  };
}

/**
 * Lists at least this long are guarded by their literals; shorter ones cost less to test
 * directly than their patterns cost in the field's automaton.
 */
const GUARD_MIN_VALUES = 8;

/**
 * Values checked only when the engine's scan found their literal in the field: of fifty
 * `contains` values, the one or two whose literal occurs are verified, the rest cost a lookup.
 */
function guardedTextsTest(
  read: TextReader,
  values: SigmaValue[],
  field: string | null,
  cased: boolean,
  compiler: Compiler,
): Predicate {
  const atoms = compiler.atoms!;
  const guardAtoms: number[] = [];
  const guardGlobs: Glob[] = [];
  const free: TextTest[] = [];
  for (const value of values) {
    if (value.kind !== 'string') continue;
    const literal = longestLiteral(value.glob);
    if (literal === '' || !foldsSafely(literal)) free.push(globTest(value.glob, cased));
    else {
      const atom = atoms.id(field, literal);
      compiler.used.add(atom);
      guardAtoms.push(atom);
      guardGlobs.push(value.glob);
    }
  }
  const ids = Int32Array.from(guardAtoms);
  // Built when their literal is first found: most guarded values never are, in a whole hunt.
  const guardTests: (TextTest | undefined)[] = new Array(ids.length);
  return (ctx) => {
    const stamp = ctx.atomStamp!;
    const generation = ctx.atomGeneration;
    for (let i = 0; i < ids.length; i++) {
      if (stamp[ids[i]!] !== generation) continue;
      let test = guardTests[i];
      if (!test) {
        test = globTest(guardGlobs[i]!, cased);
        guardTests[i] = test;
      }
      for (const text of read(ctx, cased)) if (test(text)) return true;
    }
    for (const test of free) for (const text of read(ctx, cased)) if (test(text)) return true;
    return false;
  };
}

type Scalar = string | number | boolean;

function scalars(value: FieldValue | undefined): Scalar[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.filter((v): v is Scalar => v !== null && typeof v !== 'object');
  return typeof value === 'object' ? [] : [value];
}

function toNumber(value: Scalar): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
};

function numberTest(value: SigmaValue): ((n: number) => boolean) | undefined {
  if (value.kind === 'number') return (n) => n === value.value;
  if (value.kind === 'compare') {
    const op = COMPARE[value.op];
    return (n) => op(n, value.value);
  }
  return undefined;
}

const TIME_PARTS: Record<TimePart, (ms: number) => number> = {
  minute: (ms) => new Date(ms).getUTCMinutes(),
  hour: (ms) => new Date(ms).getUTCHours(),
  day: (ms) => new Date(ms).getUTCDate(),
  week: isoWeek,
  month: (ms) => new Date(ms).getUTCMonth() + 1,
  year: (ms) => new Date(ms).getUTCFullYear(),
};

function compileValue(
  value: SigmaValue,
  field: string | null,
  read: TextReader,
  compiler: Compiler,
): Predicate {
  const { fieldmap } = compiler;
  switch (value.kind) {
    case 'string':
      return textsTest(read, value.cased, [value], field, compiler);
    case 'regex': {
      const regex = compileSigmaRegex(value.source, value);
      const literals = compiler.atoms ? regexRequiredLiterals(value.source) : undefined;
      if (compiler.atoms && literals?.every(foldsSafely)) {
        // Run the regex only when one of the literals it needs was found in the event.
        const guards = literals.map((literal) => compiler.atoms!.id(field, literal));
        for (const atom of guards) compiler.used.add(atom);
        return (ctx) => {
          if (!guards.some((atom) => ctx.atomHit(atom))) return false;
          for (const text of read(ctx, true)) if (regex.test(text)) return true;
          return false;
        };
      }
      return (ctx) => {
        for (const text of read(ctx, true)) if (regex.test(text)) return true;
        return false;
      };
    }
    case 'cidr': {
      const cidr = parseCidr(value.network)!;
      return (ctx) => read(ctx, true).some((text) => cidrContains(cidr, text));
    }
    case 'null':
      return field === null
        ? () => false
        : (ctx) => {
            const v = ctx.get(field);
            return v === undefined || v === null;
          };
    case 'exists':
      return field === null ? () => false : (ctx) => (ctx.get(field) !== undefined) === value.value;
    case 'boolean': {
      const text = String(value.value);
      return field === null
        ? () => false
        : (ctx) =>
            scalars(ctx.get(field)).some((s) =>
              typeof s === 'boolean' ? s === value.value : typeof s === 'string' && s.toLowerCase() === text,
            );
    }
    case 'number':
    case 'compare': {
      const test = numberTest(value)!;
      const text = value.kind === 'number' ? String(value.value) : undefined;
      if (field === null) return () => false;
      return (ctx) =>
        scalars(ctx.get(field)).some((s) => {
          const n = toNumber(s);
          if (n !== undefined && test(n)) return true;
          return text !== undefined && typeof s === 'string' && s.toLowerCase() === text;
        });
    }
    case 'timepart': {
      const part = TIME_PARTS[value.part];
      const test = numberTest(value.test)!;
      if (field === null) return () => false;
      return (ctx) =>
        scalars(ctx.get(field)).some((s) => {
          const ms = parseTimestamp(s);
          return ms !== undefined && test(part(ms));
        });
    }
    case 'fieldref': {
      if (field === null) return () => false;
      const other = fieldmap.get(value.field) ?? value.field;
      const compare: (a: string, b: string) => boolean =
        value.position === 'startswith'
          ? (a, b) => a.startsWith(b)
          : value.position === 'endswith'
            ? (a, b) => a.endsWith(b)
            : value.position === 'contains'
              ? (a, b) => a.includes(b)
              : (a, b) => a === b;
      return (ctx) => {
        const mine = ctx.texts(field, value.cased);
        if (mine.length === 0) return false;
        const theirs = ctx.texts(other, value.cased);
        return mine.some((a) => theirs.some((b) => compare(a, b)));
      };
    }
  }
}
