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

/**
 * The serial of an audit record line (`msg=audit(SECONDS.MS:SERIAL)`) without reading the rest,
 * and whether it ends its event (`type=EOE`), to gather an event's lines.
 */
export function auditSerial(line: string): { serial: string; last: boolean } | undefined {
  const at = line.indexOf(' msg=audit(');
  if (at < 0) return undefined;
  const colon = line.indexOf(':', at + 11);
  const close = colon < 0 ? -1 : line.indexOf(')', colon);
  if (close < 0) return undefined;
  return { serial: line.slice(colon + 1, close), last: line.startsWith('EOE ', at - 3) };
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
 * Reads `k=v` pairs from `start`, pushing key, value and whether it was quoted (1 or 0) onto
 * `out`; `msg='...'` of user-space records is read as pairs too. Words that are not pairs
 * (`auditd normal halt, sending auid=0`) are given as the value of `text`, joined. False when a
 * quote is left open.
 */
function readPairs(text: string, start: number, end: number, out: (string | number)[]): boolean {
  let words: string[] | undefined;
  let i = start;
  while (i < end) {
    let c = text.charCodeAt(i);
    if (c === SPACE || c === GROUP_SEPARATOR) {
      i++;
      continue;
    }
    // The word up to a space or `=`.
    let wordEnd = i;
    while (wordEnd < end) {
      c = text.charCodeAt(wordEnd);
      if (c === SPACE || c === EQUALS) break;
      wordEnd++;
    }
    if (wordEnd === end || c === SPACE || wordEnd === i) {
      const stop = wordEnd === i ? i + 1 : wordEnd;
      words ??= [];
      words.push(text.slice(i, stop));
      i = stop;
      continue;
    }
    const key = text.slice(i, wordEnd);
    i = wordEnd + 1;
    const quote = text.charCodeAt(i);
    if (quote === DOUBLE_QUOTE || quote === SINGLE_QUOTE) {
      const close = text.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", i + 1);
      if (close < 0 || close >= end) return false;
      if (quote === SINGLE_QUOTE && key === 'msg') {
        const mark = out.length;
        if (!readPairs(text, i + 1, close, out)) {
          out.length = mark;
          out.push(key, text.slice(i + 1, close), 1);
        }
      } else {
        out.push(key, text.slice(i + 1, close), 1);
      }
      i = close + 1;
    } else {
      let stop = i;
      while (stop < end) {
        c = text.charCodeAt(stop);
        if (c === SPACE || c === GROUP_SEPARATOR) break;
        stop++;
      }
      out.push(key, text.slice(i, stop), 0);
      i = stop;
    }
  }
  if (words) out.push('text', words.join(' ').replace(/,$/, ''), 1);
  return true;
}

const SPACE = 0x20;
const EQUALS = 0x3d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
/** auditd separates the enriched fields (`ausearch --format raw`) with 0x1d. */
const GROUP_SEPARATOR = 0x1d;

function decodeHex(value: string, key: string): string {
  const text = Buffer.from(value, 'hex').toString('utf8').replace(/\0+$/, '');
  // NUL separates the arguments of a process title: shown as spaces, as ausearch -i does.
  return key === 'proctitle' ? text.replace(/\0/g, ' ') : text;
}

/** An EXECVE argument (`a0`), or a part of a long one (`a2[1]`). */
const EXEC_ARG = /^a\d+(?:\[(\d+)\])?$/;

/**
 * The fields of one record (its text from `start`), pushed onto `out` as key, value: unquoted hex
 * values of the fields the kernel encodes are decoded, an EXECVE argument split in parts (`a2[0]`,
 * `a2[1]`, with `a2_len`) is joined back into `a2`. False (and nothing pushed) when the text is not
 * `k=v` pairs.
 */
export function readAuditRecord(type: string, text: string, start: number, out: string[]): boolean {
  const pairs: (string | number)[] = [];
  if (!readPairs(text, start, text.length, pairs)) return false;
  const execve = type === 'EXECVE';
  let parts: Map<string, string[]> | undefined;
  for (let i = 0; i < pairs.length; i += 3) {
    const key = pairs[i] as string;
    const value = pairs[i + 1] as string;
    const arg = execve && key.charCodeAt(0) === 0x61 ? EXEC_ARG.exec(key) : null;
    const decoded =
      pairs[i + 2] === 0 && (arg || ENCODED.has(key)) && HEX.test(value) ? decodeHex(value, key) : value;
    if (arg?.[1] !== undefined) {
      const name = key.slice(0, key.indexOf('['));
      parts ??= new Map();
      const list = parts.get(name) ?? [];
      list[Number(arg[1])] = decoded;
      parts.set(name, list);
    } else {
      out.push(key, decoded);
    }
  }
  if (parts) for (const [arg, list] of parts) out.push(arg, list.join(''));
  return true;
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
  const read: string[] = [];
  lines.forEach((line, index) => {
    const header = readAuditHeader(line);
    read.length = 0;
    if (!header || !readAuditRecord(header.type, line, header.end, read)) {
      bad.push(index);
      return;
    }
    if (header.time !== undefined) time ??= header.time;
    if (fields.msg === undefined) fields.msg = header.id;
    if (header.node !== undefined && fields.node === undefined) fields.node = header.node;
    types.push(header.type);
    for (let i = 0; i < read.length; i += 2) {
      const key = read[i]!;
      add(key === 'type' || key === 'msg' ? `${key}_` : key, read[i + 1]!);
    }
  });
  if (types.length) fields.type = types.length === 1 ? types[0]! : types;
  return { fields, time, bad };
}
