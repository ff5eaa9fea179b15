import Table from 'cli-table3';
import pc from 'picocolors';
import { formatLocation, VigilError } from '../core/index.js';
import type { Level } from '../sigma/index.js';

/** Terminal rendering shared by the commands: colours by level, tables, error lines. */

const LEVEL_COLOR: Record<Level, (text: string) => string> = {
  critical: (t) => pc.bold(pc.red(t)),
  high: pc.red,
  medium: pc.yellow,
  low: pc.cyan,
  informational: pc.dim,
};

export function colorLevel(level: Level, text: string = level): string {
  return LEVEL_COLOR[level](text);
}

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head: head.map((h) => pc.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) t.push(row.map(String));
  return t.toString();
}

export function heading(text: string): string {
  return pc.bold(text);
}

/** `file:line: message` for problems, in one line each, dimmed place. */
export function problemLine(error: VigilError): string {
  const where = formatLocation(error.location);
  return where ? `${pc.dim(`${where}:`)} ${error.message}` : error.message;
}

/** A count with its thousands grouped (12,345), by hand: toLocaleString loads locale data, 20 ms at start-up. */
export function formatCount(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  return `${n < 0 ? '-' : ''}${digits.replace(/\B(?=(\d{3})+$)/g, ',')}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** A short one-line reason with no stack, for errors the user can act on. */
export class UsageError extends VigilError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/**
 * Text from logs or documents shown on a terminal: control characters written as escapes, so the
 * input cannot drive the terminal, and the bidirectional overrides and isolates too, so it cannot
 * reorder what is shown (`invoice\u202egpj.exe`). Line breaks and tabs are kept.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeChar);
}

const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
}

/**
 * Text for one line of a table: as `printable`, and line breaks and tabs shown as ↵ and ⇥ (not as
 * `\n`, which a Windows path such as C:\new holds as it is), so a multi-line command line or
 * script block cannot break the rows apart.
 */
export function oneLine(text: string): string {
  return printable(text.replace(/\r\n|\r|\n/g, '↵').replace(/\t/g, '⇥'));
}

/** Exactly `width` characters of one-line text: cut with … or padded, so columns line up. */
export function fitCell(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}
