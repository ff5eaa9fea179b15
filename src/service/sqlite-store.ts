import { randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { FieldValue } from '../core/index.js';
import { type Detection, LEVEL_ORDER } from '../detect/index.js';
import type { Facts } from '../respond/index.js';
import { actorName, newToken, type Principal, type Role, tokenHash } from './access.js';
import {
  type AuditEntry,
  type AuditRecord,
  type AuditVerdict,
  auditHash,
  GENESIS_HASH,
  verifyAuditChain,
} from './audit.js';
import { SERVICE_MIGRATIONS } from './schema.js';
import { openSqlite, type Sqlite } from './sqlite.js';
import type {
  Alert,
  AlertDetail,
  AlertFacets,
  AlertGroup,
  AlertQuery,
  AlertSort,
  AlertStatus,
  BatchOutcome,
  CloseReason,
  CommitResult,
  DetectionQuery,
  DisabledRule,
  NewDetection,
  NewSuppression,
  Page,
  ResponseChange,
  ResponseRecord,
  RetroHunt,
  RuleHits,
  ServiceStore,
  Session,
  SessionInfo,
  SessionLimits,
  StoredDetection,
  Suppression,
  TenantStats,
  TokenInfo,
  TriageChange,
  WatchPosition,
} from './store.js';

interface AlertRow {
  id: number;
  tenant: string;
  rule_key: string;
  rule_id: string | null;
  rule_title: string;
  level: string;
  level_rank: number;
  host: string;
  techniques: string;
  first_seen: number;
  last_seen: number;
  count: number;
  status: AlertStatus;
  assignee: string | null;
  close_reason: CloseReason | null;
  created_at: string;
  updated_at: string;
}

interface DetectionRow {
  id: number;
  tenant: string;
  alert_id: number | null;
  suppression_id: number | null;
  seq: number;
  received: number;
  created_at: string;
  detection: string;
  events: string;
}

interface SuppressionRow {
  id: number;
  tenant: string | null;
  rule: string | null;
  host: string | null;
  field: string | null;
  value: string | null;
  until: string;
  created_by: string;
  reason: string;
  created_at: string;
  hits: number;
}

interface HuntRow {
  id: number;
  tenant: string;
  requested_by: string;
  rules: string;
  since: number | null;
  until: number | null;
  status: RetroHunt['status'];
  error: string | null;
  events: number;
  detections: number;
  started_at: string;
  finished_at: string | null;
}

function toHunt(row: HuntRow): RetroHunt {
  return {
    id: row.id,
    tenant: row.tenant,
    requestedBy: row.requested_by,
    rules: row.rules,
    since: row.since,
    until: row.until,
    status: row.status,
    error: row.error,
    events: row.events,
    detections: row.detections,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

interface AuditRow {
  seq: number;
  time: string;
  actor: string;
  action: string;
  tenant: string | null;
  target: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

/** The key detections of one rule share: its id, or where it was written when it has none. */
export function ruleKey(rule: Detection['rule']): string {
  return rule.id ?? `${rule.file}#${rule.title}`;
}

function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    tenant: row.tenant,
    rule: { id: row.rule_id, title: row.rule_title, level: row.level },
    host: row.host,
    techniques: JSON.parse(row.techniques) as string[],
    firstSeen: new Date(row.first_seen).toISOString(),
    lastSeen: new Date(row.last_seen).toISOString(),
    count: row.count,
    status: row.status,
    assignee: row.assignee,
    closeReason: row.close_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDetection(row: DetectionRow): StoredDetection {
  return {
    id: row.id,
    tenant: row.tenant,
    alertId: row.alert_id,
    suppressionId: row.suppression_id,
    seq: row.seq,
    receivedAt: new Date(row.received).toISOString(),
    createdAt: row.created_at,
    detection: JSON.parse(row.detection) as Detection,
    events: JSON.parse(row.events) as unknown[],
  };
}

function toSuppression(row: SuppressionRow): Suppression {
  return {
    id: row.id,
    tenant: row.tenant,
    rule: row.rule,
    host: row.host,
    field: row.field,
    value: row.value,
    until: row.until,
    createdBy: row.created_by,
    reason: row.reason,
    createdAt: row.created_at,
    hits: row.hits,
  };
}

function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    time: row.time,
    actor: row.actor,
    action: row.action,
    tenant: row.tenant,
    target: row.target,
    details: JSON.parse(row.details) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
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
const SORT_COLUMNS: Record<Exclude<AlertSort, 'newest'>, 'last_seen' | 'level_rank' | 'count'> = {
  last_seen: 'last_seen',
  level: 'level_rank',
  count: 'count',
};

interface SessionRow {
  id: number;
  token_id: number;
  csrf: string;
  tenant: string | null;
  created_at: number;
  last_seen: number;
  expires_at: number;
  ended_at: number | null;
  label: string | null;
  role: Role;
  token_tenant: string | null;
  revoked_at: string | null;
}

/** A session's idle time is renewed at most this often (or a quarter of it), so reading pages does not write on each one. */
const SESSION_TOUCH_MS = 30_000;

function textOf(value: FieldValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Whether a suppression covers a detection (every attribute it sets must hold; text compared without case). */
export function suppresses(
  suppression: Suppression,
  detection: Detection,
  fields: () => Readonly<Record<string, FieldValue>>,
): boolean {
  const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  if (
    suppression.rule !== null &&
    suppression.rule !== detection.rule.id &&
    !same(detection.rule.title, suppression.rule)
  )
    return false;
  if (suppression.host !== null && !same(detection.host, suppression.host)) return false;
  if (suppression.field !== null) {
    const value = textOf(detection.matched[suppression.field]) ?? textOf(fields()[suppression.field]);
    if (suppression.value === null ? value === undefined : !same(value, suppression.value)) return false;
  }
  return true;
}

/** The embedded store: one SQLite database in the data folder. */
export class SqliteServiceStore implements ServiceStore {
  private readonly db: Sqlite;
  private readonly statements = new Map<string, Statement>();
  /** Suppressions by tenant ('' for those of every tenant), read once and refreshed on change. */
  private suppressionCache: Suppression[] | undefined;

  constructor(path: string) {
    this.db = openSqlite(path, SERVICE_MIGRATIONS);
  }

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private now(): string {
    return new Date().toISOString();
  }

  async addTenant(name: string, actor: string): Promise<void> {
    this.db.transaction(() => {
      this.sql('INSERT INTO tenants (name, created_at) VALUES (?, ?)').run(name, this.now());
      this.appendAudit({ actor, action: 'tenant.add', tenant: name, target: name, details: {} });
    })();
  }

  async tenants(): Promise<{ name: string; createdAt: string }[]> {
    return (
      this.sql('SELECT name, created_at FROM tenants ORDER BY name').all() as {
        name: string;
        created_at: string;
      }[]
    ).map((row) => ({ name: row.name, createdAt: row.created_at }));
  }

  async hasTenant(name: string): Promise<boolean> {
    return this.sql('SELECT 1 FROM tenants WHERE name = ?').get(name) !== undefined;
  }

  async addToken(
    token: { role: Role; tenant: string | null; label: string | null },
    actor: string,
  ): Promise<{ id: number; secret: string }> {
    const secret = newToken();
    const id = this.db.transaction(() => {
      const result = this.sql(
        'INSERT INTO tokens (hash, label, role, tenant, created_at) VALUES (?, ?, ?, ?, ?)',
      ).run(tokenHash(secret), token.label, token.role, token.tenant, this.now());
      const id = Number(result.lastInsertRowid);
      this.appendAudit({
        actor,
        action: 'token.add',
        tenant: token.tenant,
        target: String(id),
        details: { role: token.role, label: token.label },
      });
      return id;
    })();
    return { id, secret };
  }

  async authenticate(secret: string): Promise<Principal | undefined> {
    const row = this.sql(
      'SELECT id, label, role, tenant FROM tokens WHERE hash = ? AND revoked_at IS NULL',
    ).get(tokenHash(secret)) as
      | { id: number; label: string | null; role: Role; tenant: string | null }
      | undefined;
    return row && { tokenId: row.id, label: row.label, role: row.role, tenant: row.tenant };
  }

  async listTokens(): Promise<TokenInfo[]> {
    const rows = this.sql(
      'SELECT id, label, role, tenant, created_at, revoked_at FROM tokens ORDER BY id',
    ).all() as {
      id: number;
      label: string | null;
      role: Role;
      tenant: string | null;
      created_at: string;
      revoked_at: string | null;
    }[];
    return rows.map((row) => ({
      id: row.id,
      label: row.label,
      role: row.role,
      tenant: row.tenant,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
    }));
  }

  async revokeToken(id: number, actor: string): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.sql('SELECT tenant FROM tokens WHERE id = ? AND revoked_at IS NULL').get(id) as
        | { tenant: string | null }
        | undefined;
      if (!row) return false;
      this.sql('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(this.now(), id);
      this.appendAudit({
        actor,
        action: 'token.revoke',
        tenant: row.tenant,
        target: String(id),
        details: {},
      });
      return true;
    })();
  }

  async startSession(
    principal: Principal,
    limits: SessionLimits,
  ): Promise<{ secret: string; session: Session }> {
    const secret = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = Date.now();
    const expiresAt = now + Math.min(limits.idleMs, limits.absoluteMs);
    const id = this.db.transaction(() => {
      const result = this.sql(
        'INSERT INTO sessions (hash, token_id, csrf, tenant, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(tokenHash(secret), principal.tokenId, csrf, principal.tenant, now, now, expiresAt);
      const id = Number(result.lastInsertRowid);
      this.appendAudit({
        actor: actorName(principal),
        action: 'session.start',
        tenant: principal.tenant,
        target: String(id),
        details: {},
      });
      return id;
    })();
    return { secret, session: { id, principal, tenant: principal.tenant, csrf, expiresAt } };
  }

  async session(secret: string, limits: SessionLimits, use = true): Promise<Session | undefined> {
    const row = this.sql(
      `SELECT s.*, t.label, t.role, t.tenant AS token_tenant, t.revoked_at
         FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.hash = ?`,
    ).get(tokenHash(secret)) as SessionRow | undefined;
    const now = Date.now();
    if (!row || row.ended_at !== null || row.revoked_at !== null) return undefined;
    const absoluteEnd = row.created_at + limits.absoluteMs;
    if (now >= row.expires_at || now >= absoluteEnd || now >= row.last_seen + limits.idleMs) return undefined;
    let expiresAt = row.expires_at;
    if (use && now - row.last_seen >= Math.min(SESSION_TOUCH_MS, limits.idleMs / 4)) {
      expiresAt = Math.min(now + limits.idleMs, absoluteEnd);
      this.sql('UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id = ?').run(now, expiresAt, row.id);
    }
    return {
      id: row.id,
      principal: { tokenId: row.token_id, label: row.label, role: row.role, tenant: row.token_tenant },
      tenant: row.token_tenant ?? row.tenant,
      csrf: row.csrf,
      expiresAt,
    };
  }

  async chooseSessionTenant(id: number, tenant: string | null): Promise<void> {
    this.sql('UPDATE sessions SET tenant = ? WHERE id = ?').run(tenant, id);
  }

  async endSession(id: number, actor: string, reason: 'sign-out' | 'revoked'): Promise<boolean> {
    return this.db.transaction(() => {
      const row = this.sql(
        'SELECT s.tenant, t.tenant AS token_tenant FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.id = ? AND s.ended_at IS NULL',
      ).get(id) as { tenant: string | null; token_tenant: string | null } | undefined;
      if (!row) return false;
      this.sql('UPDATE sessions SET ended_at = ? WHERE id = ?').run(Date.now(), id);
      this.appendAudit({
        actor,
        action: 'session.end',
        tenant: row.token_tenant,
        target: String(id),
        details: { reason },
      });
      return true;
    })();
  }

  async listSessions(): Promise<SessionInfo[]> {
    const rows = this.sql(
      `SELECT s.*, t.label, t.role, t.tenant AS token_tenant, t.revoked_at
         FROM sessions s JOIN tokens t ON t.id = s.token_id ORDER BY s.id`,
    ).all() as SessionRow[];
    const iso = (ms: number) => new Date(ms).toISOString();
    return rows.map((row) => ({
      id: row.id,
      tokenId: row.token_id,
      label: row.label,
      role: row.role,
      tenant: row.token_tenant,
      createdAt: iso(row.created_at),
      lastSeen: iso(row.last_seen),
      expiresAt: iso(row.expires_at),
      endedAt: row.ended_at === null ? (row.revoked_at ?? null) : iso(row.ended_at),
    }));
  }

  async audit(record: AuditRecord): Promise<AuditEntry> {
    return this.db.transaction(() => this.appendAudit(record))();
  }

  /** Within the caller's transaction, so the change and its record stand or fall together. */
  private appendAudit(record: AuditRecord): AuditEntry {
    const last = this.sql('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
      | { seq: number; hash: string }
      | undefined;
    const entry = {
      seq: (last?.seq ?? 0) + 1,
      time: this.now(),
      ...record,
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const full: AuditEntry = { ...entry, hash: auditHash(entry) };
    this.sql(
      'INSERT INTO audit (seq, time, actor, action, tenant, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      full.seq,
      full.time,
      full.actor,
      full.action,
      full.tenant,
      full.target,
      JSON.stringify(full.details),
      full.prevHash,
      full.hash,
    );
    return full;
  }

  async verifyAudit(): Promise<AuditVerdict> {
    const rows = this.sql('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>;
    return verifyAuditChain(
      (function* () {
        for (const row of rows) yield toAuditEntry(row);
      })(),
    );
  }

  async auditEntries(after: number, limit: number): Promise<AuditEntry[]> {
    return (
      this.sql('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?').all(after, limit) as AuditRow[]
    ).map(toAuditEntry);
  }

  async position(tenant: string): Promise<number> {
    const row = this.sql('SELECT processed FROM positions WHERE tenant = ?').get(tenant) as
      | { processed: number }
      | undefined;
    return row?.processed ?? 0;
  }

  async snapshot(tenant: string): Promise<{ seq: number; state: string } | undefined> {
    return this.sql('SELECT seq, state FROM snapshots WHERE tenant = ?').get(tenant) as
      | { seq: number; state: string }
      | undefined;
  }

  private activeSuppressions(tenant: string, now: string): Suppression[] {
    this.suppressionCache ??= (this.sql('SELECT * FROM suppressions').all() as SuppressionRow[]).map(
      toSuppression,
    );
    return this.suppressionCache.filter((s) => (s.tenant === null || s.tenant === tenant) && s.until > now);
  }

  async commit(batch: BatchOutcome): Promise<CommitResult> {
    const result: CommitResult = { stored: 0, suppressed: 0, opened: [] };
    const now = this.now();
    const suppressions = batch.detections.length ? this.activeSuppressions(batch.tenant, now) : [];
    this.db.transaction(() => {
      const seen = this.storedKeys(batch.tenant, batch.detections);
      const alerts = new AlertGrouping(this, batch.tenant, now);
      for (const found of batch.detections) {
        // Found before: a replay after a restart, or the same detection twice in one batch.
        if (seen.has(found.key)) continue;
        seen.add(found.key);
        this.storeDetection(batch.tenant, found, suppressions, alerts, now, result);
        result.stored++;
      }
      alerts.finish(result);
      this.sql(
        'INSERT INTO positions (tenant, processed) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET processed = MAX(processed, excluded.processed)',
      ).run(batch.tenant, batch.processed);
      if (batch.snapshot) {
        this.sql(
          'INSERT INTO snapshots (tenant, seq, state, taken_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, state = excluded.state, taken_at = excluded.taken_at',
        ).run(batch.tenant, batch.snapshot.seq, batch.snapshot.state, now);
      }
    })();
    return result;
  }

  /** Which of these detections the tenant has stored already, asked in a few queries for the whole batch. */
  private storedKeys(tenant: string, detections: readonly NewDetection[]): Set<string> {
    const seen = new Set<string>();
    const CHUNK = 500;
    for (let i = 0; i < detections.length; i += CHUNK) {
      const keys = detections.slice(i, i + CHUNK).map((d) => d.key);
      const rows = this.db
        .prepare(`SELECT key FROM detections WHERE tenant = ? AND key IN (${keys.map(() => '?').join(', ')})`)
        .all(tenant, ...keys) as { key: string }[];
      for (const row of rows) seen.add(row.key);
    }
    return seen;
  }

  private storeDetection(
    tenant: string,
    found: NewDetection,
    suppressions: Suppression[],
    alerts: AlertGrouping,
    now: string,
    result: CommitResult,
  ): void {
    const { detection } = found;
    const key = ruleKey(detection.rule);
    const suppression = suppressions.find((s) => suppresses(s, detection, found.fields));
    let alertId: number | null = null;
    if (suppression) {
      suppression.hits++;
      result.suppressed++;
      this.sql('UPDATE suppressions SET hits = hits + 1 WHERE id = ?').run(suppression.id);
    } else {
      alertId = alerts.join(key, detection, detection.timeMs ?? Date.parse(now), found.alertWindowMs);
    }
    this.sql(
      `INSERT INTO detections (tenant, key, seq, time, received, rule_key, rule_id, rule_title, level, host, alert_id, suppression_id, detection, events, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      tenant,
      found.key,
      found.seq,
      detection.timeMs ?? null,
      found.received,
      key,
      detection.rule.id ?? null,
      detection.rule.title,
      detection.rule.level,
      detection.host ?? null,
      alertId,
      suppression?.id ?? null,
      JSON.stringify(detection),
      found.events,
      now,
    );
  }

  /** An open alert of a rule and host that takes a detection at `time`, from the database. */
  openAlertFor(
    tenant: string,
    key: string,
    host: string,
    time: number,
    windowMs: number,
  ): AlertRow | undefined {
    return this.sql(
      `SELECT * FROM alerts WHERE tenant = ? AND rule_key = ? AND host = ? AND status != 'closed'
         AND last_seen >= ? AND first_seen <= ? ORDER BY last_seen DESC LIMIT 1`,
    ).get(tenant, key, host, time - windowMs, time + windowMs) as AlertRow | undefined;
  }

  newAlert(tenant: string, key: string, detection: Detection, time: number, now: string): number {
    const created = this.sql(
      `INSERT INTO alerts (tenant, rule_key, rule_id, rule_title, level, level_rank, host, techniques, first_seen, last_seen, count, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'open', ?, ?)`,
    ).run(
      tenant,
      key,
      detection.rule.id ?? null,
      detection.rule.title,
      detection.rule.level,
      LEVEL_ORDER.indexOf(detection.rule.level),
      detection.host ?? '',
      JSON.stringify(detection.techniques),
      time,
      time,
      now,
      now,
    );
    return Number(created.lastInsertRowid);
  }

  /** Adds what a batch brought to an alert: more detections, a wider span, maybe a higher level. */
  growAlert(id: number, growth: AlertGrowth, now: string): void {
    this.sql(
      `UPDATE alerts SET count = count + ?, first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?),
         level = CASE WHEN ? > level_rank THEN ? ELSE level END, level_rank = MAX(level_rank, ?), updated_at = ?
       WHERE id = ?`,
    ).run(growth.count, growth.first, growth.last, growth.rank, growth.level, growth.rank, now, id);
  }

  alertRow(id: number): Alert {
    return toAlert(this.sql('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow);
  }

  async alerts(query: AlertQuery): Promise<Page<Alert>> {
    const where = alertConditions(query);
    const sort = query.sort ?? 'newest';
    if (sort === 'newest') {
      const rows = this.page('alerts', where, query) as AlertRow[];
      return page(rows.map(toAlert), query.limit);
    }
    const column = SORT_COLUMNS[sort];
    const after = decodeSortCursor(query.cursor);
    if (after) where.add(`(${column} < ? OR (${column} = ? AND id < ?))`, after.value, after.value, after.id);
    const rows = this.db
      .prepare(`SELECT * FROM alerts ${where.sql} ORDER BY ${column} DESC, id DESC LIMIT ?`)
      .all(...where.params, query.limit + 1) as AlertRow[];
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return {
      items: items.map(toAlert),
      next: rows.length > query.limit && last ? encodeCursor(last.id, last[column]) : null,
    };
  }

  async alertFacets(tenant: string | null): Promise<AlertFacets> {
    const rows = this.db
      .prepare(
        `SELECT status, level, COUNT(*) AS n FROM alerts ${tenant === null ? '' : 'WHERE tenant = ?'} GROUP BY status, level`,
      )
      .all(...(tenant === null ? [] : [tenant])) as { status: AlertStatus; level: string; n: number }[];
    const facets: AlertFacets = { status: { open: 0, acknowledged: 0, closed: 0 }, level: {} };
    for (const row of rows) {
      facets.status[row.status] += row.n;
      facets.level[row.level] = (facets.level[row.level] ?? 0) + row.n;
    }
    return facets;
  }

  async alertGroups(query: Omit<AlertQuery, 'cursor' | 'sort'>, by: 'rule' | 'host'): Promise<AlertGroup[]> {
    const where = alertConditions(query);
    const select =
      by === 'rule'
        ? 'COALESCE(rule_id, rule_title) AS key, MAX(rule_title) AS label'
        : 'host AS key, host AS label';
    const rows = this.db
      .prepare(
        `SELECT ${select}, COUNT(*) AS count FROM alerts ${where.sql} GROUP BY ${by === 'rule' ? 'rule_key' : 'host'} ORDER BY count DESC, label LIMIT ?`,
      )
      .all(...where.params, query.limit) as AlertGroup[];
    return rows;
  }

  /** A page of a table, newest first, after the cursor's row. */
  private page(
    table: 'alerts' | 'detections',
    where: Conditions,
    query: { limit: number; cursor?: string },
  ): unknown[] {
    const after = decodeCursor(query.cursor);
    if (after !== undefined) where.add('id < ?', after);
    return this.db
      .prepare(`SELECT * FROM ${table} ${where.sql} ORDER BY id DESC LIMIT ?`)
      .all(...where.params, query.limit + 1);
  }

  async alert(tenant: string | null, id: number): Promise<AlertDetail | undefined> {
    const row = this.sql('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    if (!row || (tenant !== null && row.tenant !== tenant)) return undefined;
    const detections = (
      this.sql('SELECT * FROM detections WHERE alert_id = ? ORDER BY time, id LIMIT 1000').all(
        id,
      ) as DetectionRow[]
    ).map(toDetection);
    const history = (
      this.sql('SELECT time, actor, change FROM alert_history WHERE alert_id = ? ORDER BY id').all(id) as {
        time: string;
        actor: string;
        change: string;
      }[]
    ).map((h) => ({ time: h.time, actor: h.actor, change: JSON.parse(h.change) as Record<string, unknown> }));
    return { ...toAlert(row), detections, history };
  }

  async triage(
    tenant: string | null,
    id: number,
    change: TriageChange,
    actor: string,
  ): Promise<Alert | undefined> {
    return this.db.transaction(() => {
      const row = this.sql('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
      if (!row || (tenant !== null && row.tenant !== tenant)) return undefined;
      const status = change.status ?? row.status;
      const closeReason = status === 'closed' ? (change.closeReason ?? row.close_reason) : null;
      const assignee = change.assignee === undefined ? row.assignee : change.assignee;
      const recorded: Record<string, unknown> = {};
      if (status !== row.status) recorded.status = { from: row.status, to: status };
      if (closeReason !== row.close_reason)
        recorded.close_reason = { from: row.close_reason, to: closeReason };
      if (assignee !== row.assignee) recorded.assignee = { from: row.assignee, to: assignee };
      if (change.note !== undefined) recorded.note = change.note;
      if (Object.keys(recorded).length === 0) return toAlert(row);
      const now = this.now();
      this.sql(
        'UPDATE alerts SET status = ?, close_reason = ?, assignee = ?, updated_at = ? WHERE id = ?',
      ).run(status, closeReason, assignee, now, id);
      this.sql('INSERT INTO alert_history (alert_id, time, actor, change) VALUES (?, ?, ?, ?)').run(
        id,
        now,
        actor,
        JSON.stringify(recorded),
      );
      this.appendAudit({
        actor,
        action: 'alert.update',
        tenant: row.tenant,
        target: String(id),
        details: recorded,
      });
      return toAlert(this.sql('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow);
    })();
  }

  async detections(query: DetectionQuery): Promise<Page<StoredDetection>> {
    const where = new Conditions();
    if (query.tenant !== null) where.add('tenant = ?', query.tenant);
    if (query.rule !== undefined)
      where.add('(rule_id = ? OR rule_title = ? COLLATE NOCASE)', query.rule, query.rule);
    if (query.since !== undefined) where.add('time >= ?', query.since);
    const rows = this.page('detections', where, query) as DetectionRow[];
    return page(rows.map(toDetection), query.limit);
  }

  async stats(tenant: string | null): Promise<TenantStats> {
    const filter = tenant === null ? '' : 'WHERE tenant = ?';
    const args = tenant === null ? [] : [tenant];
    const count = (table: string) =>
      (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table} ${filter}`).get(...args) as { n: number }).n;
    const processed = (
      this.db.prepare(`SELECT COALESCE(SUM(processed), 0) AS n FROM positions ${filter}`).get(...args) as {
        n: number;
      }
    ).n;
    return { processed, detections: count('detections'), alerts: count('alerts') };
  }

  async alertCounts(tenant: string | null): Promise<Record<AlertStatus, number>> {
    const rows = this.db
      .prepare(
        `SELECT status, COUNT(*) AS n FROM alerts ${tenant === null ? '' : 'WHERE tenant = ?'} GROUP BY status`,
      )
      .all(...(tenant === null ? [] : [tenant])) as { status: AlertStatus; n: number }[];
    const counts: Record<AlertStatus, number> = { open: 0, acknowledged: 0, closed: 0 };
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  async addSuppression(suppression: NewSuppression, actor: string): Promise<Suppression> {
    const created = this.db.transaction(() => {
      const result = this.sql(
        'INSERT INTO suppressions (tenant, rule, host, field, value, until, created_by, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        suppression.tenant,
        suppression.rule,
        suppression.host,
        suppression.field,
        suppression.value,
        suppression.until,
        actor,
        suppression.reason,
        this.now(),
      );
      const id = Number(result.lastInsertRowid);
      this.appendAudit({
        actor,
        action: 'suppression.add',
        tenant: suppression.tenant,
        target: String(id),
        details: { ...suppression },
      });
      return toSuppression(this.sql('SELECT * FROM suppressions WHERE id = ?').get(id) as SuppressionRow);
    })();
    this.suppressionCache = undefined;
    return created;
  }

  async suppressions(tenant: string | null): Promise<Suppression[]> {
    const rows =
      tenant === null
        ? (this.sql('SELECT * FROM suppressions ORDER BY id').all() as SuppressionRow[])
        : (this.sql('SELECT * FROM suppressions WHERE tenant = ? OR tenant IS NULL ORDER BY id').all(
            tenant,
          ) as SuppressionRow[]);
    return rows.map(toSuppression);
  }

  async setRuleDisabled(tenant: string, rule: string, disabled: boolean, actor: string): Promise<boolean> {
    return this.db.transaction(() => {
      const changed = disabled
        ? this.sql(
            'INSERT INTO disabled_rules (tenant, rule_key, disabled_by, disabled_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
          ).run(tenant, rule, actor, this.now()).changes
        : this.sql('DELETE FROM disabled_rules WHERE tenant = ? AND rule_key = ?').run(tenant, rule).changes;
      if (changed === 0) return false;
      this.appendAudit({
        actor,
        action: disabled ? 'rule.disable' : 'rule.enable',
        tenant,
        target: rule,
        details: {},
      });
      return true;
    })();
  }

  async disabledRules(tenant: string | null): Promise<DisabledRule[]> {
    const rows = (
      tenant === null
        ? this.sql('SELECT * FROM disabled_rules ORDER BY tenant, rule_key').all()
        : this.sql('SELECT * FROM disabled_rules WHERE tenant = ? ORDER BY rule_key').all(tenant)
    ) as { tenant: string; rule_key: string; disabled_by: string; disabled_at: string }[];
    return rows.map((r) => ({
      tenant: r.tenant,
      rule: r.rule_key,
      disabledBy: r.disabled_by,
      disabledAt: r.disabled_at,
    }));
  }

  async ruleHits(tenant: string, since: number): Promise<RuleHits[]> {
    const rows = this.sql(
      `SELECT rule_key, MAX(rule_title) AS title, substr(created_at, 1, 10) AS day, COUNT(*) AS n
       FROM detections WHERE tenant = ? AND created_at >= ? GROUP BY rule_key, day ORDER BY rule_key, day`,
    ).all(tenant, new Date(since).toISOString()) as {
      rule_key: string;
      title: string;
      day: string;
      n: number;
    }[];
    return rows.map((r) => ({ rule: r.rule_key, title: r.title, day: r.day, detections: r.n }));
  }

  async removeSuppression(tenant: string | null, id: number, actor: string): Promise<boolean> {
    const removed = this.db.transaction(() => {
      const row = this.sql('SELECT * FROM suppressions WHERE id = ?').get(id) as SuppressionRow | undefined;
      // A tenant's token may lift its own suppressions only, not the service-wide ones.
      if (!row || (tenant !== null && row.tenant !== tenant)) return false;
      this.sql('UPDATE suppressions SET until = ? WHERE id = ?').run(this.now(), id);
      this.appendAudit({
        actor,
        action: 'suppression.end',
        tenant: row.tenant,
        target: String(id),
        details: {},
      });
      return true;
    })();
    this.suppressionCache = undefined;
    return removed;
  }

  async startHunt(
    hunt: Pick<RetroHunt, 'tenant' | 'rules' | 'since' | 'until'>,
    actor: string,
  ): Promise<RetroHunt> {
    return this.db.transaction(() => {
      const result = this.sql(
        "INSERT INTO hunts (tenant, requested_by, rules, since, until, status, started_at) VALUES (?, ?, ?, ?, ?, 'running', ?)",
      ).run(hunt.tenant, actor, hunt.rules, hunt.since, hunt.until, this.now());
      const id = Number(result.lastInsertRowid);
      this.appendAudit({
        actor,
        action: 'hunt.start',
        tenant: hunt.tenant,
        target: String(id),
        details: { rules: hunt.rules, since: hunt.since, until: hunt.until },
      });
      return toHunt(this.sql('SELECT * FROM hunts WHERE id = ?').get(id) as HuntRow);
    })();
  }

  async addHuntDetections(id: number, detections: readonly Detection[], keep: number): Promise<void> {
    this.db.transaction(() => {
      const { detections: before } = this.sql('SELECT detections FROM hunts WHERE id = ?').get(id) as {
        detections: number;
      };
      const insert = this.sql('INSERT INTO hunt_detections (hunt_id, n, detection) VALUES (?, ?, ?)');
      detections.forEach((detection, i) => {
        if (before + i < keep) insert.run(id, before + i, JSON.stringify(detection));
      });
      this.sql('UPDATE hunts SET detections = detections + ? WHERE id = ?').run(detections.length, id);
    })();
  }

  async finishHunt(id: number, outcome: { events: number; error?: string }): Promise<void> {
    this.sql('UPDATE hunts SET status = ?, error = ?, events = ?, finished_at = ? WHERE id = ?').run(
      outcome.error === undefined ? 'done' : 'failed',
      outcome.error ?? null,
      outcome.events,
      this.now(),
      id,
    );
  }

  async failRunningHunts(reason: string): Promise<number> {
    return this.sql(
      "UPDATE hunts SET status = 'failed', error = ?, finished_at = ? WHERE status = 'running'",
    ).run(reason, this.now()).changes;
  }

  async hunts(tenant: string | null): Promise<RetroHunt[]> {
    const rows =
      tenant === null
        ? this.sql('SELECT * FROM hunts ORDER BY id DESC LIMIT 200').all()
        : this.sql('SELECT * FROM hunts WHERE tenant = ? ORDER BY id DESC LIMIT 200').all(tenant);
    return (rows as HuntRow[]).map(toHunt);
  }

  async hunt(
    tenant: string | null,
    id: number,
    limit: number,
    offset: number,
  ): Promise<{ hunt: RetroHunt; detections: Detection[] } | undefined> {
    const row = this.sql('SELECT * FROM hunts WHERE id = ?').get(id) as HuntRow | undefined;
    if (!row || (tenant !== null && row.tenant !== tenant)) return undefined;
    const detections = (
      this.sql('SELECT detection FROM hunt_detections WHERE hunt_id = ? ORDER BY n LIMIT ? OFFSET ?').all(
        id,
        limit,
        offset,
      ) as { detection: string }[]
    ).map((d) => JSON.parse(d.detection) as Detection);
    return { hunt: toHunt(row), detections };
  }

  async saveResponse(change: ResponseChange, audit: AuditRecord): Promise<ResponseRecord> {
    return this.db.transaction(() => {
      const now = this.now();
      this.sql(
        `INSERT INTO responses (key, tenant, alert_id, playbook, step, action, mode, state, params, request, result,
           error, attempts, kept, facts, ttl_ms, revert_at, expires_at, decided_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET mode = excluded.mode, state = excluded.state, params = excluded.params,
           request = excluded.request, result = excluded.result, error = excluded.error, attempts = excluded.attempts,
           kept = excluded.kept, facts = excluded.facts, ttl_ms = excluded.ttl_ms, revert_at = excluded.revert_at,
           expires_at = excluded.expires_at, decided_by = excluded.decided_by, updated_at = excluded.updated_at`,
      ).run(
        change.key,
        change.tenant,
        change.alertId,
        change.playbook,
        change.step,
        change.action,
        change.mode,
        change.state,
        JSON.stringify(change.params),
        change.request,
        change.result,
        change.error,
        change.attempts,
        change.kept === null ? null : JSON.stringify(change.kept),
        change.facts === null ? null : JSON.stringify(change.facts),
        change.ttlMs,
        change.revertAt,
        change.expiresAt,
        change.decidedBy,
        now,
        now,
      );
      this.appendAudit(audit);
      return responseRecord(this.sql('SELECT * FROM responses WHERE key = ?').get(change.key) as ResponseRow);
    })();
  }

  async responses(tenant: string | null, alertId: number): Promise<ResponseRecord[]> {
    const rows = this.sql(
      'SELECT * FROM responses WHERE alert_id = ? AND (? IS NULL OR tenant = ?) ORDER BY id',
    ).all(alertId, tenant, tenant) as ResponseRow[];
    return rows.map(responseRecord);
  }

  async response(tenant: string | null, id: number): Promise<ResponseRecord | undefined> {
    const row = this.sql('SELECT * FROM responses WHERE id = ? AND (? IS NULL OR tenant = ?)').get(
      id,
      tenant,
      tenant,
    ) as ResponseRow | undefined;
    return row && responseRecord(row);
  }

  async responseByKey(key: string): Promise<ResponseRecord | undefined> {
    const row = this.sql('SELECT * FROM responses WHERE key = ?').get(key) as ResponseRow | undefined;
    return row && responseRecord(row);
  }

  async dueResponses(now: number): Promise<ResponseRecord[]> {
    const rows = this.sql(
      `SELECT * FROM responses
        WHERE (state = 'awaiting-approval' AND expires_at <= ?) OR (state = 'done' AND revert_at <= ?)
           OR state = 'running'
        ORDER BY id`,
    ).all(now, now) as ResponseRow[];
    return rows.map(responseRecord);
  }

  async watchPosition(path: string): Promise<WatchPosition | undefined> {
    return this.sql('SELECT path, tenant, identity, offset, record FROM watched_files WHERE path = ?').get(
      path,
    ) as WatchPosition | undefined;
  }

  async saveWatchPosition(position: WatchPosition): Promise<void> {
    this.sql(
      `INSERT INTO watched_files (path, tenant, identity, offset, record) VALUES (@path, @tenant, @identity, @offset, @record)
       ON CONFLICT (path) DO UPDATE SET tenant = excluded.tenant, identity = excluded.identity, offset = excluded.offset, record = excluded.record`,
    ).run(position);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

interface AlertGrowth {
  id: number;
  count: number;
  first: number;
  last: number;
  rank: number;
  level: string;
  /** The alert as it stands in the database: its span, for joining the batch's detections. */
  spanFirst: number;
  spanLast: number;
  opened: boolean;
}

/**
 * Detections of one batch joining alerts: the first of a rule and host asks the database for its
 * open alert (or opens one); those after it join in memory, and each alert is written once at the
 * end of the batch instead of once per detection.
 */
class AlertGrouping {
  private readonly groups = new Map<string, AlertGrowth[]>();

  constructor(
    private readonly store: SqliteServiceStore,
    private readonly tenant: string,
    private readonly now: string,
  ) {}

  join(key: string, detection: Detection, time: number, windowMs: number): number {
    const host = detection.host ?? '';
    const groupKey = `${key}\0${host}`;
    const rank = LEVEL_ORDER.indexOf(detection.rule.level);
    const list = this.groups.get(groupKey) ?? [];
    let growth = list.find((g) => time >= g.spanFirst - windowMs && time <= g.spanLast + windowMs);
    if (!growth) {
      const open = this.store.openAlertFor(this.tenant, key, host, time, windowMs);
      growth = open
        ? {
            id: open.id,
            count: 0,
            first: time,
            last: time,
            rank: -1,
            level: open.level,
            spanFirst: open.first_seen,
            spanLast: open.last_seen,
            opened: false,
          }
        : {
            id: this.store.newAlert(this.tenant, key, detection, time, this.now),
            count: 0,
            first: time,
            last: time,
            rank: -1,
            level: detection.rule.level,
            spanFirst: time,
            spanLast: time,
            opened: true,
          };
      list.push(growth);
      this.groups.set(groupKey, list);
    }
    growth.count++;
    growth.first = Math.min(growth.first, time);
    growth.last = Math.max(growth.last, time);
    growth.spanFirst = Math.min(growth.spanFirst, time);
    growth.spanLast = Math.max(growth.spanLast, time);
    if (rank > growth.rank) {
      growth.rank = rank;
      growth.level = detection.rule.level;
    }
    return growth.id;
  }

  finish(result: CommitResult): void {
    for (const list of this.groups.values()) {
      for (const growth of list) {
        this.store.growAlert(growth.id, growth, this.now);
        if (growth.opened) result.opened.push(this.store.alertRow(growth.id));
      }
    }
  }
}

/** The conditions of an alert query's filters. */
function alertConditions(query: Omit<AlertQuery, 'cursor' | 'sort'>): Conditions {
  const where = new Conditions();
  if (query.tenant !== null) where.add('tenant = ?', query.tenant);
  if (query.status?.length)
    where.add(`status IN (${query.status.map(() => '?').join(', ')})`, ...query.status);
  if (query.rule !== undefined)
    where.add('(rule_id = ? OR rule_title = ? COLLATE NOCASE)', query.rule, query.rule);
  if (query.host !== undefined) where.add('host = ? COLLATE NOCASE', query.host);
  if (query.level?.length) where.add(`level IN (${query.level.map(() => '?').join(', ')})`, ...query.level);
  if (query.assignee === null) where.add('assignee IS NULL');
  else if (query.assignee !== undefined) where.add('assignee = ? COLLATE NOCASE', query.assignee);
  if (query.technique !== undefined) {
    const id = query.technique.toUpperCase();
    where.add(
      `EXISTS (SELECT 1 FROM json_each(alerts.techniques) WHERE value = ? OR value LIKE ? || '.%')`,
      id,
      id,
    );
  }
  if (query.since !== undefined) where.add('last_seen >= ?', query.since);
  if (query.until !== undefined) where.add('first_seen <= ?', query.until);
  if (query.afterId !== undefined) where.add('id > ?', query.afterId);
  return where;
}

/** The WHERE of a query built from the filters given, with its parameters in order. */
class Conditions {
  private readonly parts: string[] = [];
  readonly params: unknown[] = [];

  add(condition: string, ...params: unknown[]): void {
    this.parts.push(condition);
    this.params.push(...params);
  }

  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

function page<T extends { id: number }>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? encodeCursor(items.at(-1)!.id) : null };
}

interface ResponseRow {
  id: number;
  key: string;
  tenant: string;
  alert_id: number;
  playbook: string;
  step: string;
  action: string;
  mode: string;
  state: ResponseRecord['state'];
  params: string;
  request: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  kept: string | null;
  facts: string | null;
  ttl_ms: number | null;
  revert_at: number | null;
  expires_at: number | null;
  decided_by: string | null;
  created_at: string;
  updated_at: string;
}

function responseRecord(row: ResponseRow): ResponseRecord {
  return {
    id: row.id,
    key: row.key,
    tenant: row.tenant,
    alertId: row.alert_id,
    playbook: row.playbook,
    step: row.step,
    action: row.action,
    mode: row.mode,
    state: row.state,
    params: JSON.parse(row.params) as Record<string, string>,
    request: row.request,
    result: row.result,
    error: row.error,
    attempts: row.attempts,
    kept: row.kept === null ? null : (JSON.parse(row.kept) as Record<string, string>),
    facts: row.facts === null ? null : (JSON.parse(row.facts) as Facts),
    ttlMs: row.ttl_ms,
    revertAt: row.revert_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
