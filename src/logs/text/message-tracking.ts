import { type FieldValue, parseTimestamp } from '../../core/index.js';
import { newFields } from '../windows-json.js';
import { splitCsvLine } from './csv.js';

/**
 * Exchange Server's message tracking logs (`MSGTRK*.LOG`, and `MSGTRKMD`, `MSGTRKMS`, `MSGTRKMA`):
 * `#Software: Microsoft Exchange Server`, `#Log-type: Message Tracking Log` and a `#Fields:` line
 * naming the comma-separated columns (`date-time,client-ip,…,event-id,…,recipient-address,…`),
 * then one event per line, values quoted as CSV when they hold a comma. Fields keep the header's
 * names; empty values are left out; `total-bytes` and `recipient-count` are numbers.
 */

/** Whether the file's first lines are a message tracking log's header. */
export function isMessageTrackingHead(lines: readonly string[]): boolean {
  return lines.some(
    (line) => /^#Log-type:\s*Message Tracking Log/i.test(line) || /^#Fields:\s*date-time,/.test(line),
  );
}

/** The columns a `#Fields:` line names; the columns so far for other directives. */
export function readMessageTrackingDirective(
  line: string,
  columns: string[] | undefined,
): string[] | undefined {
  const m = /^#Fields:\s*(.*)$/.exec(line);
  if (!m) return columns;
  return splitCsvLine(m[1]!.trim()) ?? columns;
}

const NUMBERS = new Set(['total-bytes', 'recipient-count']);

export function readMessageTrackingLine(
  line: string,
  columns: readonly string[] | undefined,
): { fields: Record<string, FieldValue>; time?: number } | string | undefined {
  if (!columns?.length) return 'a record before any #Fields: line';
  const values = splitCsvLine(line);
  if (!values) return undefined;
  if (values.length !== columns.length)
    return `${values.length} values where #Fields: names ${columns.length}`;
  const fields = newFields();
  columns.forEach((name, i) => {
    const value = values[i]!;
    if (value === '') return;
    fields[name] = NUMBERS.has(name) && /^\d{1,15}$/.test(value) ? Number(value) : value;
  });
  return { fields, time: parseTimestamp(fields['date-time']) };
}
