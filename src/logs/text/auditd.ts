import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * Raw Linux audit records (`/var/log/audit/audit.log`): `type=SYSCALL msg=audit(1604994496.155:92733): k=v ...`,
 * with an optional `node=host ` in front. The records of one event share the serial after the colon;
 * Vigil joins them into one event, as ausearch shows them, so a rule can test the SYSCALL's `exe`
 * and the EXECVE's `a0` together (SigmaHQ's rules/linux/auditd are written that way).
 */

const HEADER =
  /^(?:node=(\S+) )?type=([A-Za-z0-9_]+(?:\[\d+\])?) msg=(?:audit\((\d+)(?:\.(\d{1,9}))?:(\d+)\):?|\?)\s?/;

export interface AuditRecordHeader {
  node?: string;
  type: string;
  /** The event's time, in ms since the epoch (none for a record with `msg=?`). */
  time?: number;
  serial?: string;
  /** The header text `audit(SECONDS.MS:SERIAL)` as written, or `?`. */
  id: string;
  /** Where the record's fields start. */
  end: number;
}

export function readAuditHeader(line: string): AuditRecordHeader | undefined {
  const match = HEADER.exec(line);
  if (!match) return undefined;
  const [text, node, type, seconds, fraction = '', serial] = match;
  if (seconds === undefined) return { node, type: type!, id: '?', end: text.length };
  const time = Number(seconds) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
  return {
    node,
    type: type!,
    time,
    serial,
    id: `audit(${seconds}${fraction ? `.${fraction}` : ''}:${serial})`,
    end: text.length,
  };
}

/** Whether the line starts like an audit record. */
export function isAuditLine(line: string): boolean {
  return HEADER.test(line);
}

/** Fields the kernel writes in hex when the value holds a space, a quote or a control character. */
const ENCODED = new Set([
  'name',
  'cwd',
  'path',
  'proctitle',
  'acct',
  'comm',
  'exe',
  'cmd',
  'data',
  'key',
  'ocomm',
  'watch',
  'dir',
  'file',
  'root_dir',
]);

const HEX = /^(?:[0-9A-F]{2})+$/;

/**
 * One `k=v` pair list, quoted values unquoted; `msg='...'` of user-space records read as pairs
 * too. Words that are not pairs (`auditd normal halt, sending auid=0`) are handed over as the
 * value of `text`, joined. False when a quote is left open.
 */
function readPairs(text: string, onPair: (key: string, value: string, quoted: boolean) => void): boolean {
  let i = 0;
  const n = text.length;
  const words: string[] = [];
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\u001d')) i++;
    if (i >= n) break;
    let wordEnd = i;
    while (wordEnd < n && text[wordEnd] !== ' ' && text[wordEnd] !== '=') wordEnd++;
    if (wordEnd >= n || text[wordEnd] === ' ' || wordEnd === i) {
      words.push(text.slice(i, wordEnd === i ? i + 1 : wordEnd));
      i = wordEnd === i ? i + 1 : wordEnd;
      continue;
    }
    const key = text.slice(i, wordEnd);
    i = wordEnd + 1;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      const close = text.indexOf(quote, i + 1);
      if (close < 0) return false;
      const value = text.slice(i + 1, close);
      if (key === 'msg' && quote === "'") {
        if (!readPairs(value, onPair)) onPair(key, value, true);
      } else {
        onPair(key, value, true);
      }
      i = close + 1;
    } else {
      let end = i;
      while (end < n && text[end] !== ' ' && text[end] !== '\u001d') end++;
      onPair(key, text.slice(i, end), false);
      i = end;
    }
  }
  if (words.length) onPair('text', words.join(' ').replace(/,$/, ''), true);
  return true;
}

function decodeHex(value: string, key: string): string {
  const text = Buffer.from(value, 'hex').toString('utf8').replace(/\0+$/, '');
  // NUL separates the arguments of a process title: shown as spaces, as ausearch -i does.
  return key === 'proctitle' ? text.replace(/\0/g, ' ') : text;
}

function isExecArg(type: string, key: string): boolean {
  return type === 'EXECVE' && /^a\d+(\[\d+\])?$/.test(key);
}

/**
 * The fields of one record: unquoted hex values of the fields the kernel encodes are decoded, an
 * EXECVE argument split in parts (`a2[0]`, `a2[1]`, with `a2_len`) is joined back into `a2`.
 * Returns undefined when the text is not `k=v` pairs.
 */
export function readAuditRecord(type: string, text: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  const parts = new Map<string, string[]>();
  const ok = readPairs(text, (key, value, quoted) => {
    let decoded = value;
    if (!quoted && (ENCODED.has(key) || isExecArg(type, key)) && HEX.test(value)) {
      decoded = decodeHex(value, key);
    }
    const piece = /^(a\d+)\[(\d+)\]$/.exec(key);
    if (type === 'EXECVE' && piece) {
      const list = parts.get(piece[1]!) ?? [];
      list[Number(piece[2])] = decoded;
      parts.set(piece[1]!, list);
      return;
    }
    pairs.push([key, decoded]);
  });
  if (!ok) return undefined;
  for (const [arg, list] of parts) pairs.push([arg, list.join('')]);
  return pairs;
}

/**
 * The records of one event (same serial) as one event's fields: `type` lists the record types
 * in order when there are several, a field that several records have holds each value, and
 * `msg` is the `audit(...)` id. Throws nothing; a record that cannot be read is named in `bad`.
 */
export function joinAuditRecords(lines: readonly string[]): {
  fields: Record<string, FieldValue>;
  time?: number;
  bad: number[];
} {
  const fields = newFields();
  const types: string[] = [];
  const bad: number[] = [];
  let time: number | undefined;
  const add = (key: string, value: FieldValue) => {
    const old = fields[key];
    if (old === undefined) fields[key] = value;
    else if (Array.isArray(old)) old.push(value);
    else if (old !== value) fields[key] = [old, value];
  };
  lines.forEach((line, index) => {
    const header = readAuditHeader(line);
    const pairs = header && readAuditRecord(header.type, line.slice(header.end));
    if (!header || !pairs) {
      bad.push(index);
      return;
    }
    if (header.time !== undefined) time ??= header.time;
    if (fields.msg === undefined) fields.msg = header.id;
    if (header.node !== undefined && fields.node === undefined) fields.node = header.node;
    types.push(header.type);
    for (const [key, value] of pairs) add(key === 'type' || key === 'msg' ? `${key}_` : key, value);
  });
  if (types.length) fields.type = types.length === 1 ? types[0]! : types;
  return { fields, time, bad };
}
