import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { deleteStreams, hasNats, natsUrl, testPrefix } from '../helpers/nats.js';
import { freshSchema, hasPostgres, onDatabase } from '../helpers/postgres.js';
import { api, type RunningService, startService } from '../helpers/serve.js';
import { failedLogons } from '../helpers/windows-events.js';

/**
 * Several `vigil serve` nodes on one machine, sharing the local NATS JetStream and PostgreSQL as a
 * cluster does: events taken in by one node are detected on by whichever node holds the tenant,
 * and the detections are exactly those of `vigil hunt`, whatever node dies on the way.
 */
const TENANTS = ['north', 'south', 'east', 'west'];
const BATCH = 500;

interface Cluster {
  store: string;
  schema: string;
  prefix: string;
  dir: string;
  /** The nodes' VIGIL_HOME: the one of the test's vigil hunt, whose parsed-rule cache spares each
   * node parsing the rules again. */
  home: string;
  nodes: Map<string, RunningService>;
  admin: string;
  ingest: Record<string, string>;
  drop(): Promise<void>;
}

function ok(result: { status: number | null; stdout: string; stderr: string }): string {
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

/** A store schema and stream prefix of the test's own, migrated, with its tenants and tokens. */
function newCluster(root: string, tenants: readonly string[]): Cluster {
  const schema = freshSchema();
  const prefix = testPrefix();
  const dir = mkdtempSync(join(root, 'cluster-'));
  const admin = (...args: string[]) => ok(vigil(['admin', '--store', schema.url, ...args]));
  admin('migrate');
  const ingest: Record<string, string> = {};
  for (const tenant of tenants) {
    admin('tenant', 'add', tenant);
    ingest[tenant] = admin('token', 'add', '--role', 'ingest', '--tenant', tenant).trim().split('\n').at(-1)!;
  }
  const cluster: Cluster = {
    store: schema.url,
    schema: schema.name,
    prefix,
    dir,
    home: join(root, 'home'),
    nodes: new Map(),
    admin: admin('token', 'add', '--role', 'admin').trim().split('\n').at(-1)!,
    ingest,
    drop: async () => {
      for (const node of stopAll(cluster)) await node;
      await deleteStreams(prefix);
      await schema.drop();
    },
  };
  return cluster;
}

function stopAll(cluster: Cluster): Promise<unknown>[] {
  return [...cluster.nodes.values()].map((node) => {
    if (node.process.exitCode === null && node.process.signalCode === null) node.process.kill('SIGTERM');
    return node.exited;
  });
}

/** Starts one more node: its own data folder, the cluster's bus and store, a short lease. */
async function startNode(cluster: Cluster, name: string, rules: string, extra = ''): Promise<RunningService> {
  const data = join(cluster.dir, name);
  mkdirSync(data, { recursive: true });
  writeFileSync(
    join(data, 'config.yml'),
    `store: ${JSON.stringify(cluster.store)}\nbus: { url: "${natsUrl}", prefix: ${cluster.prefix} }\ncluster: { node: ${name}, lease_ttl: 3s }\n${extra}`,
  );
  const node = await startService(data, ['--rules', rules], { VIGIL_HOME: cluster.home });
  cluster.nodes.set(name, node);
  return node;
}

function clusterStatus(cluster: Cluster, node: string) {
  return JSON.parse(
    ok(vigil(['admin', '--data', join(cluster.dir, node), 'cluster', 'status', '--json'])),
  ) as {
    nodes: { node: string; live: boolean; tenants: number }[];
    tenants: { tenant: string; node: string | null; accepted: number; processed: number; lag: number }[];
  };
}

async function send(node: RunningService, token: string, lines: readonly string[]): Promise<void> {
  for (let i = 0; i < lines.length; i += BATCH) {
    const body = `${lines.slice(i, i + BATCH).join('\n')}\n`;
    const sent = await api(node, token, 'POST', '/api/v1/events', body, 'application/x-ndjson');
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    expect(sent.body.accepted).toBe(Math.min(BATCH, lines.length - i));
  }
}

/** Who holds each tenant now and how far its detection is, once every tenant has a holder. */
async function leasesNow(
  cluster: Cluster,
  tenants = TENANTS.length,
): Promise<{ tenant: string; node: string; processed: number }[]> {
  for (let i = 0; ; i++) {
    const rows = await onDatabase(
      async (client) =>
        (
          await client.query(
            `SELECT l.tenant, l.node, COALESCE(p.processed, 0)::int AS processed
             FROM ${cluster.schema}.leases l LEFT JOIN ${cluster.schema}.positions p USING (tenant)
             WHERE l.node IS NOT NULL`,
          )
        ).rows as { tenant: string; node: string; processed: number }[],
    );
    if (rows.length === tenants || i > 100) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until detection has stored every event the cluster accepted, as one node sees it. */
async function caughtUp(cluster: Cluster, via: RunningService, expected: number, timeoutMs = 240_000) {
  const started = Date.now();
  for (;;) {
    const stats = await api(via, cluster.admin, 'GET', '/api/v1/stats');
    if (stats.body.accepted === expected && stats.body.processed === expected) return stats.body;
    if (Date.now() - started > timeoutMs) {
      const logs = [...cluster.nodes].map(([name, node]) => `--- ${name}\n${node.log()}`).join('\n');
      throw new Error(`detection did not catch up: ${JSON.stringify(stats.body)}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Rule, host and record of each detection of a tenant, sorted. */
async function detectionKeys(cluster: Cluster, via: RunningService, tenant: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await api(
      via,
      cluster.admin,
      'GET',
      `/api/v1/detections?tenant=${tenant}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(page.status).toBe(200);
    for (const d of page.body.detections)
      out.push(`${d.rule.id}|${d.host ?? ''}|${d.record ?? d.source?.record}`);
    cursor = page.body.next;
  } while (cursor);
  return out.sort();
}

describe.skipIf(!hasContent || !hasPostgres || !hasNats)('vigil serve as a cluster of three nodes', () => {
  let root: string;
  let lines: string[];
  let expected: string[];
  /** A quarter of the samples for each tenant, and what vigil hunt finds in it. */
  let quarters: { lines: string[]; expected: string[] }[];
  const rules = () => contentPath('sigma', 'rules', 'windows');
  const clusters: Cluster[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'vigil-cluster-'));
    const env = { VIGIL_HOME: join(root, 'home') };
    const jsonl = join(root, 'samples.jsonl');
    ok(vigil(['dump', join(contentPath(), '..', 'datasets', 'evtx-attack-samples'), '-o', jsonl], env));
    lines = readFileSync(jsonl, 'utf8').split('\n').filter(Boolean);
    const size = Math.ceil(lines.length / TENANTS.length);
    const parts = TENANTS.map((_, i) => {
      const file = join(root, `quarter-${i}.jsonl`);
      writeFileSync(file, `${lines.slice(i * size, (i + 1) * size).join('\n')}\n`);
      return file;
    });
    // One hunt of the four quarters: what each tenant of the first test must find, and together
    // what a tenant sent every sample must find (the rules of rules/windows judge each event alone).
    const hunted = ok(
      vigil(
        ['hunt', ...parts, '--rules', rules(), '--format', 'jsonl', '--no-summary', '--no-progress'],
        env,
      ),
    );
    const found = hunted
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as {
            rule: { id: string };
            host?: string;
            source: { file: string; record: number };
          },
      );
    const keysOf = (file?: string) =>
      found
        .filter((d) => file === undefined || d.source.file === file)
        .map((d) => `${d.rule.id}|${d.host ?? ''}|${d.source.record}`)
        .sort();
    expected = keysOf();
    expect(expected.length).toBeGreaterThan(500);
    quarters = parts.map((file, i) => ({
      lines: lines.slice(i * size, (i + 1) * size),
      expected: keysOf(file),
    }));
    for (const quarter of quarters) expect(quarter.expected.length).toBeGreaterThan(20);
  }, 300_000);
  afterAll(async () => {
    for (const cluster of clusters) await cluster.drop();
    rmSync(root, { recursive: true, force: true });
  });

  // Each tenant is sent a quarter of the samples (the next test sends them all to each): the work is
  // shared out all the same, and a detection stored under the wrong tenant would now show.
  it('finds exactly what vigil hunt finds, for every tenant, with the samples sent through one node', async () => {
    const cluster = newCluster(root, TENANTS);
    clusters.push(cluster);
    const [first] = await Promise.all(['n1', 'n2', 'n3'].map((name) => startNode(cluster, name, rules())));
    for (const [i, tenant] of TENANTS.entries())
      await send(first!, cluster.ingest[tenant]!, quarters[i]!.lines);
    await caughtUp(cluster, first!, lines.length);
    for (const [i, tenant] of TENANTS.entries())
      expect(await detectionKeys(cluster, first!, tenant)).toEqual(quarters[i]!.expected);

    // The tenants were shared out: more than one node detected, and every tenant has one owner.
    const status = clusterStatus(cluster, 'n2');
    expect(status.nodes.filter((n) => n.live)).toHaveLength(3);
    expect(status.nodes.filter((n) => n.tenants > 0).length).toBeGreaterThan(1);
    expect(status.tenants.map((t) => [t.tenant, t.lag])).toEqual([...TENANTS].sort().map((t) => [t, 0]));
    expect(status.tenants.every((t) => t.node !== null)).toBe(true);
  }, 600_000);

  it('loses nothing and repeats nothing when the busiest node is killed mid-run and another joins', async () => {
    const cluster = newCluster(root, TENANTS);
    clusters.push(cluster);
    await Promise.all(['n1', 'n2', 'n3'].map((name) => startNode(cluster, name, rules())));
    const half = Math.floor(lines.length / 2);
    const ingestVia = cluster.nodes.get('n1')!;
    for (const tenant of TENANTS) await send(ingestVia, cluster.ingest[tenant]!, lines.slice(0, half));

    // Kill the node detecting for the most tenants while it is at work, without warning (read
    // straight from the store: the admin command would take longer than the work left).
    const held = await leasesNow(cluster);
    const counts = new Map<string, number>();
    for (const lease of held) counts.set(lease.node, (counts.get(lease.node) ?? 0) + 1);
    const [busiest] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    // It dies with work under way: events of its tenants not yet detected on.
    expect(held.filter((l) => l.node === busiest).some((l) => l.processed < half)).toBe(true);
    const victimName = busiest.split('#')[0]!;
    const victim = cluster.nodes.get(victimName)!;
    victim.process.kill('SIGKILL');
    await victim.exited;
    cluster.nodes.delete(victimName);

    await startNode(cluster, 'n4', rules());
    const survivor = cluster.nodes.get(victimName === 'n1' ? 'n2' : 'n1')!;
    for (const tenant of TENANTS) await send(survivor, cluster.ingest[tenant]!, lines.slice(half));
    await caughtUp(cluster, survivor, lines.length * TENANTS.length);
    for (const tenant of TENANTS) expect(await detectionKeys(cluster, survivor, tenant)).toEqual(expected);
    const status = clusterStatus(cluster, 'n4');
    expect(status.nodes.find((n) => n.node === busiest)?.live ?? false).toBe(false);
    expect(status.tenants.every((t) => t.node !== null && !t.node.startsWith(`${victimName}#`))).toBe(true);
  }, 600_000);

  it('fires a correlation once when its events reach the tenant through different nodes', async () => {
    const cluster = newCluster(root, ['corp']);
    clusters.push(cluster);
    const identity = join(VIGIL_RULES_DIR, 'identity');
    const [a, b] = await Promise.all(
      ['c1', 'c2'].map((n) => startNode(cluster, n, identity, 'lateness: 2s\n')),
    );
    // Ten failed logons of one account from one address: the threshold of the brute-force rule.
    const failures = failedLogons(10, { user: 'carol', ip: '203.0.113.9' });
    for (const [i, event] of failures.entries()) await send(i % 2 ? b! : a!, cluster.ingest.corp!, [event]);
    await caughtUp(cluster, b!, failures.length);
    // Event time moves on by the lateness, and the correlation is judged by whichever node owns it.
    await new Promise((r) => setTimeout(r, 3000));
    const alerts = await api(a!, cluster.admin, 'GET', '/api/v1/alerts?tenant=corp&limit=100');
    const titles = alerts.body.alerts.map((alert: { rule: { title: string } }) => alert.rule.title);
    expect(
      titles.filter((t: string) => t === 'Brute Force Of One Windows Account From One Source'),
    ).toHaveLength(1);
    const found = await api(a!, cluster.admin, 'GET', '/api/v1/detections?tenant=corp&limit=100');
    const bruteForce = found.body.detections.filter(
      (d: { rule: { title: string } }) =>
        d.rule.title === 'Brute Force Of One Windows Account From One Source',
    );
    expect(bruteForce).toHaveLength(1);
  }, 300_000);

  it('a rule deployed through one node is used by the node that detects for the tenant', async () => {
    const cluster = newCluster(root, ['corp']);
    clusters.push(cluster);
    const identity = join(VIGIL_RULES_DIR, 'identity');
    await Promise.all(['r1', 'r2'].map((n) => startNode(cluster, n, identity)));
    // The tenant's first event makes its stream, and one of the nodes takes the tenant.
    const [first, second] = failedLogons(2, { user: 'mallory', ip: '198.51.100.7' });
    await send(cluster.nodes.get('r1')!, cluster.ingest.corp!, [first!]);
    const [lease] = await leasesNow(cluster, 1);
    const ownerName = lease!.node.split('#')[0]!;
    const owner = cluster.nodes.get(ownerName)!;
    const other = cluster.nodes.get(ownerName === 'r1' ? 'r2' : 'r1')!;

    const broken = await api(other, cluster.admin, 'PUT', '/api/v1/rules/tenant/mallory.yml', {
      tenant: 'corp',
      text: 'title: no detection\nlogsource: {product: windows}\n',
    });
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/detection/);
    const rule = [
      'title: Failed logon of the account mallory',
      'id: 5b0f8a52-6f3e-4c1e-9a57-3d2c1b0e9f11',
      'status: test',
      'logsource: { product: windows, service: security }',
      'detection:',
      '  selection: { EventID: 4625, TargetUserName: mallory }',
      '  condition: selection',
      'level: high',
      '',
    ].join('\n');
    const put = await api(other, cluster.admin, 'PUT', '/api/v1/rules/tenant/mallory.yml', {
      tenant: 'corp',
      text: rule,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.rules).toEqual(['Failed logon of the account mallory']);
    // The owner writes it into its own folder from the store, and loads it.
    for (let i = 0; ; i++) {
      const status = await api(owner, cluster.admin, 'GET', '/api/v1/rules?tenant=corp');
      if (status.body.tenants.corp?.rules === 1) break;
      if (i > 120) throw new Error(`the owner never loaded the rule:\n${owner.log()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(owner.log()).toContain('rule file mallory.yml deployed from the cluster');
    await send(other, cluster.ingest.corp!, [second!]);
    await caughtUp(cluster, other, 2);
    const found = await api(other, cluster.admin, 'GET', '/api/v1/detections?tenant=corp&limit=100');
    const titles = found.body.detections.map((d: { rule: { title: string } }) => d.rule.title);
    expect(titles).toEqual(['Failed logon of the account mallory']);
  }, 300_000);
});
