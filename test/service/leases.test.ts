import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLost } from '../../src/service/ownership.js';
import { openPool } from '../../src/service/postgres.js';
import { checkFence, PostgresLeases, preferredNode } from '../../src/service/postgres-leases.js';
import { parsePostgresUrl } from '../../src/service/postgres-url.js';
import { migrateServiceStore } from '../../src/service/store-choice.js';
import { freshSchema, hasPostgres } from '../helpers/postgres.js';

const TENANTS = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);
/** Rounds run only when a test asks, so a "killed" node is one the test stops asking. */
const BY_HAND = 3_600_000;

describe.skipIf(!hasPostgres)('tenant leases in PostgreSQL', () => {
  const schema = freshSchema();
  let pool: pg.Pool;

  beforeAll(async () => {
    await migrateServiceStore({ url: schema.url });
    pool = openPool(parsePostgresUrl(schema.url));
  });
  afterAll(async () => {
    await pool?.end();
    await schema.drop();
  });

  async function reset(): Promise<void> {
    await pool.query('DELETE FROM leases; DELETE FROM nodes');
  }

  /** A node that hands over at once when asked, as a processor with nothing under way does. */
  function node(name: string, ttlMs = 60_000): PostgresLeases & { events: string[] } {
    const leases = Object.assign(
      new PostgresLeases(pool, { node: name, ttlMs, heartbeatMs: BY_HAND, tenants: () => TENANTS }),
      { events: [] as string[] },
    );
    leases.listen({
      gained: (tenants) => leases.events.push(...tenants.map((t) => `+${t}`)),
      lost: (tenants, handover) => {
        leases.events.push(...tenants.map((t) => `-${t}`));
        if (handover) for (const t of tenants) leases.released(t);
      },
    });
    return leases;
  }

  function owners(nodes: readonly PostgresLeases[], names: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const tenant of TENANTS)
      out.set(
        tenant,
        nodes.flatMap((n, i) => (n.fence(tenant) ? [names[i]!] : [])),
      );
    return out;
  }

  async function settle(nodes: readonly PostgresLeases[]): Promise<void> {
    for (let round = 0; round < 4; round++) for (const n of nodes) await n.rebalance();
  }

  it('gives every tenant to exactly one node, the preferred one, and spreads them', async () => {
    await reset();
    const names = ['a', 'b', 'c'];
    const nodes = names.map((n) => node(n));
    for (const n of nodes) await n.start();
    await settle(nodes);
    const held = owners(nodes, names);
    for (const tenant of TENANTS) expect(held.get(tenant)).toEqual([preferredNode(tenant, names)]);
    for (const name of names)
      expect([...held.values()].filter((o) => o[0] === name).length).toBeGreaterThan(0);
    for (const n of nodes) await n.stop();
    expect((await PostgresLeases.leases(pool)).every((l) => l.node === null)).toBe(true);
    expect(await PostgresLeases.nodes(pool, 60_000)).toEqual([]);
  });

  it('hands a joining node its share, taken under a new epoch', async () => {
    await reset();
    const a = node('a');
    await a.start();
    await settle([a]);
    expect(TENANTS.every((t) => a.fence(t)?.epoch === 1)).toBe(true);
    const b = node('b');
    await b.start();
    await settle([a, b]);
    const held = owners([a, b], ['a', 'b']);
    const moved = TENANTS.filter((t) => preferredNode(t, ['a', 'b']) === 'b');
    expect(moved.length).toBeGreaterThan(0);
    for (const tenant of TENANTS) expect(held.get(tenant)).toEqual([preferredNode(tenant, ['a', 'b'])]);
    for (const tenant of moved) {
      expect(b.fence(tenant)?.epoch).toBe(2);
      expect(a.events).toContain(`-${tenant}`);
    }
    await a.stop();
    await settle([b]);
    expect(TENANTS.every((t) => b.fence(t) !== undefined)).toBe(true);
    await b.stop();
  });

  it('moves a silent node’s tenants once its leases expire, and fences its late commits', async () => {
    await reset();
    const ttlMs = 400;
    const a = node('a', ttlMs);
    const silent = node('silent', ttlMs);
    await a.start();
    await silent.start();
    await settle([a, silent]);
    const stranded = TENANTS.filter((t) => silent.fence(t));
    expect(stranded.length).toBeGreaterThan(0);
    const oldFence = silent.fence(stranded[0]!)!;

    // The silent node renews no more (killed): after its leases and its heartbeat lapse, a takes all.
    await new Promise((r) => setTimeout(r, ttlMs * 2.5));
    await settle([a]);
    expect(TENANTS.every((t) => a.fence(t) !== undefined)).toBe(true);
    expect(a.fence(stranded[0]!)!.epoch).toBe(oldFence.epoch + 1);

    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await expect(checkFence(client, stranded[0]!, oldFence)).rejects.toBeInstanceOf(LeaseLost);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      await expect(checkFence(client, stranded[0]!, a.fence(stranded[0]!)!)).resolves.toBeUndefined();
      await client.query('COMMIT');
    } finally {
      client.release();
    }

    // When it wakes up, the silent node learns it lost them, and nothing is held twice.
    await silent.rebalance();
    expect(stranded.every((t) => silent.events.includes(`-${t}`))).toBe(true);
    expect(TENANTS.every((t) => !silent.fence(t))).toBe(true);
    await a.stop();
    await silent.stop();
  });

  it('takes a tenant it has just heard of', async () => {
    await reset();
    const a = node('a');
    await a.start();
    a.noticeTenant('late-comer');
    await a.rebalance();
    expect(a.fence('late-comer')).toEqual({ node: 'a', epoch: 1 });
    expect(a.active('late-comer')).toBe(true);
    await a.stop();
  });
});
