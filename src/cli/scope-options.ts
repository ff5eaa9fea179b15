import type { Command } from 'commander';
import { calendarDay, parseTimestamp } from '../core/index.js';
import type { EventScope, ReportScope } from '../detect/index.js';
import { LEVELS, type Level, STATUSES } from '../sigma/index.js';
import { printable, UsageError } from './terminal.js';

/** The options that narrow which events a hunt or a search looks at, and which detections a hunt reports. */

export interface EventScopeFlags {
  from?: string;
  since?: string;
  to?: string;
  host?: string[];
}

export interface ReportScopeFlags {
  minLevel: Level;
  level?: string;
  ruleStatus?: string;
}

/** Values of a repeatable option, each of which may also be a comma-separated list. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  ];
}

export function addEventScopeOptions(command: Command): Command {
  return command
    .option(
      '--from <time>',
      'only events at or after this time: 2024-05-01, 2024-05-01T10:00:00 (UTC unless an offset is given), or 24h, 7d ago',
    )
    .option('--since <time>', 'the same as --from')
    .option('--to <time>', 'only events at or before this time (a date alone: up to the end of that day)')
    .option(
      '--host <name>',
      'only events of this host (Computer), without case; ws1 also matches ws1.corp.example; repeatable or comma-separated',
      collectList,
    );
}

export function addReportScopeOptions(command: Command): Command {
  return command
    .option(
      '--level <levels>',
      `report only detections of these levels, comma-separated (${LEVELS.join(', ')})`,
    )
    .option(
      '--rule-status <statuses>',
      `report only detections of rules of these statuses, comma-separated (${STATUSES.join(', ')}, or all; default: all but deprecated and unsupported)`,
    );
}

const RELATIVE = /^(\d+)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/**
 * A time given to --from or --to, in milliseconds: an ISO date or date and time (UTC unless it
 * carries an offset, as logs write times), or a span back from now (`30m`, `24h`, `7d`, `2w`). A
 * date alone starts its day for --from and ends it for --to, so `--from D --to D` is that day.
 */
export function parseTimeBound(text: string, option: '--from' | '--to', now: number): number {
  const trimmed = text.trim();
  const relative = RELATIVE.exec(trimmed);
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2]!.toLowerCase()]!;
  const day = calendarDay(trimmed);
  if (day !== undefined) return option === '--to' ? day + UNIT_MS.d! - 1 : day;
  const time = /^\d{4}-\d{2}-\d{2}[ T]\d/.test(trimmed) ? parseTimestamp(trimmed) : undefined;
  if (time === undefined) {
    throw new UsageError(
      `${option} takes a date (2024-05-01), a date and time (2024-05-01T10:00:00, +02:00 for a local time) or a span back from now (24h, 7d), not '${text}'`,
    );
  }
  return time;
}

export function eventScope(flags: EventScopeFlags, now = Date.now()): EventScope {
  if (flags.since !== undefined && flags.from !== undefined)
    throw new UsageError('give --from or --since, not both');
  const fromText = flags.from ?? flags.since;
  const from = fromText === undefined ? undefined : parseTimeBound(fromText, '--from', now);
  const to = flags.to === undefined ? undefined : parseTimeBound(flags.to, '--to', now);
  if (from !== undefined && to !== undefined && from > to)
    throw new UsageError(`--from (${fromText}) is after --to (${flags.to})`);
  return { from, to, hosts: flags.host?.length ? flags.host : undefined };
}

/** The statuses a hunt leaves out unless asked: SigmaHQ's own verdict that they should not run. */
const EXCLUDED_BY_DEFAULT = ['deprecated', 'unsupported'];

export function reportScope(flags: ReportScopeFlags): ReportScope {
  if (!LEVELS.includes(flags.minLevel))
    throw new UsageError(`--min-level must be one of ${LEVELS.join(', ')}, not '${flags.minLevel}'`);
  const levels = flags.level === undefined ? undefined : listOf(flags.level, '--level', LEVELS);
  if (flags.ruleStatus === undefined)
    return { minLevel: flags.minLevel, levels, excludeStatuses: EXCLUDED_BY_DEFAULT };
  if (flags.ruleStatus.trim().toLowerCase() === 'all') return { minLevel: flags.minLevel, levels };
  return { minLevel: flags.minLevel, levels, statuses: listOf(flags.ruleStatus, '--rule-status', STATUSES) };
}

function listOf<T extends string>(text: string, option: string, allowed: readonly T[]): T[] {
  const values = collectList(text.toLowerCase());
  const unknown = values.filter((value) => !allowed.includes(value as T));
  if (values.length === 0 || unknown.length)
    throw new UsageError(
      `${option} takes ${allowed.join(', ')}, comma-separated; not '${unknown.join(',') || text}'`,
    );
  return values as T[];
}

/** Why the event scope left events out, as summaries say it. */
export function describeScope(scope: EventScope): string {
  const parts: string[] = [];
  const iso = (ms: number) => new Date(ms).toISOString();
  if (scope.from !== undefined || scope.to !== undefined) {
    parts.push(
      `outside ${scope.from === undefined ? 'the start' : iso(scope.from)} to ${scope.to === undefined ? 'the end' : iso(scope.to)} (or without a time)`,
    );
  }
  if (scope.hosts?.length) parts.push(`not on ${scope.hosts.map(printable).join(', ')}`);
  return parts.join('; ');
}
