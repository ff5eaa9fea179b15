import { isAccessLine } from './access.js';
import { isAuditLine } from './auditd.js';
import { isCsvHeader, isCsvTypeLine } from './csv.js';
import { isEximLine } from './exim.js';
import { isMessageTrackingHead } from './message-tracking.js';
import { isSquidLine } from './squid.js';
import { isW3cDirective } from './w3c.js';
import { isZeekHeader } from './zeek-tsv.js';

/** The text log formats Vigil reads; JSON and EVTX have readers of their own. */
export const TEXT_FORMATS = [
  'auditd',
  'syslog',
  'access',
  'w3c',
  'zeek-tsv',
  'squid',
  'exim',
  'message-tracking',
  'csv',
] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];

export type LogFormat = TextFormat | 'json' | 'evtx';

const SYSLOG_START = [
  /^<\d{1,3}>/,
  // RFC 3164: `Mar 27 13:06:56 host program[pid]: text`
  /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ /,
  // rsyslog's high-precision template: `2024-05-01T10:00:00.123456+02:00 host program: text`
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) \S+ /,
];

/**
 * The format of a log file, from its first bytes (never from its name): EVTX by its signature,
 * JSON by its first character, a text format by its first line (its header for Zeek, W3C,
 * Exchange message tracking and CSV).
 * Undefined when no format fits: the file is read as JSON, which reports what is wrong.
 */
export function sniffFormat(head: Buffer): LogFormat | undefined {
  if (head.subarray(0, 8).toString('latin1') === 'ElfFile\0') return 'evtx';
  let text = head.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/, 16);
  const first = lines.find((line) => line.trim() !== '');
  if (first === undefined) return undefined;
  const trimmed = first.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'json';
  if (isZeekHeader(first)) return 'zeek-tsv';
  // Exchange's header starts as a W3C one does (`#Software:`), but its columns are comma-separated.
  if (first.startsWith('#') && isMessageTrackingHead(lines)) return 'message-tracking';
  if (isW3cDirective(first)) return 'w3c';
  if (isAuditLine(first)) return 'auditd';
  if (isSquidLine(first)) return 'squid';
  if (isAccessLine(first)) return 'access';
  if (SYSLOG_START.some((start) => start.test(first))) return 'syslog';
  if (isEximLine(first)) return 'exim';
  if (isCsvTypeLine(first) || isCsvHeader(first)) return 'csv';
  return undefined;
}
