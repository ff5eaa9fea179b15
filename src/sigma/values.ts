/**
 * Typed Sigma values. A string keeps its wildcards as parts, so escaping is decided once, when the
 * rule is read; every other kind of value (regex, CIDR, field reference ...) is its own type.
 */
import { foldCase } from '../core/index.js';

/** `*`: any sequence of characters. */
export const ANY = 0;
/** `?`: exactly one character. */
export const ONE = 1;
/** One character out of a set (what `windash` turns a dash into). */
export interface CharSet {
  readonly chars: string;
}
export type GlobPart = string | typeof ANY | typeof ONE | CharSet;
/** A Sigma string: literal runs and wildcards, adjacent literals merged. */
export type Glob = readonly GlobPart[];

export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';
export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte';

export type SigmaValue =
  | {
      kind: 'string';
      glob: Glob;
      cased: boolean;
      /** The text as written, while no modifier has changed the value (`re`, `cidr`, `fieldref` need it). */
      raw?: string;
      /** Each character is a byte (after `utf16*`/`wide`), not text to encode as UTF-8. */
      binary?: boolean;
    }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'regex'; source: string; ignoreCase: boolean; multiline: boolean; dotAll: boolean }
  | { kind: 'cidr'; network: string }
  | {
      kind: 'fieldref';
      field: string;
      position: 'exact' | 'startswith' | 'endswith' | 'contains';
      cased: boolean;
    }
  | { kind: 'compare'; op: CompareOp; value: number }
  | { kind: 'exists'; value: boolean }
  | { kind: 'timepart'; part: TimePart; test: SigmaValue };

/**
 * Reads a string as written in a rule: `*` and `?` are wildcards, `\*` `\?` `\\` escape them, and a
 * backslash before anything else is itself (so `C:\Windows` and `C:\\Windows` are the same value).
 */
export function parseSigmaString(text: string): Glob {
  const parts: GlobPart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        literal += next;
        i++;
      } else {
        literal += '\\';
      }
    } else if (ch === '*' || ch === '?') {
      if (literal) parts.push(literal);
      literal = '';
      parts.push(ch === '*' ? ANY : ONE);
    } else {
      literal += ch;
    }
  }
  if (literal) parts.push(literal);
  return normalizeGlob(parts);
}

/** Merges adjacent literals and collapses runs of `*`. */
export function normalizeGlob(parts: readonly GlobPart[]): Glob {
  const out: GlobPart[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (typeof part === 'string') {
      if (part === '') continue;
      if (typeof last === 'string') out[out.length - 1] = last + part;
      else out.push(part);
    } else if (part === ANY && last === ANY) {
      // `**` is `*`
    } else {
      out.push(part);
    }
  }
  return out;
}

export function globIsPlain(glob: Glob): boolean {
  return glob.every((part) => typeof part === 'string');
}

/** The literal text of a glob without wildcards; throws on a wildcard so callers check first. */
export function globText(glob: Glob): string {
  let out = '';
  for (const part of glob) {
    if (typeof part !== 'string') throw new Error('glob has wildcards');
    out += part;
  }
  return out;
}

/** The longest run of plain characters of a glob, lower-cased; '' when there is none. */
export function longestLiteral(glob: Glob): string {
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
  return foldCase(best);
}
