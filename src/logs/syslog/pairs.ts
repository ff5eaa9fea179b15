import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * `key=value` pairs as devices write them (FortiGate, Sophos, auditd over syslog, CEF extensions):
 * a key is a letter or `_` then letters, digits, `_`, `.` or `-`; a value runs to the next space
 * that is followed by a key and `=`, so values may hold spaces. The form decides what a value may
 * be: `quoted` values (`key="a b"`, with `\"` and `\\`) for key=value bodies, or CEF's escapes
 * (`\=`, `\\`, `\n`, `\r`, `\|`) with quotes kept as they are.
 */
export type PairsForm = 'quoted' | 'cef';

const SPACE = 0x20;
const TAB = 0x09;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB;
}

function isKeyStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isKeyPart(c: number): boolean {
  return isKeyStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}

/** Where the `=` of a key starting at `pos` is, or -1 when no key starts there. */
export function keyEnd(text: string, pos: number): number {
  if (pos >= text.length || !isKeyStart(text.charCodeAt(pos))) return -1;
  let i = pos + 1;
  while (i < text.length && isKeyPart(text.charCodeAt(i))) i++;
  return i < text.length && text.charCodeAt(i) === EQUALS ? i : -1;
}

/** Index of the space before the next key of an unquoted value starting at `from`, or the text's end. */
function unquotedEnd(text: string, from: number): number {
  for (let i = text.indexOf(' ', from); i >= 0; i = text.indexOf(' ', i + 1)) {
    let next = i + 1;
    while (next < text.length && isSpace(text.charCodeAt(next))) next++;
    if (keyEnd(text, next) >= 0) return i;
  }
  return text.length;
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

const CEF_ESCAPES: Record<string, string> = { '=': '=', '\\': '\\', n: '\n', r: '\r', '|': '|' };

function unescapeCef(value: string): string {
  if (!value.includes('\\')) return value;
  return value.replace(/\\([=\\nr|])/g, (_, c: string) => CEF_ESCAPES[c]!);
}

/** A quoted value starting after its opening quote: its text and the index after the closing quote. */
function readQuoted(text: string, from: number): { value: string; end: number } | undefined {
  let escaped = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      escaped = true;
      i++;
    } else if (c === QUOTE) {
      const raw = text.slice(from, i);
      return { value: escaped ? raw.replace(/\\(["\\])/g, '$1') : raw, end: i + 1 };
    }
  }
  return undefined;
}

function endsPair(text: string, pos: number): boolean {
  if (pos >= text.length) return true;
  if (!isSpace(text.charCodeAt(pos))) return false;
  while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
  return pos >= text.length || keyEnd(text, pos) >= 0;
}

/**
 * The pairs of `text` from `start`, as a flat list `[key, value, key, value, ...]`, or undefined
 * when the text there does not start with `key=`.
 */
export function scanPairs(text: string, start: number, form: PairsForm): string[] | undefined {
  let pos = start;
  while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
  if (keyEnd(text, pos) < 0) return undefined;
  const pairs: string[] = [];
  while (pos < text.length) {
    const equals = keyEnd(text, pos);
    if (equals < 0) break; // a guard: every value ends before a key or at the end
    const key = text.slice(pos, equals);
    const valueStart = equals + 1;
    let value: string | undefined;
    if (form === 'quoted' && text.charCodeAt(valueStart) === QUOTE) {
      // A quoted value counts as one when a key or the end follows it; else it is plain text.
      const quoted = readQuoted(text, valueStart + 1);
      if (quoted && endsPair(text, quoted.end)) {
        value = quoted.value;
        pos = quoted.end;
      }
    }
    if (value === undefined) {
      const end = unquotedEnd(text, valueStart);
      value = text.slice(valueStart, trimEnd(text, valueStart, end));
      if (form === 'cef') value = unescapeCef(value);
      pos = end;
    }
    pairs.push(key, value);
    while (pos < text.length && isSpace(text.charCodeAt(pos))) pos++;
  }
  return pairs;
}

/** Adds a pair to fields; a key met again makes its field a list of every value, in order. */
export function addPair(fields: Record<string, FieldValue>, key: string, value: string): void {
  const existing = fields[key];
  if (existing === undefined) fields[key] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else fields[key] = [existing, value];
}

/**
 * A generic key=value body (FortiGate, Sophos, Juniper, auditd records sent over syslog) as
 * fields by key, values as text; undefined unless the whole text is pairs, at least two of them.
 */
export function parseKeyValues(text: string, start = 0): Record<string, FieldValue> | undefined {
  const fields = newFields();
  return readKeyValues(text, start, fields, (name) => name) ? fields : undefined;
}

/** Reads a key=value body into `fields`, each key under `nameOf(key)`; false (and nothing written) when it is not one. */
export function readKeyValues(
  text: string,
  start: number,
  fields: Record<string, FieldValue>,
  nameOf: (name: string) => string,
): boolean {
  const pairs = scanPairs(text, start, 'quoted');
  if (pairs === undefined || pairs.length < 4) return false;
  for (let i = 0; i < pairs.length; i += 2) addPair(fields, nameOf(pairs[i]!), pairs[i + 1]!);
  return true;
}
