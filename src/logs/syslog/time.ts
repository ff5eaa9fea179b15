import { SyslogError } from './errors.js';

/** `count` ASCII digits at `pos` as a number, or -1. */
export function readDigits(text: string, pos: number, count: number): number {
  if (pos + count > text.length) return -1;
  let value = 0;
  for (let i = pos; i < pos + count; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * A wall-clock time read as UTC, in milliseconds, or undefined when the calendar or the clock
 * lacks it (February 30th, 24:00). A leap second (`:60`) is read as the last millisecond before
 * the next minute, so the event stays in its minute.
 */
export function wallClockMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const days = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > days) return undefined;
  const leap = second === 60;
  const date = new Date(0);
  // Not Date.UTC alone: it reads years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, leap ? 59 : second, leap ? 999 : millisecond);
  return date.getTime();
}

/** Converts wall-clock times of a zone (taken as UTC) to instants. */
export type ZoneConverter = (wallClock: number) => number;

const UTC: ZoneConverter = (wallClock) => wallClock;

/**
 * The converter for `UTC`, a fixed offset (`+02:00`, `-0500`) or an IANA zone (`Europe/Paris`),
 * for timestamps that do not say their zone (RFC 3164 ones). An unknown zone is a `SYSLOG_OPTIONS`
 * error.
 */
export function zoneConverter(zone: string | undefined): ZoneConverter {
  if (zone === undefined || zone === 'UTC' || zone === 'Z') return UTC;
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (fixed) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3]);
    const offset = (fixed[1] === '-' ? -minutes : minutes) * 60_000;
    return (wallClock) => wallClock - offset;
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new SyslogError('SYSLOG_OPTIONS', `unknown time zone '${zone}' (use UTC, +hh:mm or an IANA name)`);
  }
  // Offsets change at most a few times a year, on the hour: remember them per UTC hour.
  const offsets = new Map<number, number>();
  const offsetAt = (instant: number): number => {
    const hour = Math.floor(instant / 3_600_000);
    let offset = offsets.get(hour);
    if (offset === undefined) {
      const parts: Record<string, number> = {};
      for (const part of format.formatToParts(hour * 3_600_000)) parts[part.type] = Number(part.value);
      const wall = Date.UTC(
        parts.year!,
        parts.month! - 1,
        parts.day!,
        parts.hour!,
        parts.minute!,
        parts.second!,
      );
      offset = wall - hour * 3_600_000;
      if (offsets.size > 10_000) offsets.clear();
      offsets.set(hour, offset);
    }
    return offset;
  };
  return (wallClock) => {
    const guess = wallClock - offsetAt(wallClock);
    return wallClock - offsetAt(guess);
  };
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** The month (1-12) of a three-letter English abbreviation at `pos` (any case), or -1. */
export function readMonth(text: string, pos: number): number {
  if (pos + 3 > text.length) return -1;
  const a = text.charCodeAt(pos) & ~0x20;
  const b = text.charCodeAt(pos + 1) | 0x20;
  const c = text.charCodeAt(pos + 2) | 0x20;
  for (let m = 0; m < 12; m++) {
    if (
      MONTHS.charCodeAt(m * 3) === a &&
      MONTHS.charCodeAt(m * 3 + 1) === b &&
      MONTHS.charCodeAt(m * 3 + 2) === c
    ) {
      return m + 1;
    }
  }
  return -1;
}

const DAY = 86_400_000;

/**
 * The instant of a date written without its year (RFC 3164 `Mmm dd hh:mm:ss`), in the year that
 * puts it closest to `reference` without being more than a day after it: a December message read
 * in January is from last year, a January message read on December 31st (a sender whose clock
 * runs ahead) from next year. February 29th takes the nearest leap year before.
 */
export function inferYear(
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
  reference: number,
  toInstant: ZoneConverter,
): number | undefined {
  const referenceYear = new Date(reference).getUTCFullYear();
  let best: number | undefined;
  for (let year = referenceYear + 1; year >= referenceYear - 8; year--) {
    const wall = wallClockMillis(year, month, day, hour, minute, second, millisecond);
    if (wall === undefined) continue;
    const instant = toInstant(wall);
    if (instant > reference + DAY) continue;
    best = instant;
    break;
  }
  return best;
}
