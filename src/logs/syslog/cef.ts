import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';
import { SyslogError } from './errors.js';
import { addPair, scanPairs } from './pairs.js';

/**
 * ArcSight Common Event Format: `CEF:Version|Device Vendor|Device Product|Device Version|
 * Device Event Class ID|Name|Severity|Extension`. Header fields are named as the CEF
 * specification names them, without spaces (`DeviceVendor`, `DeviceEventClassID`, as Microsoft
 * Sentinel's CommonSecurityLog does), the version as `CEFVersion`; extension pairs keep their keys
 * (`src`, `act`, `suser`, `cs1Label`).
 */
export const CEF_HEADER_FIELDS = [
  'CEFVersion',
  'DeviceVendor',
  'DeviceProduct',
  'DeviceVersion',
  'DeviceEventClassID',
  'Name',
  'Severity',
] as const;

const PIPE = 0x7c;
const BACKSLASH = 0x5c;

/** Whether a message body is CEF (`CEF:` first, spaces before it allowed). */
export function isCef(text: string, start = 0): boolean {
  while (text.charCodeAt(start) === 0x20) start++;
  return text.startsWith('CEF:', start);
}

function unescapeHeader(value: string): string {
  return value.includes('\\') ? value.replace(/\\([|\\])/g, '$1') : value;
}

/** Integers stay numbers (`CEF:0`, severity `7`); anything else is text (`Very-High`). */
function headerValue(value: string): FieldValue {
  return /^\d{1,9}$/.test(value) ? Number(value) : value;
}

/**
 * A CEF record's fields, from `start` (where `CEF:` is, spaces allowed before it). A header with
 * fewer than seven `|` gives a `SYSLOG_CEF` error; the caller keeps the text as the message.
 */
export function parseCef(text: string, start = 0): Record<string, FieldValue> | SyslogError {
  const fields = newFields();
  const error = readCef(text, start, fields, (name) => name);
  return error ?? fields;
}

/**
 * Reads a CEF record into `fields`, each field under `nameOf(name)`; nothing is written when the
 * header is incomplete (the error says so).
 */
export function readCef(
  text: string,
  start: number,
  fields: Record<string, FieldValue>,
  nameOf: (name: string) => string,
): SyslogError | undefined {
  while (text.charCodeAt(start) === 0x20) start++;
  if (!text.startsWith('CEF:', start)) {
    return new SyslogError('SYSLOG_CEF', 'a CEF record starts with CEF:', {
      column: start + 1,
      field: 'CEF',
    });
  }
  const header: FieldValue[] = [];
  let from = start + 4;
  let escaped = false;
  for (let i = from; i < text.length && header.length < CEF_HEADER_FIELDS.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      escaped = true;
      i++;
    } else if (c === PIPE) {
      const raw = text.slice(from, i);
      header.push(headerValue(escaped ? unescapeHeader(raw) : raw));
      escaped = false;
      from = i + 1;
    }
  }
  if (header.length < CEF_HEADER_FIELDS.length) {
    return new SyslogError(
      'SYSLOG_CEF',
      `a CEF header has 7 fields separated by '|'; this one has ${header.length}`,
      { column: start + 1, field: `CEF ${CEF_HEADER_FIELDS[header.length]}` },
    );
  }
  for (let i = 0; i < header.length; i++) fields[nameOf(CEF_HEADER_FIELDS[i]!)] = header[i]!;
  const pairs = scanPairs(text, from, 'cef');
  if (pairs) for (let i = 0; i < pairs.length; i += 2) addPair(fields, nameOf(pairs[i]!), pairs[i + 1]!);
  return undefined;
}
