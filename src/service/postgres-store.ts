import type pg from 'pg';
import type { Detection } from '../detect/index.js';
import { actorName, newToken, type Principal, type Role, tokenHash } from './access.js';
import { type BatchPlan, type OpenAlert, openAlertAmong, planBatch } from './alert-grouping.js';
import {
  type AuditEntry,
  type AuditRecord,
  type AuditVerdict,
  chainAuditEntry,
  verifyAuditChain,
} from './audit.js';
import { checkSchemaVersion, openPool, schemaVersion, storeError } from './postgres.js';
import {
  checkFence,
  type LeaseOptions,
  type LeaseRow,
  type NodeRow,
  PostgresLeases,
} from './postgres-leases.js';
import { type PostgresLocation, parsePostgresUrl } from './postgres-url.js';
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
import { keptHuntDetections, liveSession, newSessionSecrets, ruleKey, triageOutcome } from './store-logic.js';
import {
  alertConditions,
  alertCountsOf,
  alertFacetsOf,
  alertGroupsQuery,
  detectionConditions,
  POSTGRES_DIALECT,
  pageQuery,
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
import type { SharedRuleFile } from './tenant-rule-files.js';

/** Something to run a query on: the pool, or the one client of a transaction. */
type Queryable = pg.Pool | pg.PoolClient;

/** The audit log's chain is appended by one transaction at a time, across every node. */
const AUDIT_LOCK = `SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext('vigil.audit'))`;
/** A tenant's batches are committed one at a time, across every node (see commit). */
const COMMIT_LOCK = `SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext('vigil.commit:' || $1))`;

const AUDIT_PAGE = 5000;

const param = POSTGRES_DIALECT.param;
const INSERT_AUDIT = insertInto('audit', AUDIT_COLUMNS, param);
const INSERT_ALERT = insertInto('alerts', ALERT_COLUMNS, param);
const INSERT_SUPPRESSION = insertInto('suppressions', SUPPRESSION_COLUMNS, param);
const INSERT_RESPONSE = insertInto('responses', RESPONSE_COLUMNS, param);
/** The types of DETECTION_COLUMNS, for inserting a batch's detections as arrays. */
const DETECTION_TYPES = [
  'text',
  'text',
  'bigint',
  'bigint',
  'bigint',
  'text',
  'text',
  'text',
  'text',
  'text',
  'bigint',
  'bigint',
  'json',
  'json',
  'timestamptz',
];

/**
 * The cluster store: PostgreSQL, shared by every node. The same semantics as the embedded store;
 * what nodes could race on is serialized by the database: a tenant's commits and the audit chain
 * by transaction-scoped advisory locks, triage and revocations by row locks, and a detection is
 * unique by its key.
 */
export class PostgresServiceStore implements ServiceStore {
  /** The connection holding the sole-node claim (see claimSoleNode). */
  private soleNode: pg.PoolClient | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: PostgresLocation,
  ) {}

  /** Connects and checks the schema is the one this Vigil knows (`vigil admin migrate` makes it). */
  static async open(url: string, options: { connections?: number } = {}): Promise<PostgresServiceStore> {
    const location = parsePostgresUrl(url);
    const pool = openPool(location, options.connections);
    try {
      checkSchemaVersion(location, await schemaVersion(pool));
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw storeError(location, error);
    }
    return new PostgresServiceStore(pool, location);
  }

  /**
   * Claims this store (its schema) for one service whose events are in files of its own data
   * folder: a second such service would detect on other events under the same tenants, positions
   * and keys. Held by a connection kept open until close; false when another service holds it.
   */
  async claimSoleNode(): Promise<boolean> {
    const client = await this.pool.connect();
    const claimed = await client.query<{ ok: boolean }>(
      "SELECT pg_try_advisory_lock(hashtext(current_schema() || ' vigil file-log node')) AS ok",
    );
    if (claimed.rows[0]?.ok) {
      this.soleNode = client;
      return true;
    }
    client.release();
    return false;
  }

  /** Tenant leases for a node of a cluster, kept in this store's database. */
  tenantLeases(options: LeaseOptions): PostgresLeases {
    return new PostgresLeases(this.pool, options);
  }

  /** Shares a tenant's rule file with every node (a newer version of the file replaces the older). */
  async shareTenantRule(rule: { tenant: string; file: string; text: string }, actor: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO tenant_rule_files (tenant, file, text, version, updated_by, updated_at)
       VALUES ($1, $2, $3, nextval('tenant_rule_versions'), $4, now())
       ON CONFLICT (tenant, file) DO UPDATE SET text = excluded.text, version = excluded.version,
         updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [rule.tenant, rule.file, rule.text, actor],
    );
  }

  /** The tenants' rule files changed after `version`, oldest change first. */
  async sharedRuleFiles(after: number): Promise<SharedRuleFile[]> {
    return this.rows<SharedRuleFile>(
      'SELECT tenant, file, text, version FROM tenant_rule_files WHERE version > $1 ORDER BY version',
      [after],
    );
  }

  /** The cluster's nodes (live: heard from within `ttlMs`) and who holds each tenant's lease. */
  async cluster(ttlMs: number): Promise<{ nodes: NodeRow[]; leases: LeaseRow[] }> {
    return {
      nodes: await PostgresLeases.nodes(this.pool, ttlMs),
      leases: await PostgresLeases.leases(this.pool),
    };
  }

  private now(): string {
    return new Date().toISOString();
  }

  private async rows<T>(sql: string, params: unknown[] = [], on: Queryable = this.pool): Promise<T[]> {
    return (await on.query(sql, params)).rows as T[];
  }

  private async row<T>(
    sql: string,
    params: unknown[] = [],
    on: Queryable = this.pool,
  ): Promise<T | undefined> {
    return (await on.query(sql, params)).rows[0] as T | undefined;
  }

  /** Runs work in one transaction on one connection: all of it is stored, or none. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((failed: Error) => {
        broken = failed;
      });
      throw error;
    } finally {
      // A connection whose rollback failed is in an unknown state: closed rather than reused.
      client.release(broken);
    }
  }

  async addTenant(name: string, actor: string): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('INSERT INTO tenants (name, created_at) VALUES ($1, $2)', [name, this.now()]);
      await this.appendAudit(client, {
        actor,
        action: 'tenant.add',
        tenant: name,
        target: name,
        details: {},
      });
    });
  }

  async tenants(): Promise<{ name: string; createdAt: string }[]> {
    const rows = await this.rows<{ name: string; created_at: string }>(
      'SELECT name, created_at FROM tenants ORDER BY name',
    );
    return rows.map((row) => ({ name: row.name, createdAt: row.created_at }));
  }

  async hasTenant(name: string): Promise<boolean> {
    return (await this.row('SELECT 1 FROM tenants WHERE name = $1', [name])) !== undefined;
  }

  async addToken(
    token: { role: Role; tenant: string | null; label: string | null },
    actor: string,
  ): Promise<{ id: number; secret: string }> {
    const secret = newToken();
    const id = await this.transaction(async (client) => {
      const { id } = (await this.row<{ id: number }>(
        'INSERT INTO tokens (hash, label, role, tenant, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id',
        [tokenHash(secret), token.label, token.role, token.tenant, this.now()],
        client,
      ))!;
      await this.appendAudit(client, {
        actor,
        action: 'token.add',
        tenant: token.tenant,
        target: String(id),
        details: { role: token.role, label: token.label },
      });
      return id;
    });
    return { id, secret };
  }

  async authenticate(secret: string): Promise<Principal | undefined> {
    const row = await this.row<{ id: number; label: string | null; role: Role; tenant: string | null }>(
      'SELECT id, label, role, tenant FROM tokens WHERE hash = $1 AND revoked_at IS NULL',
      [tokenHash(secret)],
    );
    return row && { tokenId: row.id, label: row.label, role: row.role, tenant: row.tenant };
  }

  async listTokens(): Promise<TokenInfo[]> {
    const rows = await this.rows<TokenRow>(
      'SELECT id, label, role, tenant, created_at, revoked_at FROM tokens ORDER BY id',
    );
    return rows.map(toTokenInfo);
  }

  async revokeToken(id: number, actor: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const row = await this.row<{ tenant: string | null }>(
        'UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING tenant',
        [this.now(), id],
        client,
      );
      if (!row) return false;
      await this.appendAudit(client, {
        actor,
        action: 'token.revoke',
        tenant: row.tenant,
        target: String(id),
        details: {},
      });
      return true;
    });
  }

  async startSession(
    principal: Principal,
    limits: SessionLimits,
  ): Promise<{ secret: string; session: Session }> {
    const now = Date.now();
    const { secret, csrf, expiresAt } = newSessionSecrets(limits, now);
    const id = await this.transaction(async (client) => {
      const { id } = (await this.row<{ id: number }>(
        `INSERT INTO sessions (hash, token_id, csrf, tenant, created_at, last_seen, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [tokenHash(secret), principal.tokenId, csrf, principal.tenant, now, now, expiresAt],
        client,
      ))!;
      await this.appendAudit(client, {
        actor: actorName(principal),
        action: 'session.start',
        tenant: principal.tenant,
        target: String(id),
        details: {},
      });
      return id;
    });
    return { secret, session: { id, principal, tenant: principal.tenant, csrf, expiresAt } };
  }

  async session(secret: string, limits: SessionLimits, use = true): Promise<Session | undefined> {
    const row = await this.row<SessionRow>(
      `SELECT s.*, t.label, t.role, t.tenant AS token_tenant, t.revoked_at
         FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.hash = $1`,
      [tokenHash(secret)],
    );
    const now = Date.now();
    const live = liveSession(row, limits, now, use);
    if (live?.renewedUntil !== undefined)
      await this.pool.query('UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE id = $3', [
        now,
        live.renewedUntil,
        live.session.id,
      ]);
    return live?.session;
  }

  async chooseSessionTenant(id: number, tenant: string | null): Promise<void> {
    await this.pool.query('UPDATE sessions SET tenant = $1 WHERE id = $2', [tenant, id]);
  }

  async endSession(id: number, actor: string, reason: 'sign-out' | 'revoked'): Promise<boolean> {
    return this.transaction(async (client) => {
      const row = await this.row<{ token_tenant: string | null }>(
        `UPDATE sessions s SET ended_at = $1 FROM tokens t
          WHERE s.id = $2 AND s.ended_at IS NULL AND t.id = s.token_id RETURNING t.tenant AS token_tenant`,
        [Date.now(), id],
        client,
      );
      if (!row) return false;
      await this.appendAudit(client, {
        actor,
        action: 'session.end',
        tenant: row.token_tenant,
        target: String(id),
        details: { reason },
      });
      return true;
    });
  }

  async listSessions(): Promise<SessionInfo[]> {
    const rows = await this.rows<SessionRow>(
      `SELECT s.*, t.label, t.role, t.tenant AS token_tenant, t.revoked_at
         FROM sessions s JOIN tokens t ON t.id = s.token_id ORDER BY s.id`,
    );
    return rows.map(toSessionInfo);
  }

  async audit(record: AuditRecord): Promise<AuditEntry> {
    return this.transaction((client) => this.appendAudit(client, record));
  }

  /**
   * Within the caller's transaction, so the change and its record stand or fall together. The
   * lock makes a concurrent append (another node's) wait until this one is committed, then read
   * it as the entry to follow.
   */
  private async appendAudit(client: pg.PoolClient, record: AuditRecord): Promise<AuditEntry> {
    await client.query(AUDIT_LOCK);
    const last = await this.row<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
      [],
      client,
    );
    const entry = chainAuditEntry(last, record, this.now());
    await client.query(INSERT_AUDIT, auditValues(entry));
    return entry;
  }

  async verifyAudit(): Promise<AuditVerdict> {
    const pages = async function* (store: PostgresServiceStore) {
      let after = 0;
      for (;;) {
        const page = await store.auditEntries(after, AUDIT_PAGE);
        yield* page;
        if (page.length < AUDIT_PAGE) return;
        after = page.at(-1)!.seq;
      }
    };
    return verifyAuditChain(pages(this));
  }

  async auditEntries(after: number, limit: number): Promise<AuditEntry[]> {
    const rows = await this.rows<AuditRow>('SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2', [
      after,
      limit,
    ]);
    return rows.map(toAuditEntry);
  }

  async position(tenant: string): Promise<number> {
    const row = await this.row<{ processed: number }>('SELECT processed FROM positions WHERE tenant = $1', [
      tenant,
    ]);
    return row?.processed ?? 0;
  }

  async snapshot(tenant: string): Promise<{ seq: number; state: string } | undefined> {
    return this.row('SELECT seq, state FROM snapshots WHERE tenant = $1', [tenant]);
  }

  /**
   * Stores a batch in one transaction on one connection (a later fencing check joins it there).
   * The tenant's commit lock makes a second node committing the same batch wait, then find its
   * detections stored and store nothing: each detection once, each alert opened once.
   */
  async commit(batch: BatchOutcome): Promise<CommitResult> {
    const now = this.now();
    return this.transaction(async (client) => {
      await client.query(COMMIT_LOCK, [batch.tenant]);
      if (batch.fence) await checkFence(client, batch.tenant, batch.fence);
      let result: CommitResult = { stored: 0, suppressed: 0, opened: [] };
      if (batch.detections.length) {
        const candidates = await this.openAlerts(client, batch.tenant, batch.detections, now);
        const plan = planBatch(
          batch.detections,
          await this.storedKeys(client, batch.tenant, batch.detections),
          await this.activeSuppressions(client, batch.tenant, now),
          (key, host, time, windowMs) => openAlertAmong(candidates, key, host, time, windowMs),
          now,
        );
        result = await this.writePlan(client, batch.tenant, plan, now);
      }
      await client.query(
        `INSERT INTO positions (tenant, processed) VALUES ($1, $2)
         ON CONFLICT (tenant) DO UPDATE SET processed = GREATEST(positions.processed, excluded.processed)`,
        [batch.tenant, batch.processed],
      );
      if (batch.snapshot) {
        await client.query(
          `INSERT INTO snapshots (tenant, seq, state, taken_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (tenant) DO UPDATE SET seq = excluded.seq, state = excluded.state, taken_at = excluded.taken_at`,
          [batch.tenant, batch.snapshot.seq, batch.snapshot.state, now],
        );
      }
      return result;
    });
  }

  private async storedKeys(
    client: pg.PoolClient,
    tenant: string,
    detections: readonly NewDetection[],
  ): Promise<Set<string>> {
    const rows = await this.rows<{ key: string }>(
      'SELECT key FROM detections WHERE tenant = $1 AND key = ANY($2::text[])',
      [tenant, detections.map((d) => d.key)],
      client,
    );
    return new Set(rows.map((row) => row.key));
  }

  /** Suppressions are read at each commit: another node may have added one a moment ago. */
  private async activeSuppressions(
    client: pg.PoolClient,
    tenant: string,
    now: string,
  ): Promise<Suppression[]> {
    const rows = await this.rows<SuppressionRow>(
      'SELECT * FROM suppressions WHERE (tenant IS NULL OR tenant = $1) AND until > $2 ORDER BY id',
      [tenant, now],
      client,
    );
    return rows.map(toSuppression);
  }

  /** Every open alert a batch's detections could join, read in one query. */
  private async openAlerts(
    client: pg.PoolClient,
    tenant: string,
    detections: readonly NewDetection[],
    now: string,
  ): Promise<OpenAlert[]> {
    // Spans by a loop: a batch can hold more detections than a call takes arguments.
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    let window = 0;
    for (const d of detections) {
      const time = d.detection.timeMs ?? Date.parse(now);
      first = Math.min(first, time);
      last = Math.max(last, time);
      window = Math.max(window, d.alertWindowMs);
    }
    return this.rows<OpenAlert>(
      `SELECT id, rule_key, host, level, first_seen, last_seen FROM alerts
        WHERE tenant = $1 AND status <> 'closed' AND rule_key = ANY($2::text[]) AND host = ANY($3::text[])
          AND last_seen >= $4 AND first_seen <= $5`,
      [
        tenant,
        [...new Set(detections.map((d) => ruleKey(d.detection.rule)))],
        [...new Set(detections.map((d) => d.detection.host ?? ''))],
        first - window,
        last + window,
      ],
      client,
    );
  }

  /** Writes a batch's plan: the alerts it opens and grows, suppression hits, the detections at once. */
  private async writePlan(
    client: pg.PoolClient,
    tenant: string,
    plan: BatchPlan,
    now: string,
  ): Promise<CommitResult> {
    const result: CommitResult = { stored: plan.placed.length, suppressed: 0, opened: [] };
    for (const growth of plan.growths) {
      if (growth.id === undefined) {
        const row = (await this.row<AlertRow>(
          `${INSERT_ALERT} RETURNING *`,
          newAlertValues(tenant, growth, now),
          client,
        ))!;
        growth.id = row.id;
        result.opened.push(toAlert(row));
      } else {
        await client.query(
          `UPDATE alerts SET count = count + $1, first_seen = LEAST(first_seen, $2), last_seen = GREATEST(last_seen, $3),
             level = CASE WHEN $4 > level_rank THEN $5 ELSE level END, level_rank = GREATEST(level_rank, $4),
             updated_at = $6
           WHERE id = $7`,
          [growth.count, growth.first, growth.last, growth.rank, growth.level, now, growth.id],
        );
      }
    }
    for (const [id, hits] of plan.suppressionHits) {
      await client.query('UPDATE suppressions SET hits = hits + $1 WHERE id = $2', [hits, id]);
      result.suppressed += hits;
    }
    if (plan.placed.length === 0) return result;
    // One statement for the batch's detections: an array per column, a row per detection.
    const rows = plan.placed.map((placed) => detectionValues(tenant, placed, now));
    await client.query(
      `INSERT INTO detections (${DETECTION_COLUMNS})
       SELECT * FROM unnest(${DETECTION_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ')})
       ON CONFLICT (tenant, key) DO NOTHING`,
      DETECTION_TYPES.map((_, i) => rows.map((row) => row[i])),
    );
    return result;
  }

  async alerts(query: AlertQuery): Promise<Page<Alert>> {
    const { sql, params, page } = pageQuery<AlertRow>(
      'alerts',
      alertConditions(query, POSTGRES_DIALECT),
      query,
    );
    return page(await this.rows<AlertRow>(sql, params), toAlert);
  }

  async alertFacets(tenant: string | null): Promise<AlertFacets> {
    const rows = await this.rows<{ status: AlertStatus; level: string; n: number }>(
      `SELECT status, level, COUNT(*) AS n FROM alerts ${tenant === null ? '' : 'WHERE tenant = $1'} GROUP BY status, level`,
      tenant === null ? [] : [tenant],
    );
    return alertFacetsOf(rows);
  }

  async alertGroups(query: Omit<AlertQuery, 'cursor' | 'sort'>, by: 'rule' | 'host'): Promise<AlertGroup[]> {
    const { sql, params } = alertGroupsQuery(query, by, POSTGRES_DIALECT);
    return this.rows<AlertGroup>(sql, params);
  }

  async alert(tenant: string | null, id: number): Promise<AlertDetail | undefined> {
    const row = await this.row<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id]);
    if (!row || (tenant !== null && row.tenant !== tenant)) return undefined;
    const detections = await this.rows<DetectionRow>(
      'SELECT * FROM detections WHERE alert_id = $1 ORDER BY time NULLS FIRST, id LIMIT 1000',
      [id],
    );
    const history = await this.rows<{ time: string; actor: string; change: string }>(
      'SELECT time, actor, change FROM alert_history WHERE alert_id = $1 ORDER BY id',
      [id],
    );
    return {
      ...toAlert(row),
      detections: detections.map(toDetection),
      history: history.map((h) => ({
        time: h.time,
        actor: h.actor,
        change: JSON.parse(h.change) as Record<string, unknown>,
      })),
    };
  }

  async triage(
    tenant: string | null,
    id: number,
    change: TriageChange,
    actor: string,
  ): Promise<Alert | undefined> {
    return this.transaction(async (client) => {
      // Locked: two analysts changing one alert at once are applied one after the other.
      const row = await this.row<AlertRow>('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id], client);
      if (!row || (tenant !== null && row.tenant !== tenant)) return undefined;
      const outcome = triageOutcome(row, change);
      if (!outcome) return toAlert(row);
      const now = this.now();
      const updated = (await this.row<AlertRow>(
        'UPDATE alerts SET status = $1, close_reason = $2, assignee = $3, updated_at = $4 WHERE id = $5 RETURNING *',
        [outcome.status, outcome.closeReason, outcome.assignee, now, id],
        client,
      ))!;
      await client.query(
        'INSERT INTO alert_history (alert_id, time, actor, change) VALUES ($1, $2, $3, $4)',
        [id, now, actor, JSON.stringify(outcome.recorded)],
      );
      await this.appendAudit(client, {
        actor,
        action: 'alert.update',
        tenant: row.tenant,
        target: String(id),
        details: outcome.recorded,
      });
      return toAlert(updated);
    });
  }

  async detections(query: DetectionQuery): Promise<Page<StoredDetection>> {
    const { sql, params, page } = pageQuery<DetectionRow>(
      'detections',
      detectionConditions(query, POSTGRES_DIALECT),
      query,
    );
    return page(await this.rows<DetectionRow>(sql, params), toDetection);
  }

  async stats(tenant: string | null): Promise<TenantStats> {
    const filter = tenant === null ? '' : 'WHERE tenant = $1';
    const args = tenant === null ? [] : [tenant];
    const row = (await this.row<TenantStats>(
      `SELECT (SELECT COALESCE(SUM(processed), 0)::bigint FROM positions ${filter}) AS processed,
              (SELECT COUNT(*) FROM detections ${filter}) AS detections,
              (SELECT COUNT(*) FROM alerts ${filter}) AS alerts`,
      args,
    ))!;
    return { processed: row.processed, detections: row.detections, alerts: row.alerts };
  }

  async alertCounts(tenant: string | null): Promise<Record<AlertStatus, number>> {
    const rows = await this.rows<{ status: AlertStatus; n: number }>(
      `SELECT status, COUNT(*) AS n FROM alerts ${tenant === null ? '' : 'WHERE tenant = $1'} GROUP BY status`,
      tenant === null ? [] : [tenant],
    );
    return alertCountsOf(rows);
  }

  async addSuppression(suppression: NewSuppression, actor: string): Promise<Suppression> {
    return this.transaction(async (client) => {
      const row = (await this.row<SuppressionRow>(
        `${INSERT_SUPPRESSION} RETURNING *`,
        suppressionValues(suppression, actor, this.now()),
        client,
      ))!;
      await this.appendAudit(client, {
        actor,
        action: 'suppression.add',
        tenant: suppression.tenant,
        target: String(row.id),
        details: { ...suppression },
      });
      return toSuppression(row);
    });
  }

  async suppressions(tenant: string | null): Promise<Suppression[]> {
    const rows =
      tenant === null
        ? await this.rows<SuppressionRow>('SELECT * FROM suppressions ORDER BY id')
        : await this.rows<SuppressionRow>(
            'SELECT * FROM suppressions WHERE tenant = $1 OR tenant IS NULL ORDER BY id',
            [tenant],
          );
    return rows.map(toSuppression);
  }

  async removeSuppression(tenant: string | null, id: number, actor: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const row = await this.row<SuppressionRow>(
        'SELECT * FROM suppressions WHERE id = $1 FOR UPDATE',
        [id],
        client,
      );
      // A tenant's token may lift its own suppressions only, not the service-wide ones.
      if (!row || (tenant !== null && row.tenant !== tenant)) return false;
      await client.query('UPDATE suppressions SET until = $1 WHERE id = $2', [this.now(), id]);
      await this.appendAudit(client, {
        actor,
        action: 'suppression.end',
        tenant: row.tenant,
        target: String(id),
        details: {},
      });
      return true;
    });
  }

  async setRuleDisabled(tenant: string, rule: string, disabled: boolean, actor: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const changed = disabled
        ? await client.query(
            `INSERT INTO disabled_rules (tenant, rule_key, disabled_by, disabled_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING`,
            [tenant, rule, actor, this.now()],
          )
        : await client.query('DELETE FROM disabled_rules WHERE tenant = $1 AND rule_key = $2', [
            tenant,
            rule,
          ]);
      if (!changed.rowCount) return false;
      await this.appendAudit(client, {
        actor,
        action: disabled ? 'rule.disable' : 'rule.enable',
        tenant,
        target: rule,
        details: {},
      });
      return true;
    });
  }

  async disabledRules(tenant: string | null): Promise<DisabledRule[]> {
    const rows =
      tenant === null
        ? await this.rows<DisabledRuleRow>('SELECT * FROM disabled_rules ORDER BY tenant, rule_key')
        : await this.rows<DisabledRuleRow>(
            'SELECT * FROM disabled_rules WHERE tenant = $1 ORDER BY rule_key',
            [tenant],
          );
    return rows.map(toDisabledRule);
  }

  async ruleHits(tenant: string, since: number): Promise<RuleHits[]> {
    const rows = await this.rows<{ rule_key: string; title: string; day: string; n: number }>(
      `SELECT rule_key, MAX(rule_title) AS title, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
              COUNT(*) AS n
         FROM detections WHERE tenant = $1 AND created_at >= $2 GROUP BY rule_key, day ORDER BY rule_key, day`,
      [tenant, new Date(since).toISOString()],
    );
    return rows.map((r) => ({ rule: r.rule_key, title: r.title, day: r.day, detections: r.n }));
  }

  async startHunt(
    hunt: Pick<RetroHunt, 'tenant' | 'rules' | 'since' | 'until'>,
    actor: string,
  ): Promise<RetroHunt> {
    return this.transaction(async (client) => {
      const row = (await this.row<HuntRow>(
        `INSERT INTO hunts (tenant, requested_by, rules, since, until, status, started_at)
         VALUES ($1, $2, $3, $4, $5, 'running', $6) RETURNING *`,
        [hunt.tenant, actor, hunt.rules, hunt.since, hunt.until, this.now()],
        client,
      ))!;
      await this.appendAudit(client, {
        actor,
        action: 'hunt.start',
        tenant: hunt.tenant,
        target: String(row.id),
        details: { rules: hunt.rules, since: hunt.since, until: hunt.until },
      });
      return toHunt(row);
    });
  }

  async addHuntDetections(id: number, detections: readonly Detection[], keep: number): Promise<void> {
    await this.transaction(async (client) => {
      const { detections: before } = (await this.row<{ detections: number }>(
        'SELECT detections FROM hunts WHERE id = $1 FOR UPDATE',
        [id],
        client,
      ))!;
      const kept = keptHuntDetections(before, detections, keep);
      if (kept.length)
        await client.query(
          'INSERT INTO hunt_detections (hunt_id, n, detection) SELECT $1, * FROM unnest($2::integer[], $3::json[])',
          [id, kept.map((k) => k.n), kept.map((k) => k.detection)],
        );
      await client.query('UPDATE hunts SET detections = detections + $1 WHERE id = $2', [
        detections.length,
        id,
      ]);
    });
  }

  async finishHunt(id: number, outcome: { events: number; error?: string }): Promise<void> {
    await this.pool.query(
      'UPDATE hunts SET status = $1, error = $2, events = $3, finished_at = $4 WHERE id = $5',
      [
        outcome.error === undefined ? 'done' : 'failed',
        outcome.error ?? null,
        outcome.events,
        this.now(),
        id,
      ],
    );
  }

  async failRunningHunts(reason: string): Promise<number> {
    const result = await this.pool.query(
      `UPDATE hunts SET status = 'failed', error = $1, finished_at = $2 WHERE status = 'running'`,
      [reason, this.now()],
    );
    return result.rowCount ?? 0;
  }

  async hunts(tenant: string | null): Promise<RetroHunt[]> {
    const rows =
      tenant === null
        ? await this.rows<HuntRow>('SELECT * FROM hunts ORDER BY id DESC LIMIT 200')
        : await this.rows<HuntRow>('SELECT * FROM hunts WHERE tenant = $1 ORDER BY id DESC LIMIT 200', [
            tenant,
          ]);
    return rows.map(toHunt);
  }

  async hunt(
    tenant: string | null,
    id: number,
    limit: number,
    offset: number,
  ): Promise<{ hunt: RetroHunt; detections: Detection[] } | undefined> {
    const row = await this.row<HuntRow>('SELECT * FROM hunts WHERE id = $1', [id]);
    if (!row || (tenant !== null && row.tenant !== tenant)) return undefined;
    const detections = await this.rows<{ detection: string }>(
      'SELECT detection FROM hunt_detections WHERE hunt_id = $1 ORDER BY n LIMIT $2 OFFSET $3',
      [id, limit, offset],
    );
    return { hunt: toHunt(row), detections: detections.map((d) => JSON.parse(d.detection) as Detection) };
  }

  async saveResponse(change: ResponseChange, audit: AuditRecord): Promise<ResponseRecord> {
    return this.transaction(async (client) => {
      const row = (await this.row<ResponseRow>(
        `${INSERT_RESPONSE} ON CONFLICT (key) DO UPDATE SET ${RESPONSE_UPDATE} RETURNING *`,
        responseValues(change, this.now()),
        client,
      ))!;
      await this.appendAudit(client, audit);
      return toResponseRecord(row);
    });
  }

  async responses(tenant: string | null, alertId: number): Promise<ResponseRecord[]> {
    const rows = await this.rows<ResponseRow>(
      'SELECT * FROM responses WHERE alert_id = $1 AND ($2::text IS NULL OR tenant = $2) ORDER BY id',
      [alertId, tenant],
    );
    return rows.map(toResponseRecord);
  }

  async response(tenant: string | null, id: number): Promise<ResponseRecord | undefined> {
    const row = await this.row<ResponseRow>(
      'SELECT * FROM responses WHERE id = $1 AND ($2::text IS NULL OR tenant = $2)',
      [id, tenant],
    );
    return row && toResponseRecord(row);
  }

  async responseByKey(key: string): Promise<ResponseRecord | undefined> {
    const row = await this.row<ResponseRow>('SELECT * FROM responses WHERE key = $1', [key]);
    return row && toResponseRecord(row);
  }

  async dueResponses(now: number): Promise<ResponseRecord[]> {
    const rows = await this.rows<ResponseRow>(
      `SELECT * FROM responses
        WHERE (state = 'awaiting-approval' AND expires_at <= $1) OR (state = 'done' AND revert_at <= $1)
           OR state = 'running'
        ORDER BY id`,
      [now],
    );
    return rows.map(toResponseRecord);
  }

  async watchPosition(path: string): Promise<WatchPosition | undefined> {
    return this.row<WatchPosition>(
      'SELECT path, tenant, identity, "offset", record FROM watched_files WHERE path = $1',
      [path],
    );
  }

  async saveWatchPosition(position: WatchPosition): Promise<void> {
    await this.pool.query(
      `INSERT INTO watched_files (path, tenant, identity, "offset", record) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (path) DO UPDATE SET tenant = excluded.tenant, identity = excluded.identity,
         "offset" = excluded."offset", record = excluded.record`,
      [position.path, position.tenant, position.identity, position.offset, position.record],
    );
  }

  async close(): Promise<void> {
    if (this.soleNode) {
      await this.soleNode.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      this.soleNode.release(true);
      this.soleNode = undefined;
    }
    await this.pool.end();
  }
}
