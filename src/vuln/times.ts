import { calendarDay, parseTimestamp } from '../core/index.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** C's ctime, as Nessus writes HOST_START and old GVM writes scan_start: `Tue Nov 24 10:15:02 2026`. */
const CTIME = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * A time as scanners write it (ISO 8601, a calendar day, seconds since the epoch, or ctime) as an
 * ISO string in UTC; undefined when the text is no time. ctime has no zone: it is taken as UTC,
 * which can move a scan near midnight by a day.
 */
export function scanTime(text: string | undefined): string | undefined {
  const value = text?.trim();
  if (!value) return undefined;
  let ms: number | undefined;
  const ctime = CTIME.exec(value);
  if (ctime) {
    const [, month, day, hours, minutes, seconds, year] = ctime;
    const monthIndex = MONTHS.indexOf(month!);
    const date = `${year}-${String(monthIndex + 1).padStart(2, '0')}-${day!.padStart(2, '0')}`;
    if (monthIndex >= 0 && calendarDay(date) !== undefined)
      ms = Date.parse(`${date}T${hours}:${minutes}:${seconds}Z`);
  } else if (/^\d{9,10}$/.test(value)) ms = Number(value) * 1000;
  else ms = parseTimestamp(value);
  return ms === undefined || Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** The calendar day (UTC) of an ISO time or day. */
export function dayOf(time: string): string {
  return time.slice(0, 10);
}
