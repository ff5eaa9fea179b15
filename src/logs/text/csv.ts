import { type FieldValue, parseTimestamp } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * Comma-separated values with a header line naming the columns, as PowerShell's `Export-Csv`
 * writes them (Microsoft 365's `Get-MessageTrace | Export-Csv`: every value quoted, an optional
 * `#TYPE` line first). Fields keep the header's names; an empty value is left out. Quoting is
 * RFC 4180's: a quoted value may hold commas, and `""` stands for a quote. A value that spans
 * lines is not read: each line is a record.
 */

/** The values of one line, or undefined when a quote is left open or text follows a closing quote. */
export function splitCsvLine(line: string): string[] | undefined {
  const values: string[] = [];
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const close = line.indexOf('"', from);
        if (close < 0) return undefined;
        value += line.slice(from, close);
        if (line.charCodeAt(close + 1) === QUOTE) {
          value += '"';
          from = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      values.push(value);
      if (i === line.length) return values;
      if (line.charCodeAt(i) !== COMMA) return undefined;
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        values.push(line.slice(i));
        return values;
      }
      values.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;

/** The type line Windows PowerShell's Export-Csv writes unless told `-NoTypeInformation`. */
export function isCsvTypeLine(line: string): boolean {
  return line.startsWith('#TYPE ');
}

const COLUMN = /^[A-Za-z_][\w .()-]{0,63}$/;

/**
 * Whether the line is a header of columns: three or more names, quoted (as Export-Csv writes
 * them) or plain words.
 */
export function isCsvHeader(line: string): boolean {
  const names = splitCsvLine(line);
  return names !== undefined && names.length >= 3 && names.every((name) => COLUMN.test(name));
}

/** Columns whose value is the record's time, in the order they are tried. */
const TIME_COLUMNS = ['Received', 'date-time', 'Timestamp', 'TimeGenerated', 'Date', 'time'];

export function readCsvLine(
  line: string,
  columns: readonly string[] | undefined,
): { fields: Record<string, FieldValue>; time?: number } | string | undefined {
  if (!columns) return 'a record before the header line';
  const values = splitCsvLine(line);
  if (!values) return undefined;
  if (values.length !== columns.length)
    return `${values.length} values where the header names ${columns.length}`;
  const fields = newFields();
  columns.forEach((name, i) => {
    if (values[i] !== '') fields[name] = values[i]!;
  });
  let time: number | undefined;
  for (const name of TIME_COLUMNS) {
    const value = fields[name];
    time = typeof value === 'string' ? (parseTimestamp(value) ?? usDateTime(value)) : undefined;
    if (time !== undefined) break;
  }
  return { fields, time };
}

const US_DATE_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d\d):(\d\d)(?: ([AP]M))?$/;

/**
 * `5/1/2024 10:00:00 AM`: how PowerShell writes a date under the en-US culture, as Get-MessageTrace
 * dates are exported; they are UTC.
 */
function usDateTime(text: string): number | undefined {
  const m = US_DATE_TIME.exec(text);
  if (!m) return undefined;
  const [month, day, year, minute, second] = [m[1], m[2], m[3], m[5], m[6]].map(Number) as number[];
  let hour = Number(m[4]);
  if (m[7] && (hour < 1 || hour > 12)) return undefined;
  if (m[7] === 'PM' && hour < 12) hour += 12;
  if (m[7] === 'AM' && hour === 12) hour = 0;
  const ms = Date.UTC(year!, month! - 1, day, hour, minute, second);
  const date = new Date(ms);
  return date.getUTCMonth() === month! - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute! < 60 &&
    second! < 60
    ? ms
    : undefined;
}
