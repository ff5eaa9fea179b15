import type { EventSource, FieldValue, LogEvent } from '../../core/index.js';
import { isEventXml, parseEventXml } from '../event-xml.js';
import { flattenWindowsEvent, newFields, windowsEventElement } from '../windows-json.js';
import { addAsaFields } from './asa.js';
import { bodyTime } from './body-time.js';
import { isCef, readCef } from './cef.js';
import { SyslogError } from './errors.js';
import { readKeyValues } from './pairs.js';
import { panOsType, readPanOs } from './panos.js';
import { FACILITY_NAMES, readPriority, SEVERITY_NAMES } from './priority.js';
import { readRfc3164 } from './rfc3164.js';
import { type HeaderRead, isRfc5424, readRfc5424 } from './rfc5424.js';
import { addAuthenticationFields } from './sshd.js';
import { type ZoneConverter, zoneConverter } from './time.js';

export interface SyslogOptions {
  /**
   * When the message was received (ms since the epoch; default now): RFC 3164 dates, which have
   * no year, are read in the year that puts them nearest before it (up to a day after it).
   */
  receivedAt?: number;
  /**
   * Zone of timestamps that do not say theirs (RFC 3164 ones): `UTC` (default), a fixed offset
   * (`+02:00`) or an IANA name (`Europe/Paris`). RFC 5424 timestamps always carry their offset.
   */
  timeZone?: string;
  /** Read CEF and key=value messages into fields (default true). */
  parseBody?: boolean;
}

/** A syslog message read into Vigil's fields (see the README, "Ingest formats"). */
export interface ParsedSyslog {
  format: 'rfc5424' | 'rfc3164';
  fields: Record<string, FieldValue>;
  /** Event time from the header's timestamp, when it has a usable one. */
  time?: number;
  /**
   * What could not be read as its format says. The message is still returned: what was read of
   * the header, and the rest of the text, unparsed, as `message`.
   */
  error?: SyslogError;
}

const zones = new Map<string, ZoneConverter>();

function converterFor(zone: string | undefined): ZoneConverter {
  const key = zone ?? 'UTC';
  let converter = zones.get(key);
  if (!converter) {
    converter = zoneConverter(zone);
    zones.set(key, converter);
  }
  return converter;
}

/** Trailing line ends and NULs that senders add to a message. */
function contentEnd(text: string): number {
  let end = text.length;
  for (;;) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0x0d && c !== 0x00) return end;
    end--;
  }
}

/**
 * Reads one syslog message (RFC 5424 or RFC 3164, as received in a UDP datagram or a TCP frame).
 * Never throws on the message: what cannot be read is in `error`. An unknown `timeZone` is a
 * `SYSLOG_OPTIONS` error, thrown.
 */
export function parseSyslog(text: string, options: SyslogOptions = {}): ParsedSyslog {
  const toInstant = converterFor(options.timeZone);
  const end = contentEnd(text);
  if (end < text.length) text = text.slice(0, end);
  const fields = newFields();
  if (text.length === 0) {
    return { format: 'rfc3164', fields, error: new SyslogError('SYSLOG_EMPTY', 'the message is empty') };
  }

  let pos = 0;
  let error: SyslogError | undefined;
  const priority = readPriority(text);
  if (priority && priority.value >= 0) {
    fields.facility = priority.value >> 3;
    fields.facility_name = FACILITY_NAMES[priority.value >> 3]!;
    fields.severity = priority.value & 7;
    fields.severity_name = SEVERITY_NAMES[priority.value & 7]!;
    pos = priority.end;
  } else if (priority) {
    error = new SyslogError('SYSLOG_PRI', 'PRI is <0> to <191>', { column: 1, field: 'PRI' });
  }

  const rfc5424 = pos > 0 && isRfc5424(text, pos);
  const receivedAt = options.receivedAt ?? Date.now();
  const header: HeaderRead = rfc5424
    ? readRfc5424(text, pos, fields, toInstant)
    : readRfc3164(text, pos, fields, receivedAt, toInstant);
  error ??= header.error;

  let time = header.time;
  if (header.messageStart < text.length) {
    fields.message = text.slice(header.messageStart);
    if (options.parseBody !== false && !header.error) {
      addAuthenticationFields(fields);
      addAsaFields(fields);
      const bodyError = addBody(fields, text, header.messageStart);
      error ??= bodyError;
      // A header without a time (FortiGate sends none): the body's own time, when it has one.
      if (time === undefined) time = bodyTime(fields, toInstant, converterFor, receivedAt);
    }
  }
  return { format: rfc5424 ? 'rfc5424' : 'rfc3164', fields, time, error };
}

/** Names of the fields a syslog header gives; a body's fields never take them. */
const HEADER_FIELDS = new Set([
  'facility',
  'facility_name',
  'severity',
  'severity_name',
  'version',
  'timestamp',
  'host',
  'app',
  'pid',
  'msgid',
  'sequence',
  'message',
]);

/**
 * A CEF, PAN-OS CSV or key=value message's fields. A body field named like a header field (`host=` in a
 * key=value body) is `body.<name>`, whether or not the header had one, so the sender's host and
 * a host the message talks about never mix.
 */
function addBody(fields: Record<string, FieldValue>, text: string, start: number): SyslogError | undefined {
  if (isCef(text, start)) return readCef(text, start, fields, bodyName);
  if (isEventXml(text, start)) return addEventXml(fields, text, start);
  const panOs = panOsType(text, start);
  if (panOs !== undefined) {
    readPanOs(text, start, panOs, fields, bodyName);
    return undefined;
  }
  if (text.includes('=', start)) readKeyValues(text, start, fields, bodyName);
  return undefined;
}

/** A Windows-schema event in XML (Sysmon for Linux writes these to syslog) with Sigma's field names. */
function addEventXml(
  fields: Record<string, FieldValue>,
  text: string,
  start: number,
): SyslogError | undefined {
  const parsed = parseEventXml(start === 0 ? text : text.slice(start));
  const event = parsed && windowsEventElement(parsed.record);
  if (!parsed || !event) return undefined;
  const body = flattenWindowsEvent(event);
  for (const key in body) fields[bodyName(key)] = body[key]!;
  if (!parsed.cut) return undefined;
  return new SyslogError('SYSLOG_BODY', 'the event XML is cut short: the value it ends in is left out', {
    column: start + 1,
    field: 'MSG',
  });
}

function bodyName(name: string): string {
  return HEADER_FIELDS.has(name) || name.startsWith('sd.') ? `body.${name}` : name;
}

/** A syslog message as an event; `source` says where it came from (listener and position). */
export function syslogEvent(
  text: string,
  source: EventSource,
  options: SyslogOptions = {},
): { event: LogEvent; error?: SyslogError } {
  const parsed = parseSyslog(text, options);
  const event: LogEvent = { fields: parsed.fields, raw: text, source, time: parsed.time };
  return parsed.error ? { event, error: parsed.error } : { event };
}
