import type { Statement } from 'better-sqlite3';
import type { Detection } from '../detect/index.js';
import { actorName, newToken, type Principal, type Role, tokenHash } from './access.js';
import { type BatchPlan, type OpenAlert, planBatch } from './alert-grouping.js';
import {
  type AuditEntry,
  type AuditRecord,
  type AuditVerdict,
  chainAuditEntry,
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
  AlertStatus,
  BatchOutcome,
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
import {
  activeFor,
  keptHuntDetections,
  liveSession,
  newSessionSecrets,
  triageOutcome,
} from './store-logic.js';
import {
  alertConditions,
  alertCountsOf,
  alertFacetsOf,
  alertGroupsQuery,
  detectionConditions,
  pageQuery,
  SQLITE_DIALECT,
} from './store-queries.js';
import {
  type AlertRow,
  type AuditRow,
  type DetectionRow,
  type DisabledRuleRow,
  type HuntRow,
  type ResponseRow,
  type SessionRow,
  type SuppressionRow,
  type TokenRow,
  toAlert,
  toAuditEntry,
  toDetection,
  toDisabledRule,
  toHunt,
  toResponseRecord,
  toSessionInfo,
  toSuppression,
  toTokenInfo,
} from './store-rows.js';
import {
  ALERT_COLUMNS,
  AUDIT_COLUMNS,
  auditValues,
  DETECTION_COLUMNS,
  detectionValues,
  insertInto,
  newAlertValues,
  RESPONSE_COLUMNS,
  RESPONSE_UPDATE,
  responseValues,
  SUPPRESSION_COLUMNS,
  suppressionValues,
} from './store-writes.js';

const param = SQLITE_DIALECT.param;
const INSERT_AUDIT = insertInto('audit', AUDIT_COLUMNS, param);
const INSERT_ALERT = insertInto('alerts', ALERT_COLUMNS, param);
const INSERT_DETECTION = insertInto('detections', DETECTION_COLUMNS, param);
const INSERT_SUPPRESSION = insertInto('suppressions', SUPPRESSION_COLUMNS, param);
const INSERT_RESPONSE = insertInto('responses', RESPONSE_COLUMNS, param);

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
    ).all() as TokenRow[];
    return rows.map(toTokenInfo);
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
    const now = Date.now();
    const { secret, csrf, expiresAt } = newSessionSecrets(limits, now);
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
    const live = liveSession(row, limits, now, use);
    if (live?.renewedUntil !== undefined)
      this.sql('UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id = ?').run(
        now,
        live.renewedUntil,
        live.session.id,
      );
    return live?.session;
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
    return rows.map(toSessionInfo);
  }

  async audit(record: AuditRecord): Promise<AuditEntry> {
    return this.db.transaction(() => this.appendAudit(record))();
  }

  /** Within the caller's transaction, so the change and its record stand or fall together. */
  private appendAudit(record: AuditRecord): AuditEntry {
    const last = this.sql('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
      | { seq: number; hash: string }
      | undefined;
    const full = chainAuditEntry(last, record, this.now());
    this.sql(INSERT_AUDIT).run(...auditValues(full));
    return full;
  }

  async verifyAudit(): Promise<AuditVerdict> {
    const rows = this.sql('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>;
    return await verifyAuditChain(
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
    return activeFor(this.suppressionCache, tenant, now);
  }

  async commit(batch: BatchOutcome): Promise<CommitResult> {
    const now = this.now();
    const suppressions = batch.detections.length ? this.activeSuppressions(batch.tenant, now) : [];
    return this.db.transaction(() => {
      const plan = planBatch(
        batch.detections,
        this.storedKeys(batch.tenant, batch.detections),
        suppressions,
        (key, host, time, windowMs) => this.openAlertFor(batch.tenant, key, host, time, windowMs),
        now,
      );
      const result = this.writePlan(batch.tenant, plan, now);
      this.sql(
        'INSERT INTO positions (tenant, processed) VALUES (?, ?) ON CONFLICT (tenant) DO UPDATE SET processed = MAX(processed, excluded.processed)',
      ).run(batch.tenant, batch.processed);
      if (batch.snapshot) {
        this.sql(
          'INSERT INTO snapshots (tenant, seq, state, taken_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, state = excluded.state, taken_at = excluded.taken_at',
        ).run(batch.tenant, batch.snapshot.seq, batch.snapshot.state, now);
      }
      return result;
    })();
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

  /**
   * An open alert of a rule and host that takes a detection at `time`, from the database. The index
   * is named: left to itself, SQLite walks the tenant's alerts by time (alerts_last_seen, for the
   * ORDER BY), which grows with every alert the tenant has, where the rule and host find a handful.
   */
  private openAlertFor(
    tenant: string,
    key: string,
    host: string,
    time: number,
    windowMs: number,
  ): OpenAlert | undefined {
    return this.sql(
      `SELECT * FROM alerts INDEXED BY alerts_group WHERE tenant = ? AND rule_key = ? AND host = ? AND status != 'closed'
         AND last_seen >= ? AND first_seen <= ? ORDER BY last_seen DESC LIMIT 1`,
    ).get(tenant, key, host, time - windowMs, time + windowMs) as AlertRow | undefined;
  }

  /** Writes a batch's plan: the alerts it opens and grows, suppression hits, the detections. */
  private writePlan(tenant: string, plan: BatchPlan, now: string): CommitResult {
    const result: CommitResult = { stored: plan.placed.length, suppressed: 0, opened: [] };
    for (const growth of plan.growths) {
      if (growth.id === undefined) {
        growth.id = Number(
          this.sql(INSERT_ALERT).run(...newAlertValues(tenant, growth, now)).lastInsertRowid,
        );
        result.opened.push(toAlert(this.sql('SELECT * FROM alerts WHERE id = ?').get(growth.id) as AlertRow));
      } else {
        this.sql(
          `UPDATE alerts SET count = count + ?, first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?),
             level = CASE WHEN ? > level_rank THEN ? ELSE level END, level_rank = MAX(level_rank, ?), updated_at = ?
           WHERE id = ?`,
        ).run(
          growth.count,
          growth.first,
          growth.last,
          growth.rank,
          growth.level,
          growth.rank,
          now,
          growth.id,
        );
      }
    }
    for (const [id, hits] of plan.suppressionHits) {
      this.sql('UPDATE suppressions SET hits = hits + ? WHERE id = ?').run(hits, id);
      result.suppressed += hits;
    }
    const insert = this.sql(INSERT_DETECTION);
    for (const placed of plan.placed) insert.run(...detectionValues(tenant, placed, now));
    return result;
  }

  async alerts(query: AlertQuery): Promise<Page<Alert>> {
    const { sql, params, page } = pageQuery<AlertRow>(
      'alerts',
      alertConditions(query, SQLITE_DIALECT),
      query,
    );
    return page(this.db.prepare(sql).all(...params) as AlertRow[], toAlert);
  }

  async alertFacets(tenant: string | null): Promise<AlertFacets> {
    const rows = this.db
      .prepare(
        `SELECT status, level, COUNT(*) AS n FROM alerts ${tenant === null ? '' : 'WHERE tenant = ?'} GROUP BY status, level`,
      )
      .all(...(tenant === null ? [] : [tenant])) as { status: AlertStatus; level: string; n: number }[];
    return alertFacetsOf(rows);
  }

  async alertGroups(query: Omit<AlertQuery, 'cursor' | 'sort'>, by: 'rule' | 'host'): Promise<AlertGroup[]> {
    const { sql, params } = alertGroupsQuery(query, by, SQLITE_DIALECT);
    return this.db.prepare(sql).all(...params) as AlertGroup[];
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
      const outcome = triageOutcome(row, change);
      if (!outcome) return toAlert(row);
      const { status, closeReason, assignee, recorded } = outcome;
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
    const { sql, params, page } = pageQuery<DetectionRow>(
      'detections',
      detectionConditions(query, SQLITE_DIALECT),
      query,
    );
    return page(this.db.prepare(sql).all(...params) as DetectionRow[], toDetection);
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
    return alertCountsOf(rows);
  }

  async addSuppression(suppression: NewSuppression, actor: string): Promise<Suppression> {
    const created = this.db.transaction(() => {
      const result = this.sql(INSERT_SUPPRESSION).run(...suppressionValues(suppression, actor, this.now()));
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
    ) as DisabledRuleRow[];
    return rows.map(toDisabledRule);
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
      for (const kept of keptHuntDetections(before, detections, keep)) insert.run(id, kept.n, kept.detection);
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
      this.sql(`${INSERT_RESPONSE} ON CONFLICT (key) DO UPDATE SET ${RESPONSE_UPDATE}`).run(
        ...responseValues(change, this.now()),
      );
      this.appendAudit(audit);
      return toResponseRecord(
        this.sql('SELECT * FROM responses WHERE key = ?').get(change.key) as ResponseRow,
      );
    })();
  }

  async responses(tenant: string | null, alertId: number): Promise<ResponseRecord[]> {
    const rows = this.sql(
      'SELECT * FROM responses WHERE alert_id = ? AND (? IS NULL OR tenant = ?) ORDER BY id',
    ).all(alertId, tenant, tenant) as ResponseRow[];
    return rows.map(toResponseRecord);
  }

  async response(tenant: string | null, id: number): Promise<ResponseRecord | undefined> {
    const row = this.sql('SELECT * FROM responses WHERE id = ? AND (? IS NULL OR tenant = ?)').get(
      id,
      tenant,
      tenant,
    ) as ResponseRow | undefined;
    return row && toResponseRecord(row);
  }

  async responseByKey(key: string): Promise<ResponseRecord | undefined> {
    const row = this.sql('SELECT * FROM responses WHERE key = ?').get(key) as ResponseRow | undefined;
    return row && toResponseRecord(row);
  }

  async dueResponses(now: number): Promise<ResponseRecord[]> {
    const rows = this.sql(
      `SELECT * FROM responses
        WHERE (state = 'awaiting-approval' AND expires_at <= ?) OR (state = 'done' AND revert_at <= ?)
           OR state = 'running'
        ORDER BY id`,
    ).all(now, now) as ResponseRow[];
    return rows.map(toResponseRecord);
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
