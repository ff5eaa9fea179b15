/**
 * Timestamps as logs write them, to milliseconds since the epoch (UTC). A time without a zone is
 * taken as UTC: Windows writes `SystemTime` and Sysmon writes `UtcTime` in UTC without saying so.
 */
const ISO_LIKE =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(Z|z|[+-]\d{2}:?\d{2}|UTC)?$/;

export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    // Seconds or milliseconds since the epoch: 1e11 seconds is the year 5138.
    return Math.abs(value) < 1e11 ? value * 1000 : value;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const match = ISO_LIKE.exec(text);
  if (match) {
    const [, date, clock, zone] = match;
    const fraction = clock!.replace(',', '.');
    // Keep milliseconds only: Date.parse does not take the 7 digits of FILETIME precision.
    const trimmed = fraction.replace(/(\.\d{3})\d+$/, '$1');
    const offset =
      !zone || zone === 'z' || zone === 'UTC'
        ? 'Z'
        : zone.length === 5
          ? `${zone.slice(0, 3)}:${zone.slice(3)}`
          : zone;
    if (calendarDay(date!) === undefined) return undefined;
    const ms = Date.parse(`${date}T${trimmed}${offset}`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return calendarDay(text) ?? microsoftJsonDate(text);
}

/**
 * `/Date(1714557600000)/` or `/Date(1714557600000+0200)/`: how .NET's JSON serializers (Windows
 * PowerShell's ConvertTo-Json, the Office 365 reporting web service) write a date; the number is
 * ms since the epoch whatever the offset says.
 */
function microsoftJsonDate(text: string): number | undefined {
  const match = /^\/Date\((-?\d{1,15})(?:[+-]\d{4})?\)\/$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * A `YYYY-MM-DD` day that the calendar has, as milliseconds at its UTC midnight. `Date` alone
 * would take 2021-02-30 as March 2nd.
 */
export function calendarDay(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Not Date.UTC: it takes years 0-99 as 1900-1999 (.NET's DateTime.MinValue is 0001-01-01).
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const ms = date.getTime();
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
    ? ms
    : undefined;
}

/** ISO 8601 week number (1-53) of a UTC time. */
export function isoWeek(ms: number): number {
  const date = new Date(ms);
  const day = (date.getUTCDay() + 6) % 7; // Monday = 0
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3);
  const yearStart = Date.UTC(new Date(thursday).getUTCFullYear(), 0, 1);
  return 1 + Math.floor((thursday - yearStart) / (7 * 86400000));
}
