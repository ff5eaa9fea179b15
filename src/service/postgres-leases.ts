import { createHash } from 'node:crypto';
import type pg from 'pg';
import { type Fence, LeaseLost, type OwnershipListener, type TenantOwnership } from './ownership.js';

export interface LeaseOptions {
  /** This node's name, unique in the cluster. */
  node: string;
  /** A lease not renewed for this long is free for another node to take. */
  ttlMs: number;
  /** How often the node renews, takes and hands over leases (well under ttlMs). */
  heartbeatMs: number;
  /** Tenants that exist (with a log or an account); more appear through noticeTenant. */
  tenants: () => string[];
  /** What the node tells others about itself (shown by cluster status). */
  info?: () => Record<string, unknown>;
  onError?: (error: Error) => void;
}

export interface LeaseRow {
  tenant: string;
  node: string | null;
  epoch: number;
  expiresAt: string;
}

export interface NodeRow {
  node: string;
  startedAt: string;
  seenAt: string;
  live: boolean;
  info: Record<string, unknown>;
}

/**
 * Rendezvous hashing: every node computes the same preferred owner of a tenant from the live
 * nodes alone, so tenants spread without a coordinator and only a leaving or joining node's share
 * moves.
 */
export function preferredNode(tenant: string, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const node of nodes) {
    const score = createHash('sha256').update(`${tenant}\0${node}`).digest().readBigUInt64BE(0);
    if (score > bestScore) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Checks, inside the transaction of a commit, that the tenant is still leased to the committing
 * node under the same epoch; the row stays share-locked until the commit ends, so a node taking
 * the tenant over waits for it and then reads the position it left.
 */
export async function checkFence(client: pg.ClientBase, tenant: string, fence: Fence): Promise<void> {
  const held = await client.query(
    'SELECT 1 FROM leases WHERE tenant = $1 AND node = $2 AND epoch = $3 FOR SHARE',
    [tenant, fence.node, fence.epoch],
  );
  if (held.rowCount === 0) throw new LeaseLost(tenant, fence);
}

/**
 * Tenant leases in PostgreSQL: each node renews what it holds, takes the free or expired leases of
 * the tenants it is the preferred owner of, and hands over the ones a newly joined node prefers.
 * A taken lease's epoch grows by one, which fences the previous holder's late commits.
 */
export class PostgresLeases implements TenantOwnership {
  private readonly held = new Map<string, number>();
  private readonly handingOver = new Set<string>();
  private readonly known = new Set<string>();
  private readonly listeners: OwnershipListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: LeaseOptions,
  ) {}

  /** Joins the cluster and takes a first share of tenants before returning. */
  async start(): Promise<void> {
    await this.pool.query(
      `INSERT INTO nodes (node, started_at, seen_at, info) VALUES ($1, now(), now(), $2)
       ON CONFLICT (node) DO UPDATE SET started_at = now(), seen_at = now(), info = $2`,
      [this.options.node, JSON.stringify(this.options.info?.() ?? {})],
    );
    await this.rebalance();
    this.timer = setInterval(() => void this.rebalance(), this.options.heartbeatMs);
    this.timer.unref();
  }

  owns(tenant: string): boolean {
    return this.held.has(tenant);
  }

  fence(tenant: string): Fence | undefined {
    const epoch = this.held.get(tenant);
    return epoch === undefined ? undefined : { node: this.options.node, epoch };
  }

  active(tenant: string): boolean {
    return this.held.has(tenant) && !this.handingOver.has(tenant);
  }

  listen(listener: OwnershipListener): void {
    this.listeners.push(listener);
  }

  noticeTenant(tenant: string): void {
    if (this.known.has(tenant)) return;
    this.known.add(tenant);
    void this.rebalance();
  }

  released(tenant: string): void {
    const epoch = this.held.get(tenant);
    if (epoch === undefined) return;
    this.held.delete(tenant);
    this.handingOver.delete(tenant);
    void this.pool
      .query(
        'UPDATE leases SET node = NULL, expires_at = now() WHERE tenant = $1 AND node = $2 AND epoch = $3',
        [tenant, this.options.node, epoch],
      )
      .then(() => this.rebalance())
      .catch((error: Error) => this.options.onError?.(error));
  }

  /** One round at a time: a round asked for while one runs is folded into the next. */
  rebalance(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.round ??= this.runRound()
      .catch((error: Error) => this.options.onError?.(error))
      .finally(() => {
        this.round = undefined;
      });
    return this.round;
  }

  private async runRound(): Promise<void> {
    const { node, ttlMs } = this.options;
    const ttl = `${ttlMs} milliseconds`;
    await this.pool.query('UPDATE nodes SET seen_at = now(), info = $2 WHERE node = $1', [
      node,
      JSON.stringify(this.options.info?.() ?? {}),
    ]);
    const renewed = await this.pool.query<{ tenant: string; epoch: number }>(
      `UPDATE leases SET expires_at = now() + $2::interval WHERE node = $1 RETURNING tenant, epoch`,
      [node, ttl],
    );
    const stillHeld = new Map(renewed.rows.map((r) => [r.tenant, Number(r.epoch)]));
    const lost = [...this.held].filter(([tenant, epoch]) => stillHeld.get(tenant) !== epoch).map(([t]) => t);
    for (const tenant of lost) {
      this.held.delete(tenant);
      this.handingOver.delete(tenant);
    }
    if (lost.length) this.emitLost(lost, false);

    const live = (
      await this.pool.query<{ node: string }>(
        `SELECT node FROM nodes WHERE seen_at > now() - $1::interval OR node = $2 ORDER BY node`,
        [ttl, node],
      )
    ).rows.map((r) => r.node);
    const leases = await this.pool.query<{
      tenant: string;
      node: string | null;
      stale: boolean;
      free: boolean;
    }>(
      `SELECT tenant, node, expires_at < now() - $1::interval AS stale,
              node IS NULL OR expires_at < now() AS free
       FROM leases`,
      [ttl],
    );
    for (const tenant of this.options.tenants()) this.known.add(tenant);
    for (const row of leases.rows) this.known.add(row.tenant);
    const leaseOf = new Map(leases.rows.map((r) => [r.tenant, r]));

    const handOver: string[] = [];
    const wanted: string[] = [];
    for (const tenant of this.known) {
      const preferred = preferredNode(tenant, live);
      const lease = leaseOf.get(tenant);
      if (this.held.has(tenant)) {
        if (preferred !== node && !this.handingOver.has(tenant)) handOver.push(tenant);
        continue;
      }
      // The preferred node takes a free lease first; any node takes one left stale (the preferred
      // node may have died before the others noticed).
      if (!lease || lease.free) {
        if (preferred === node || (lease?.stale ?? false)) wanted.push(tenant);
      }
    }
    const gained: string[] = [];
    for (const tenant of wanted) {
      const taken = await this.pool.query<{ epoch: number }>(
        `INSERT INTO leases (tenant, node, epoch, expires_at) VALUES ($1, $2, 1, now() + $3::interval)
         ON CONFLICT (tenant) DO UPDATE SET node = $2, epoch = leases.epoch + 1, expires_at = excluded.expires_at
         WHERE leases.node IS NULL OR leases.expires_at < now()
         RETURNING epoch`,
        [tenant, node, ttl],
      );
      const row = taken.rows[0];
      if (!row) continue;
      this.held.set(tenant, Number(row.epoch));
      gained.push(tenant);
    }
    if (gained.length) for (const listener of this.listeners) listener.gained(gained);
    if (handOver.length) {
      for (const tenant of handOver) this.handingOver.add(tenant);
      this.emitLost(handOver, true);
    }
  }

  private emitLost(tenants: string[], handover: boolean): void {
    for (const listener of this.listeners) listener.lost(tenants, handover);
  }

  /** Leases as they stand, for cluster status. */
  static async leases(pool: pg.Pool): Promise<LeaseRow[]> {
    const rows = await pool.query<{ tenant: string; node: string | null; epoch: number; expires_at: string }>(
      'SELECT tenant, node, epoch, expires_at FROM leases ORDER BY tenant',
    );
    return rows.rows.map((r) => ({
      tenant: r.tenant,
      node: r.node,
      epoch: r.epoch,
      expiresAt: r.expires_at,
    }));
  }

  static async nodes(pool: pg.Pool, ttlMs: number): Promise<NodeRow[]> {
    const rows = await pool.query<{
      node: string;
      started_at: string;
      seen_at: string;
      live: boolean;
      info: string;
    }>(
      'SELECT node, started_at, seen_at, seen_at > now() - $1::interval AS live, info FROM nodes ORDER BY node',
      [`${ttlMs} milliseconds`],
    );
    return rows.rows.map((r) => ({
      node: r.node,
      startedAt: r.started_at,
      seenAt: r.seen_at,
      live: r.live,
      info: JSON.parse(r.info) as Record<string, unknown>,
    }));
  }

  /**
   * Leaves the cluster: every lease still held is released at once (the processor has stored its
   * state by then) and the node's row goes, so the others rebalance on their next round.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.round;
    await this.pool.query('UPDATE leases SET node = NULL, expires_at = now() WHERE node = $1', [
      this.options.node,
    ]);
    await this.pool.query('DELETE FROM nodes WHERE node = $1', [this.options.node]);
    this.held.clear();
  }
}
