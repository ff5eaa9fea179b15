import { eventHost, type LogEvent } from '../core/index.js';
import type { Level } from '../sigma/index.js';
import { LEVEL_ORDER } from './detection.js';

/**
 * Which events a hunt or a search looks at: a time window and hosts. Events outside it are left
 * out before any rule sees them, so correlations count only the events inside, consistently with
 * what is reported. Plain data: it crosses threads.
 */
export interface EventScope {
  /** Milliseconds since the epoch, inclusive. */
  from?: number;
  /** Milliseconds since the epoch, inclusive. */
  to?: number;
  /** Host names as asked; compared without case, a short name matching any domain (`ws1`, `ws1.corp`). */
  hosts?: string[];
}

/** The test of an event scope, or undefined when it takes every event. */
export function eventScopeTest(scope: EventScope | undefined): ((event: LogEvent) => boolean) | undefined {
  if (!scope) return undefined;
  const { from, to } = scope;
  const hosts = scope.hosts?.map((host) => host.toLowerCase());
  const timed = from !== undefined || to !== undefined;
  if (!timed && !hosts?.length) return undefined;
  return (event) => {
    if (timed) {
      // An event without a time cannot be shown to be in the window.
      if (event.time === undefined) return false;
      if (from !== undefined && event.time < from) return false;
      if (to !== undefined && event.time > to) return false;
    }
    if (hosts?.length) {
      const host = eventHost(event)?.toLowerCase();
      if (host === undefined || !hosts.some((wanted) => sameHost(wanted, host))) return false;
    }
    return true;
  };
}

/** `ws1` is `ws1.corp.example` (and the other way round); two full names must be equal. */
function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.includes('.') && b.includes('.')) return false;
  return firstLabel(a) === firstLabel(b);
}

function firstLabel(host: string): string {
  const dot = host.indexOf('.');
  return dot < 0 ? host : host.slice(0, dot);
}

/**
 * Which rules' detections are reported: a minimum level, exact levels, statuses. Correlations
 * still see the matches of every rule, as with the minimum level. Plain data: it crosses threads.
 */
export interface ReportScope {
  minLevel?: Level;
  /** Only these levels (with the minimum level, both must hold). */
  levels?: Level[];
  /** Only rules of these statuses; a rule without a status is in no list. */
  statuses?: string[];
  /** Not rules of these statuses (the hunt's default leaves out deprecated and unsupported). */
  excludeStatuses?: string[];
}

/** Whether a rule (by its level and status) is one whose detections are reported. */
export function reportsRule(scope: ReportScope): (rule: { level?: Level; status?: string }) => boolean {
  const minRank = LEVEL_ORDER.indexOf(scope.minLevel ?? 'informational');
  const levels = scope.levels ? new Set(scope.levels) : undefined;
  const statuses = scope.statuses ? new Set(scope.statuses) : undefined;
  const excluded = new Set(scope.excludeStatuses ?? []);
  return (rule) => {
    // A rule without a level is reported as medium, as its detections are.
    const level = rule.level ?? 'medium';
    if (LEVEL_ORDER.indexOf(level) < minRank) return false;
    if (levels && !levels.has(level)) return false;
    if (statuses && (rule.status === undefined || !statuses.has(rule.status))) return false;
    return rule.status === undefined || !excluded.has(rule.status);
  };
}
