import type { FieldValue } from '../core/index.js';
import type { Detection, IndicatorContext } from './detection.js';

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
  'indicator',
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

/** An indicator match's context in one line: `evil.com (domain) from feed.txt, confidence 72, seen 3 days ago`. */
export function indicatorText(indicator: IndicatorContext): string {
  const age = indicator.ageDays === undefined ? '' : `, seen ${indicator.ageDays} days ago`;
  const note = indicator.note ? ` (${indicator.note})` : '';
  return `${indicator.value} (${indicator.type}) from ${indicator.source}, confidence ${indicator.confidence}${age}${note}`;
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
    d.indicator && indicatorText(d.indicator),
  ]
    .map(csvCell)
    .join(',');
}

export function jsonLine(d: Detection): string {
  return JSON.stringify(d);
}
