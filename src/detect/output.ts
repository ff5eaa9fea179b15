import type { FieldValue } from '../core/index.js';
import type { Detection } from './detection.js';

/** Machine formats of detections, one line per detection, for piping into other systems. */
export type DetectionFormat = 'table' | 'jsonl' | 'csv';

export const CSV_COLUMNS = [
  'time',
  'level',
  'rule_id',
  'rule_title',
  'rule_author',
  'techniques',
  'tactics',
  'host',
  'channel',
  'event_id',
  'file',
  'record',
  'matched',
] as const;

/**
 * A CSV cell. Text that a spreadsheet would run as a formula (starting with = + - @, a tab or a
 * carriage return: event data is attacker-controlled) is prefixed with a quote, as OWASP advises.
 */
export function csvCell(value: unknown): string {
  let text =
    value === undefined || value === null ? '' : Array.isArray(value) ? value.join('; ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function valueText(value: FieldValue): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** `Field=value; Field=value`, the matched fields in one cell. */
export function matchedText(matched: Record<string, FieldValue>): string {
  return Object.entries(matched)
    .map(([field, value]) => `${field}=${valueText(value)}`)
    .join('; ');
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function csvRow(d: Detection): string {
  return [
    d.time,
    d.rule.level,
    d.rule.id,
    d.rule.title,
    d.rule.author,
    d.techniques.join(' '),
    d.tactics.join(' '),
    d.host,
    d.channel,
    d.eventId === undefined ? '' : valueText(d.eventId),
    d.source.file,
    d.source.record,
    matchedText(d.matched),
  ]
    .map(csvCell)
    .join(',');
}

export function jsonLine(d: Detection): string {
  return JSON.stringify(d);
}
