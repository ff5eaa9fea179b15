import { parseCidr } from '../core/index.js';
import { SigmaError } from './errors.js';
import { compileSigmaRegex } from './regex.js';
import {
  ANY,
  type CharSet,
  type CompareOp,
  type GlobPart,
  globIsPlain,
  globText,
  normalizeGlob,
  parseSigmaString,
  type SigmaValue,
  type TimePart,
} from './values.js';

/**
 * The value modifiers of Sigma 2.1, one small entry each: the whole language is visible in this
 * table, and a new modifier is one line. Modifiers apply left to right to the item's state.
 */

export interface ItemState {
  values: SigmaValue[];
  /** How the values combine: `all` turns the default OR into AND. */
  linking: 'any' | 'all';
  /** `neq`: the item holds when none of its values match. */
  negated: boolean;
}

export interface ModifierContext {
  /** Values for `%name%` placeholders (from the user's placeholder file and the pipelines). */
  placeholders: ReadonlyMap<string, readonly string[]>;
  /** The field the item tests; null for keyword items. */
  field: string | null;
  /** Collects placeholders that have no values (their values expand to nothing). */
  unresolved: Set<string>;
}

type Modifier = (state: ItemState, context: ModifierContext) => void;

type StringValue = Extract<SigmaValue, { kind: 'string' }>;

function fail(message: string): never {
  throw new SigmaError('SIGMA_MODIFIER', message);
}

/** Applies `fn` to every value, which must be a string (numbers are taken as their text). */
function mapStrings(
  state: ItemState,
  name: string,
  fn: (value: StringValue) => SigmaValue | SigmaValue[],
): void {
  state.values = state.values.flatMap((value) => fn(asString(value, name)));
}

function asString(value: SigmaValue, name: string): StringValue {
  if (value.kind === 'string') return value;
  if (value.kind === 'number') {
    const text = String(value.value);
    return { kind: 'string', glob: [text], cased: false, raw: text };
  }
  return fail(`modifier '${name}' needs string values, got ${value.kind}`);
}

function plainText(value: StringValue, name: string): string {
  if (!globIsPlain(value.glob)) fail(`modifier '${name}' cannot take a value with wildcards`);
  return globText(value.glob);
}

/** The text exactly as written: modifiers that reinterpret it (`re`, `cidr`, `fieldref`) need it. */
function rawText(value: SigmaValue, name: string): string {
  const text = asString(value, name).raw;
  if (text === undefined) fail(`modifier '${name}' must come before modifiers that change the value`);
  return text;
}

function wrap(before: boolean, after: boolean): (value: StringValue) => StringValue {
  return (value) => {
    const parts: GlobPart[] = [...value.glob];
    if (before && parts[0] !== ANY) parts.unshift(ANY);
    if (after && parts[parts.length - 1] !== ANY) parts.push(ANY);
    return { kind: 'string', glob: normalizeGlob(parts), cased: value.cased, binary: value.binary };
  };
}

function binaryOf(value: StringValue, name: string): Buffer {
  const text = plainText(value, name);
  return Buffer.from(text, value.binary ? 'latin1' : 'utf8');
}

function encoded(text: string): StringValue {
  // Encoded forms are case-sensitive by nature: 'QQ' and 'qq' are different bytes.
  return { kind: 'string', glob: [text], cased: true };
}

function utf16(name: string, bigEndian: boolean, bom: boolean): Modifier {
  return (state) =>
    mapStrings(state, name, (value) => {
      const le = Buffer.from(plainText(value, name), 'utf16le');
      if (bigEndian) le.swap16();
      const bytes = bom ? Buffer.concat([Buffer.from(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]), le]) : le;
      return { kind: 'string', glob: [bytes.toString('latin1')], cased: value.cased, binary: true };
    });
}

const BASE64_START = [0, 2, 3];
const BASE64_END = [undefined, -3, -2];

/** The three encodings of a value at byte offsets 0, 1 and 2 of a base64 stream, trimmed to their stable middle. */
export function base64Offsets(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const shifted = Buffer.concat([Buffer.alloc(shift, 0x20), bytes]);
    const text = shifted.toString('base64');
    const end = BASE64_END[(bytes.length + shift) % 3];
    out.push(text.slice(BASE64_START[shift], end));
  }
  return out;
}

const DASHES = '-/\u2013\u2014\u2015';
const WINDASH: CharSet = { chars: DASHES };
const WORD = /[A-Za-z0-9_]/;

/** A dash that starts a word after a non-word character: the place of a command-line flag. */
function windashLiteral(text: string): GlobPart[] {
  const parts: GlobPart[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const previous = i > 0 ? text[i - 1]! : '';
    const next = text[i + 1] ?? '';
    if (DASHES.includes(ch) && !WORD.test(previous) && WORD.test(next)) {
      if (run) parts.push(run);
      run = '';
      parts.push(WINDASH);
    } else {
      run += ch;
    }
  }
  if (run) parts.push(run);
  return parts;
}

const PLACEHOLDER = /(?<!\\)%([^%]+)%/g;

function expandPlaceholders(value: StringValue, context: ModifierContext): StringValue[] {
  let variants: GlobPart[][] = [[]];
  for (const part of value.glob) {
    if (typeof part !== 'string') {
      for (const variant of variants) variant.push(part);
      continue;
    }
    let last = 0;
    for (const match of part.matchAll(PLACEHOLDER)) {
      const before = unescapePercent(part.slice(last, match.index));
      const name = match[1]!;
      const replacements = context.placeholders.get(name);
      if (!replacements || replacements.length === 0) {
        // Expands to nothing; the detection decides whether the rule can stand without it.
        context.unresolved.add(name);
        return [];
      }
      const next: GlobPart[][] = [];
      for (const variant of variants) {
        for (const replacement of replacements) {
          next.push([...variant, before, ...parseSigmaString(replacement)]);
        }
      }
      variants = next;
      last = match.index + match[0].length;
    }
    const rest = unescapePercent(part.slice(last));
    for (const variant of variants) variant.push(rest);
  }
  return variants.map((parts) => ({ kind: 'string', glob: normalizeGlob(parts), cased: value.cased }));
}

