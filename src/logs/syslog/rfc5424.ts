import type { FieldValue } from '../../core/index.js';
import { SyslogError } from './errors.js';
import { addPair } from './pairs.js';
import type { ZoneConverter } from './time.js';
import { readIsoTimestamp } from './timestamps.js';

/** What a header reader found: where the message text starts, the event time, a problem. */
export interface HeaderRead {
  messageStart: number;
  time?: number;
  error?: SyslogError;
}

const SPACE = 0x20;
const NIL = '-';

/** Whether the text after a PRI ending at `pos` is an RFC 5424 header: `VERSION SP` then `-` or a date. */
export function isRfc5424(text: string, pos: number): boolean {
  let i = pos;
  while (i < pos + 3 && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
  if (i === pos || text.charCodeAt(pos) === 0x30 || text.charCodeAt(i) !== SPACE) return false;
  const next = text.charCodeAt(i + 1);
  return next === 0x2d || (next >= 0x30 && next <= 0x39);
}

function headerError(code: string, message: string, pos: number, field: string): SyslogError {
  return new SyslogError(code, message, { column: pos + 1, field });
}

/**
 * RFC 5424 `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA
 * [SP MSG]` after the PRI ending at `pos`, into fields: `version`, `timestamp` (as written),
 * `host`, `app`, `pid` (a number when it is one), `msgid`, and `sd.<SD-ID>.<PARAM-NAME>` per
 * structured-data parameter. NILVALUE (`-`) parts are left out.
 */
export function readRfc5424(
  text: string,
  pos: number,
  fields: Record<string, FieldValue>,
  toInstant: ZoneConverter,
): HeaderRead {
  const versionEnd = text.indexOf(' ', pos);
  fields.version = Number(text.slice(pos, versionEnd));
  pos = versionEnd + 1;

  let time: number | undefined;
  if (text[pos] === NIL && text.charCodeAt(pos + 1) === SPACE) {
    pos += 2;
  } else {
    const stamp = readIsoTimestamp(text, pos, false, toInstant);
    if (!stamp || text.charCodeAt(stamp.end) !== SPACE) {
      return {
        messageStart: pos,
        error: headerError('SYSLOG_TIMESTAMP', 'TIMESTAMP is not an RFC 3339 time', pos, 'TIMESTAMP'),
      };
    }
    fields.timestamp = text.slice(pos, stamp.end);
    if (stamp.time === undefined) {
      return {
        messageStart: pos,
        error: headerError(
          'SYSLOG_TIMESTAMP',
          'TIMESTAMP names a day or time that does not exist',
          pos,
          'TIMESTAMP',
        ),
      };
    }
    time = stamp.time;
    pos = stamp.end + 1;
  }

  const parts = { host: 'HOSTNAME', app: 'APP-NAME', pid: 'PROCID', msgid: 'MSGID' } as const;
  for (const name of ['host', 'app', 'pid', 'msgid'] as const) {
    let end = pos < text.length ? text.indexOf(' ', pos) : pos;
    if (end < 0) end = text.length;
    if (end === pos) {
      return {
        messageStart: pos,
        time,
        error: headerError('SYSLOG_HEADER', `the header ends before ${parts[name]}`, pos, parts[name]),
      };
    }
    if (end !== pos + 1 || text[pos] !== NIL) {
      const value = text.slice(pos, end);
      fields[name] = name === 'pid' && /^\d{1,15}$/.test(value) ? Number(value) : value;
    }
    pos = end + 1;
  }
  if (pos >= text.length) {
    return {
      messageStart: text.length,
      time,
      error: headerError('SYSLOG_HEADER', 'the header ends before STRUCTURED-DATA', pos, 'STRUCTURED-DATA'),
    };
  }

  if (text[pos] === NIL) {
    pos++;
  } else if (text[pos] === '[') {
    const sd = readStructuredData(text, pos, fields);
    if (sd.error) return { messageStart: sd.end, time, error: sd.error };
    pos = sd.end;
  } else {
    return {
      messageStart: pos,
      time,
      error: headerError('SYSLOG_SD', "STRUCTURED-DATA is '-' or starts with '['", pos, 'STRUCTURED-DATA'),
    };
  }

  if (pos >= text.length) return { messageStart: pos, time };
  if (text.charCodeAt(pos) !== SPACE) {
    return {
      messageStart: pos,
      time,
      error: headerError(
        'SYSLOG_SD',
        'STRUCTURED-DATA is followed by text without a space',
        pos,
        'STRUCTURED-DATA',
      ),
    };
  }
  pos++;
  // A MSG in UTF-8 starts with a byte order mark, which is not part of the text.
  if (text.charCodeAt(pos) === 0xfeff) pos++;
  return { messageStart: pos, time };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CLOSE = 0x5d;
const EQUALS = 0x3d;

/** SD-NAME: printable US-ASCII but `=`, space, `]` and `"`. */
function nameEnd(text: string, pos: number): number {
  let i = pos;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= SPACE || c > 0x7e || c === EQUALS || c === CLOSE || c === QUOTE) break;
  }
  return i;
}

/** A PARAM-VALUE after its opening quote, with `\"`, `\\` and `\]` unescaped (other `\` kept). */
function readParamValue(text: string, pos: number): { value: string; end: number } | undefined {
  let escaped = false;
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      const next = text.charCodeAt(i + 1);
      if (next === QUOTE || next === BACKSLASH || next === CLOSE) {
        escaped = true;
        i++;
      }
    } else if (c === QUOTE) {
      const raw = text.slice(pos, i);
      return { value: escaped ? raw.replace(/\\(["\\\]])/g, '$1') : raw, end: i + 1 };
    }
  }
  return undefined;
}

/** SD-ELEMENTs from `[` at `pos`: `[SD-ID *(SP PARAM-NAME="PARAM-VALUE")]`, one after another. */
function readStructuredData(
  text: string,
  pos: number,
  fields: Record<string, FieldValue>,
): { end: number; error?: SyslogError } {
  const fail = (message: string, at: number) => ({
    end: pos,
    error: headerError('SYSLOG_SD', message, at, 'STRUCTURED-DATA'),
  });
  while (text[pos] === '[') {
    const idEnd = nameEnd(text, pos + 1);
    if (idEnd === pos + 1) return fail('an SD-ELEMENT starts with its SD-ID', pos + 1);
    const prefix = `sd.${text.slice(pos + 1, idEnd)}.`;
    let i = idEnd;
    while (text.charCodeAt(i) === SPACE) {
      const paramEnd = nameEnd(text, i + 1);
      if (paramEnd === i + 1) return fail('a PARAM-NAME is missing', i + 1);
      if (text.charCodeAt(paramEnd) !== EQUALS || text.charCodeAt(paramEnd + 1) !== QUOTE) {
        return fail('an SD-PARAM is PARAM-NAME="PARAM-VALUE"', paramEnd + 1);
      }
      const value = readParamValue(text, paramEnd + 2);
      if (!value) return fail('a PARAM-VALUE has no closing quote', paramEnd + 1);
      addPair(fields, prefix + text.slice(i + 1, paramEnd), value.value);
      i = value.end;
    }
    if (text.charCodeAt(i) !== CLOSE) return fail("an SD-ELEMENT ends with ']'", i);
    pos = i + 1;
  }
  return { end: pos };
}
