import { type FieldValue, parseTimestamp } from '../../core/index.js';
import type { ZoneConverter } from './time.js';
import { readBsdTimestamp, readIsoTimestamp } from './timestamps.js';

/** Epoch seconds, milliseconds, microseconds or nanoseconds (told apart by their digits) as ms. */
function epochMillis(text: string): number | undefined {
  if (!/^\d{9,19}$/.test(text)) return undefined;
  const digits = text.length;
  if (digits <= 10) return Number(text) * 1000;
  if (digits <= 13) return Number(text);
  return Number(text.slice(0, 13 - digits));
}

/**
 * The event time a body gives when the syslog header has none: a key=value body's `eventtime`
 * (epoch, as FortiGate sends it) or `date` and `time` (in the zone of `tz`, else the listener's),
 * a CEF body's `rt` (epoch milliseconds or `MMM dd yyyy HH:mm:ss`), an XML event's `TimeCreated`.
 */
export function bodyTime(
  fields: Record<string, FieldValue>,
  toInstant: ZoneConverter,
  zone: (name: string | undefined) => ZoneConverter,
  reference: number,
): number | undefined {
  const { eventtime, date, time, tz, rt, TimeCreated } = fields;
  if (TimeCreated !== undefined) return parseTimestamp(TimeCreated);
  if (typeof eventtime === 'string') {
    const millis = epochMillis(eventtime);
    if (millis !== undefined) return millis;
  }
  if (typeof date === 'string' && typeof time === 'string') {
    let converter = toInstant;
    if (typeof tz === 'string' && /^[+-]\d{2}:?\d{2}$/.test(tz)) converter = zone(tz);
    return readIsoTimestamp(`${date} ${time}`, 0, true, converter)?.time;
  }
  if (typeof rt === 'string' && fields.CEFVersion !== undefined) {
    return epochMillis(rt) ?? readBsdTimestamp(rt, 0, reference, toInstant)?.time;
  }
  return undefined;
}