function unescapePercent(text: string): string {
  return text.replaceAll('\\%', '%');
}

function compare(op: CompareOp): Modifier {
  return (state) => {
    state.values = state.values.map((value) => {
      if (value.kind === 'number') return { kind: 'compare', op, value: value.value };
      if (value.kind === 'timepart' && value.test.kind === 'number') {
        return { ...value, test: { kind: 'compare', op, value: value.test.value } };
      }
      return fail(`modifier '${op}' needs a number, got ${value.kind}`);
    });
  };
}

function timePart(part: TimePart): Modifier {
  return (state) => {
    state.values = state.values.map((value) => {
      if (value.kind !== 'number') fail(`modifier '${part}' needs a number, got ${value.kind}`);
      return { kind: 'timepart', part, test: { kind: 'number', value: Math.trunc(value.value) } };
    });
  };
}

function regexFlag(flag: 'ignoreCase' | 'multiline' | 'dotAll', name: string): Modifier {
  return (state) => {
    state.values = state.values.map((value) => {
      if (value.kind !== 'regex') fail(`modifier '${name}' only follows 're'`);
      return { ...value, [flag]: true };
    });
  };
}

function fieldrefPosition(position: 'startswith' | 'endswith' | 'contains', state: ItemState): boolean {
  if (!state.values.every((value) => value.kind === 'fieldref')) return false;
  state.values = state.values.map((value) => (value.kind === 'fieldref' ? { ...value, position } : value));
  return true;
}

export const MODIFIERS: Readonly<Record<string, Modifier>> = {
  contains: (state) => {
    if (!fieldrefPosition('contains', state)) mapStrings(state, 'contains', wrap(true, true));
  },
  startswith: (state) => {
    if (!fieldrefPosition('startswith', state)) mapStrings(state, 'startswith', wrap(false, true));
  },
  endswith: (state) => {
    if (!fieldrefPosition('endswith', state)) mapStrings(state, 'endswith', wrap(true, false));
  },
  all: (state) => {
    state.linking = 'all';
  },
  neq: (state) => {
    state.negated = true;
  },
  cased: (state) => {
    state.values = state.values.map((value) => {
      if (value.kind === 'string' || value.kind === 'fieldref') return { ...value, cased: true };
      return fail(`modifier 'cased' needs string values, got ${value.kind}`);
    });
  },
  exists: (state, context) => {
    if (context.field === null) fail("modifier 'exists' needs a field");
    if (state.values.length !== 1 || state.values[0]!.kind !== 'boolean') {
      fail("modifier 'exists' takes one boolean value (true or false)");
    }
    const value = state.values[0] as { value: boolean };
    state.values = [{ kind: 'exists', value: value.value }];
  },
  windash: (state) =>
    mapStrings(state, 'windash', (value) => ({
      ...value,
      raw: undefined,
      glob: normalizeGlob(
        value.glob.flatMap((part) => (typeof part === 'string' ? windashLiteral(part) : [part])),
      ),
    })),
  re: (state) => {
    state.values = state.values.map((value) => {
      const source = rawText(value, 're');
      compileSigmaRegex(source); // reject what cannot run in linear time now, with the rule's location
      return { kind: 'regex', source, ignoreCase: false, multiline: false, dotAll: false };
    });
  },
  i: regexFlag('ignoreCase', 'i'),
  m: regexFlag('multiline', 'm'),
  s: regexFlag('dotAll', 's'),
  base64: (state) =>
    mapStrings(state, 'base64', (value) => encoded(binaryOf(value, 'base64').toString('base64'))),
  base64offset: (state) =>
    mapStrings(state, 'base64offset', (value) => base64Offsets(binaryOf(value, 'base64offset')).map(encoded)),
  utf16le: utf16('utf16le', false, false),
  wide: utf16('wide', false, false),
  utf16be: utf16('utf16be', true, false),
  utf16: utf16('utf16', false, true),
  cidr: (state) => {
    state.values = state.values.map((value) => {
      const network = rawText(value, 'cidr').trim();
      if (!parseCidr(network)) fail(`'${network}' is not a CIDR network (e.g. 10.0.0.0/8 or fe80::/10)`);
      return { kind: 'cidr', network };
    });
  },
  expand: (state, context) => mapStrings(state, 'expand', (value) => expandPlaceholders(value, context)),
  fieldref: (state) => {
    state.values = state.values.map((value) => {
      const field = rawText(value, 'fieldref');
      if (/[*?]/.test(field)) fail('a field reference cannot contain wildcards');
      return { kind: 'fieldref', field, position: 'exact', cased: asString(value, 'fieldref').cased };
    });
  },
  lt: compare('lt'),
  lte: compare('lte'),
  gt: compare('gt'),
  gte: compare('gte'),
  minute: timePart('minute'),
  hour: timePart('hour'),
  day: timePart('day'),
  week: timePart('week'),
  month: timePart('month'),
  year: timePart('year'),
};

export function applyModifiers(
  state: ItemState,
  modifiers: readonly string[],
  context: ModifierContext,
): void {
  for (const name of modifiers) {
    const modifier = MODIFIERS[name];
    if (!modifier) fail(`unknown modifier '${name}'`);
    modifier(state, context);
  }
}
