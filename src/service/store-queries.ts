import type { AlertFacets, AlertQuery, AlertSort, AlertStatus, DetectionQuery, Page } from './store.js';

/*
 * The queries of the alert queue and the detection list, built the same way for both stores: the
 * filters become a WHERE clause in the store's dialect, and every order pages by keyset behind an
 * opaque cursor (never by offset, so a page does not shift when alerts arrive).
 */

/** What differs between SQLite and PostgreSQL in the queries built here. */
export interface SqlDialect {
  /** The placeholder of the n-th parameter (1-based). */
  param(n: number): string;
  /** `column` equal to a parameter, without case. */
  sameText(column: string): string;
  /** A technique id, or one of its sub-techniques, among the alert's `techniques` (two parameters). */
  hasTechnique: string;
}

export const SQLITE_DIALECT: SqlDialect = {
  param: () => '?',
  sameText: (column) => `${column} = ? COLLATE NOCASE`,
  hasTechnique: `EXISTS (SELECT 1 FROM json_each(alerts.techniques) WHERE value = ? OR value LIKE ? || '.%')`,
};

/** Case-free comparisons read `lower(column)`, which the PostgreSQL schema indexes. */
export const POSTGRES_DIALECT: SqlDialect = {
  param: (n) => `$${n}`,
  sameText: (column) => `lower(${column}) = lower(?)`,
  hasTechnique: `EXISTS (SELECT 1 FROM jsonb_array_elements_text(alerts.techniques) AS t (value)
      WHERE t.value = ? OR t.value LIKE ? || '.%')`,
};

/** The WHERE of a query built from the filters given, with its parameters in order. */
export class Conditions {
  private readonly parts: string[] = [];
  readonly params: unknown[] = [];

  constructor(readonly dialect: SqlDialect) {}

  /** A condition whose parameters are written `?`, numbered here as the dialect wants them. */
  add(condition: string, ...params: unknown[]): void {
    let n = this.params.length;
    this.parts.push(condition.replace(/\?/g, () => this.dialect.param(++n)));
    this.params.push(...params);
  }

