import { parseTimestamp } from '../core/index.js';
import {
  ALERT_SORTS,
  ALERT_STATUSES,
  type AlertQuery,
  type AlertSort,
  type AlertStatus,
} from '../service/index.js';
import { LEVELS } from '../sigma/index.js';

/** The queue's filters as the address bar carries them, checked: what the page shows and links keep. */
export interface QueueFilters {
  status: AlertStatus[];
  level: string[];
  rule?: string;
  host?: string;
  technique?: string;
  /** An assignee, or `-` for alerts nobody has taken. */
  assignee?: string;
  /** As typed in the form (`YYYY-MM-DDTHH:MM`, UTC), and as ms. */
  since?: string;
  until?: string;
  group?: 'rule' | 'host';
  sort: AlertSort;
  cursor?: string;
}

export const PAGE_SIZE = 50;

/** A filter value the console refuses, named so the page can say which. */
export class FilterError extends Error {}

function values(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

function one(raw: unknown): string | undefined {
  const value = (Array.isArray(raw) ? raw[0] : raw) as unknown;
  if (value === undefined) return undefined;
  const text = String(value).trim();
  return text === '' ? undefined : text.slice(0, 500);
}

function among<T extends string>(raw: unknown, allowed: readonly T[], name: string): T[] {
  const found = values(raw);
  const bad = found.find((v) => !allowed.includes(v as T));
  if (bad !== undefined) throw new FilterError(`${name} must be among ${allowed.join(', ')}`);
  return [...new Set(found)] as T[];
}

/** A time typed in the form (read as UTC when it names no zone), or an ISO 8601 time. */
function time(raw: unknown, name: string): { text: string; ms: number } | undefined {
  const text = one(raw);
  if (text === undefined) return undefined;
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
  const ms = parseTimestamp(zoned);
  if (ms === undefined) throw new FilterError(`${name} must be a date and time, such as 2026-01-31T08:00`);
  return { text, ms };
}

export function parseQueueFilters(query: Record<string, unknown>): QueueFilters {
  const group = one(query.group);
  if (group !== undefined && group !== 'rule' && group !== 'host')
    throw new FilterError('group must be rule or host');
  const sort = one(query.sort) ?? 'newest';
  if (!ALERT_SORTS.includes(sort as AlertSort))
    throw new FilterError(`sort must be among ${ALERT_SORTS.join(', ')}`);
  return {
    status: among(query.status, ALERT_STATUSES, 'status'),
    level: among(query.level, LEVELS, 'level'),
    rule: one(query.rule),
    host: one(query.host),
    technique: one(query.technique),
    assignee: one(query.assignee),
    since: time(query.since, 'since')?.text,
    until: time(query.until, 'until')?.text,
    group,
    sort: sort as AlertSort,
    cursor: one(query.cursor),
  };
}

/** The store query of the filters, within a tenant scope. */
export function storeQuery(filters: QueueFilters, scope: string | null): AlertQuery {
  return {
    tenant: scope,
    status: filters.status.length ? filters.status : undefined,
    level: filters.level.length ? filters.level : undefined,
    rule: filters.rule,
    host: filters.host,
    technique: filters.technique,
    assignee: filters.assignee === '-' ? null : filters.assignee,
    since: time(filters.since, 'since')?.ms,
    until: time(filters.until, 'until')?.ms,
    sort: filters.sort,
    limit: PAGE_SIZE,
    cursor: filters.cursor,
  };
}

/** The address of the queue with these filters, some changed (undefined or empty removes one). */
export function queueUrl(
  filters: QueueFilters,
  change: Partial<Record<keyof QueueFilters, unknown>> = {},
): string {
  const merged: Record<string, unknown> = { ...filters, ...change };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(merged)) {
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    if (key === 'sort' && value === 'newest') continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const search = params.toString();
  return `/console/alerts${search ? `?${search}` : ''}`;
}
