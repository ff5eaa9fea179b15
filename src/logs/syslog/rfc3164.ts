import type { FieldValue } from '../../core/index.js';
import { SyslogError } from './errors.js';
import { FACILITY_NAMES, SEVERITY_NAMES } from './priority.js';
import type { HeaderRead } from './rfc5424.js';
import type { ZoneConverter } from './time.js';
import { readBsdTimestamp, readIsoTimestamp, type TimestampRead } from './timestamps.js';

const SPACE = 0x20;

function skipSpaces(text: string, pos: number): number {
  while (text.charCodeAt(pos) === SPACE) pos++;
  return pos;
}

function tokenEnd(text: string, pos: number): number {
  const end = text.indexOf(' ', pos);
  return end < 0 ? text.length : end;
}

/** Host names and addresses (IPv6 too): letters, digits, `.`, `-`, `_`, `:`, `%`, not ending in `:`. */
function isHostToken(text: string, start: number, end: number): boolean {
  if (end - start > 255 || text.charCodeAt(end - 1) === 0x3a) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2e ||
      c === 0x2d ||
      c === 0x5f ||
      c === 0x3a ||
      c === 0x25;
    if (!ok) return false;
  }
  return true;
}

/**
 * A TAG at `start` ending at `end` (`sshd[1291]:`, `postfix/smtpd[8738]:`, `kernel:`,
 * `%ASA-6-302013:`, or `sshd[1291]` without the colon): the program and pid, or undefined.
 */
function readTag(text: string, start: number, end: number): { app: string; pid?: string } | undefined {
  let close = end;
  if (text.charCodeAt(end - 1) === 0x3a) close = end - 1;
  if (close === start || close - start > 128) return undefined;
  let open = -1;
  if (text.charCodeAt(close - 1) === 0x5d) {
    open = text.lastIndexOf('[', close - 1);
    if (open <= start) return undefined;
  } else if (close === end) {
    return undefined; // a word without `:` or `[pid]` is message text
  }
  const appEnd = open < 0 ? close : open;
  for (let i = start; i < appEnd; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x5d || c === 0x3d || c === 0x22 || c === 0x3a) return undefined;
  }
  return open < 0
    ? { app: text.slice(start, appEnd) }
    : { app: text.slice(start, appEnd), pid: text.slice(open + 1, close - 1) };
}

function setTag(fields: Record<string, FieldValue>, tag: { app: string; pid?: string }): void {
  fields.app = tag.app;
  if (tag.pid !== undefined && tag.pid !== '')
    fields.pid = /^\d{1,15}$/.test(tag.pid) ? Number(tag.pid) : tag.pid;
}

/**
 * `<mail.notice>` after the timestamp, as syslog-ng's and BSD syslogd's verbose file formats write
 * the priority: sets facility and severity unless a PRI did.
 */
function readWrittenPriority(
  text: string,
  start: number,
  end: number,
  fields: Record<string, FieldValue>,
): boolean {
  if (text.charCodeAt(start) !== 0x3c || text.charCodeAt(end - 1) !== 0x3e) return false;
  const dot = text.indexOf('.', start);
  if (dot < 0 || dot > end) return false;
  const facility = FACILITY_NAMES.indexOf(text.slice(start + 1, dot));
  const severity = SEVERITY_NAMES.indexOf(text.slice(dot + 1, end - 1));
  if (facility < 0 || severity < 0) return false;
  if (fields.facility === undefined) {
    fields.facility = facility;
    fields.facility_name = FACILITY_NAMES[facility]!;
    fields.severity = severity;
    fields.severity_name = SEVERITY_NAMES[severity]!;
  }
  return true;
}

/**
 * An RFC 3164 (BSD) message after its PRI (or from the start when it has none), in the forms
 * devices send: `TIMESTAMP HOSTNAME TAG: MSG`, without the hostname, with an RFC 3339 timestamp
 * in the BSD one's place (rsyslog's high-precision format), with a Cisco sequence number
 * (`123: *Mar  1 …`), a Cisco ASA `HOSTNAME : %ASA-…`, or with no timestamp at all (then no
 * hostname is read either, as rsyslog does), or with the priority written out after the
 * timestamp (`<mail.notice>`). Fields: `timestamp` (as written), `host`, `app`,
 * `pid`, `sequence`; the caller sets `message` from `messageStart`.
 */
export function readRfc3164(
  text: string,
  pos: number,
  fields: Record<string, FieldValue>,
  reference: number,
  toInstant: ZoneConverter,
): HeaderRead {
  let stamp: TimestampRead | undefined;
  let error: SyslogError | undefined;
  pos = skipSpaces(text, pos); // some devices put a space after the PRI
  let stampStart = pos;
  stamp = readBsdTimestamp(text, pos, reference, toInstant) ?? readIsoTimestamp(text, pos, true, toInstant);
  if (!stamp) {
    // Cisco IOS numbers its messages: `<189>123: *Mar  1 00:01:02.345: %SYS-5-CONFIG_I: …`.
    let i = pos;
    while (i < text.length && i - pos < 10 && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    if (i > pos && text.charCodeAt(i) === 0x3a && text.charCodeAt(i + 1) === SPACE) {
      const after = i + 2;
      const cisco = readBsdTimestamp(text, after, reference, toInstant);
      if (cisco) {
        fields.sequence = Number(text.slice(pos, i));
        stamp = cisco;
        stampStart = after;
      }
    }
  }
  if (!stamp) {
    pos = skipSpaces(text, pos);
    const end = tokenEnd(text, pos);
    const tag = readTag(text, pos, end);
    if (tag) {
      setTag(fields, tag);
      pos = skipSpaces(text, end);
    }
    return { messageStart: pos };
  }
  fields.timestamp = text.slice(stampStart, stamp.end);
  if (stamp.time === undefined) {
    error = new SyslogError('SYSLOG_TIMESTAMP', 'TIMESTAMP names a day or time that does not exist', {
      column: stampStart + 1,
      field: 'TIMESTAMP',
    });
  }
  pos = stamp.end;
  if (text.charCodeAt(pos) === 0x3a) pos++; // Cisco ends its timestamp with `:`
  pos = skipSpaces(text, pos);

  let end = tokenEnd(text, pos);
  if (readWrittenPriority(text, pos, end, fields)) {
    pos = skipSpaces(text, end);
    end = tokenEnd(text, pos);
  }
  let tag = readTag(text, pos, end);
  if (!tag && end > pos && isHostToken(text, pos, end)) {
    fields.host = text.slice(pos, end);
    pos = skipSpaces(text, end);
    end = tokenEnd(text, pos);
    if (end === pos + 1 && text.charCodeAt(pos) === 0x3a) {
      pos = skipSpaces(text, end); // Cisco ASA: `HOSTNAME : %ASA-6-302013: …`
      end = tokenEnd(text, pos);
    }
    tag = readTag(text, pos, end);
  }
  if (tag) {
    setTag(fields, tag);
    pos = skipSpaces(text, end);
  }
  return { messageStart: pos, time: stamp.time, error };
}