  /** The placeholder of the parameter after those of the conditions (a LIMIT). */
  next(): string {
    return this.dialect.param(this.params.length + 1);
  }

  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** The conditions of an alert query's filters. */
export function alertConditions(query: Omit<AlertQuery, 'cursor' | 'sort'>, dialect: SqlDialect): Conditions {
  const where = new Conditions(dialect);
  if (query.tenant !== null) where.add('tenant = ?', query.tenant);
  if (query.status?.length)
    where.add(`status IN (${query.status.map(() => '?').join(', ')})`, ...query.status);
  if (query.rule !== undefined)
    where.add(`(rule_id = ? OR ${dialect.sameText('rule_title')})`, query.rule, query.rule);
  if (query.host !== undefined) where.add(dialect.sameText('host'), query.host);
  if (query.level?.length) where.add(`level IN (${query.level.map(() => '?').join(', ')})`, ...query.level);
  if (query.assignee === null) where.add('assignee IS NULL');
  else if (query.assignee !== undefined) where.add(dialect.sameText('assignee'), query.assignee);
  if (query.technique !== undefined) {
    const id = query.technique.toUpperCase();
    where.add(dialect.hasTechnique, id, id);
  }
  if (query.since !== undefined) where.add('last_seen >= ?', query.since);
  if (query.until !== undefined) where.add('first_seen <= ?', query.until);
  if (query.afterId !== undefined) where.add('id > ?', query.afterId);
  return where;
}

/** The conditions of a detection query's filters. */
export function detectionConditions(query: DetectionQuery, dialect: SqlDialect): Conditions {
  const where = new Conditions(dialect);
  if (query.tenant !== null) where.add('tenant = ?', query.tenant);
  if (query.rule !== undefined)
    where.add(`(rule_id = ? OR ${dialect.sameText('rule_title')})`, query.rule, query.rule);
  if (query.since !== undefined) where.add('time >= ?', query.since);
  return where;
}

/** Opaque list positions: the id of the last item given (and its sort value, in another order than ids). */
export function encodeCursor(id: number, value?: number): string {
  return Buffer.from(value === undefined ? String(id) : `${value}:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const id = Number(Buffer.from(cursor, 'base64url').toString());
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function decodeSortCursor(cursor: string | undefined): { value: number; id: number } | undefined {
  if (cursor === undefined) return undefined;
  const match = /^(-?\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) return undefined;
  return { value: Number(match[1]), id: Number(match[2]) };
}

/** The column each queue order reads, newest (highest) first, ties broken by id. */
const SORT_COLUMNS: Record<AlertSort, 'id' | 'last_seen' | 'level_rank' | 'count'> = {
  newest: 'id',
  last_seen: 'last_seen',
  level: 'level_rank',
  count: 'count',
};

/**
 * A keyset page of a table, newest (or highest) first: the SELECT to run, its parameters, and how to turn the rows it returns into the page and the next cursor.
 */
export function pageQuery<Row extends { id: number }>(
  table: 'alerts' | 'detections',
  where: Conditions,
  query: { limit: number; cursor?: string; sort?: AlertSort },
): { sql: string; params: unknown[]; page<T>(rows: Row[], map: (row: Row) => T): Page<T> } {
  const column = SORT_COLUMNS[query.sort ?? 'newest'];
  if (column === 'id') {
    const after = decodeCursor(query.cursor);
    if (after !== undefined) where.add('id < ?', after);
  } else {
    const after = decodeSortCursor(query.cursor);
    if (after) where.add(`(${column} < ? OR (${column} = ? AND id < ?))`, after.value, after.value, after.id);
  }
  const order = column === 'id' ? 'id DESC' : `${column} DESC, id DESC`;
  const sql = `SELECT * FROM ${table} ${where.sql} ORDER BY ${order} LIMIT ${where.next()}`;
  return {
    sql,
    params: [...where.params, query.limit + 1],
    page(rows, map) {
      const items = rows.slice(0, query.limit);
      const last = items.at(-1);
      const more = rows.length > query.limit && last !== undefined;
      const value =
        column === 'id' ? undefined : (last as unknown as Record<string, number> | undefined)?.[column];
      return { items: items.map(map), next: more ? encodeCursor(last.id, value) : null };
    },
  };
}

/** The biggest groups (by rule or host) of the alerts a query selects: the SELECT and its parameters. */
export function alertGroupsQuery(
  query: Omit<AlertQuery, 'cursor' | 'sort'>,
  by: 'rule' | 'host',
  dialect: SqlDialect,
): { sql: string; params: unknown[] } {
  const where = alertConditions(query, dialect);
  const select =
    by === 'rule'
      ? 'COALESCE(MAX(rule_id), MAX(rule_title)) AS key, MAX(rule_title) AS label'
      : 'host AS key, host AS label';
  const sql = `SELECT ${select}, COUNT(*) AS count FROM alerts ${where.sql} GROUP BY ${by === 'rule' ? 'rule_key' : 'host'} ORDER BY count DESC, label LIMIT ${where.next()}`;
  return { sql, params: [...where.params, query.limit] };
}

/** Alert counts by status and level (rows of `GROUP BY status, level`) as the console's facets. */
export function alertFacetsOf(
  rows: readonly { status: AlertStatus; level: string; n: number }[],
): AlertFacets {
  const facets: AlertFacets = { status: { open: 0, acknowledged: 0, closed: 0 }, level: {} };
  for (const row of rows) {
    facets.status[row.status] += row.n;
    facets.level[row.level] = (facets.level[row.level] ?? 0) + row.n;
  }
  return facets;
}

export function alertCountsOf(
  rows: readonly { status: AlertStatus; n: number }[],
): Record<AlertStatus, number> {
  const counts: Record<AlertStatus, number> = { open: 0, acknowledged: 0, closed: 0 };
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}
