import { inferYear, readDigits, readMonth, wallClockMillis, type ZoneConverter } from './time.js';

/** A timestamp found in a header: its instant (undefined when the calendar lacks the date) and its end. */
export interface TimestampRead {
  time: number | undefined;
  end: number;
}

/** Up to the first three digits of a fraction of a second, as milliseconds; `end` is after all digits. */
function readFraction(text: string, pos: number): { millisecond: number; end: number } {
  let millisecond = 0;
  let digits = 0;
  let i = pos;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    if (digits < 3) millisecond = millisecond * 10 + (c - 0x30);
    digits++;
  }
  for (; digits < 3; digits++) millisecond *= 10;
  return { millisecond, end: i };
}

/** `hh:mm:ss` with an optional `.fff…` at `pos`, or undefined. */
function readClock(
  text: string,
  pos: number,
): { hour: number; minute: number; second: number; millisecond: number; end: number } | undefined {
  const hour = readDigits(text, pos, 2);
  const minute = readDigits(text, pos + 3, 2);
  const second = readDigits(text, pos + 6, 2);
  if (hour < 0 || minute < 0 || second < 0 || text[pos + 2] !== ':' || text[pos + 5] !== ':')
    return undefined;
  let end = pos + 8;
  let millisecond = 0;
  if (text[end] === '.' || text[end] === ',') {
    const fraction = readFraction(text, end + 1);
    if (fraction.end === end + 1) return undefined;
    millisecond = fraction.millisecond;
    end = fraction.end;
  }
  return { hour, minute, second, millisecond, end };
}

/**
 * An RFC 3339 timestamp at `pos` (`2003-10-11T22:14:15.003Z`, `…+02:00`, `…-0700`). `inHeader3164`
 * also takes a space between date and time and a missing offset (then `toInstant` says the zone).
 * Undefined when the text there is not one.
 */
export function readIsoTimestamp(
  text: string,
  pos: number,
  inHeader3164: boolean,
  toInstant: ZoneConverter,
): TimestampRead | undefined {
  const year = readDigits(text, pos, 4);
  const month = readDigits(text, pos + 5, 2);
  const day = readDigits(text, pos + 8, 2);
  if (year < 0 || month < 0 || day < 0 || text[pos + 4] !== '-' || text[pos + 7] !== '-') return undefined;
  const separator = text[pos + 10];
  if (separator !== 'T' && separator !== 't' && !(inHeader3164 && separator === ' ')) return undefined;
  const clock = readClock(text, pos + 11);
  if (!clock) return undefined;
  let end = clock.end;
  let offset: number | undefined;
  const zone = text[end];
  if (zone === 'Z' || zone === 'z') {
    offset = 0;
    end++;
  } else if (zone === '+' || zone === '-') {
    const hours = readDigits(text, end + 1, 2);
    const colon = text[end + 3] === ':' ? 1 : 0;
    const minutes = readDigits(text, end + 3 + colon, 2);
    if (hours < 0 || minutes < 0 || hours > 23 || minutes > 59) return undefined;
    offset = (zone === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
    end += 5 + colon;
  } else if (!inHeader3164) {
    return undefined;
  }
  const wall = wallClockMillis(year, month, day, clock.hour, clock.minute, clock.second, clock.millisecond);
  if (wall === undefined) return { time: undefined, end };
  return { time: offset === undefined ? toInstant(wall) : wall - offset, end };
}

/**
 * A BSD timestamp at `pos` as RFC 3164 and real devices write it: `Mmm dd hh:mm:ss` (day padded
 * with a space or a zero), with an optional year before the time (`Mmm dd yyyy hh:mm:ss`, Cisco
 * ASA), fractions of a second and a leading `*` or `.` (Cisco's marks for an unsynchronised
 * clock). The year, when absent, is inferred from `reference` (see `inferYear`).
 */
export function readBsdTimestamp(
  text: string,
  pos: number,
  reference: number,
  toInstant: ZoneConverter,
): TimestampRead | undefined {
  if (text[pos] === '*' || text[pos] === '.') pos++;
  const month = readMonth(text, pos);
  if (month < 0 || text[pos + 3] !== ' ') return undefined;
  pos += 4;
  if (text[pos] === ' ') pos++;
  let day = readDigits(text, pos, 2);
  if (day >= 0) pos += 2;
  else {
    day = readDigits(text, pos, 1);
    if (day < 0) return undefined;
    pos += 1;
  }
  if (text[pos] !== ' ') return undefined;
  pos++;
  let year = -1;
  if (text[pos + 4] === ' ') {
    year = readDigits(text, pos, 4);
    if (year < 0) return undefined;
    pos += 5;
  }
  const clock = readClock(text, pos);
  if (!clock) return undefined;
  const { hour, minute, second, millisecond, end } = clock;
  if (year >= 0) {
    const wall = wallClockMillis(year, month, day, hour, minute, second, millisecond);
    return { time: wall === undefined ? undefined : toInstant(wall), end };
  }
  return { time: inferYear(month, day, hour, minute, second, millisecond, reference, toInstant), end };
}
