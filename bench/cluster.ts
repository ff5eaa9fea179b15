/**
 * Cluster benchmark: `vigil serve` nodes on the local NATS JetStream and PostgreSQL, against one
 * embedded process (files and SQLite) on the same events.
 *
 *   1. The EVTX-ATTACK-SAMPLES dumped to JSONL, repeated to --events events, spread over --tenants
 *      tenants (each batch of 1,000 to the next tenant), SigmaHQ rules/windows;
 *   2. for 1, 2 and 3 nodes (--nodes to choose), each `vigil serve` with -t --threads: the events
 *      sent through every node in turn by a separate load process as fast as accepted, timed from
 *      the first request until the cluster has processed every event; where each node's time went
 *      (its stage timers on /metrics) and the CPU used by the nodes, nats-server and PostgreSQL;
 *   3. the same events through one embedded `vigil serve`, for the ratio of the cluster's overhead.
 *
 * Each run has a PostgreSQL schema and a stream prefix of its own, dropped and deleted at the end,
 * also when the run fails.
 *
 *   npm run bench:cluster [-- --events N] [-- --tenants T] [-- --threads T] [-- --nodes 1,2,3]
 *                         [-- --bus nats://HOST:PORT] [-- --store postgres://...]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import {
  argNumber,
  argText,
  attackSamplesDir,
  count,
  printRows,
  repeatLines,
  secondsSinceFirstRequest,
  sendLoad,
  sigmaDir,
  VIGIL,
  vigilOut,
} from './common.js';

const totalEvents = argNumber('events', 120_000);
const tenantCount = argNumber('tenants', 12);
const threads = argNumber('threads', 1);
const nodeCounts = (argText('nodes') ?? '1,2,3').split(',').map(Number);
const busUrl = argText('bus') ?? 'nats://127.0.0.1:4222';
const storeUrl = argText('store') ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Requests under way at once, per node taking ingest. */
const CONCURRENCY_PER_NODE = 4;
const STAGES = ['log_append', 'log_read', 'detection_threads', 'detection_wait', 'store_commit'] as const;
type Stages = Record<(typeof STAGES)[number], number>;

/** Exits with directions when the local services the cluster runs on are not there. */
async function requireServices(): Promise<void> {
  const client = new pg.Client({ connectionString: storeUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    console.error(
      `bench:cluster needs PostgreSQL at ${storeUrl} (--store): ${(error as Error).message}\nStart it (Debian: the postgresql package; trust auth, database test) and run again.`,
    );
    process.exit(1);
  } finally {
    await client.end().catch(() => undefined);
  }
  try {
    const nc = await connect({ servers: busUrl, timeout: 3000 });
    await jetstreamManager(nc);
    await nc.close();
  } catch (error) {
    console.error(
      `bench:cluster needs NATS with JetStream at ${busUrl} (--bus): ${(error as Error).message}\nStart it (nats-server -js) and run again.`,
    );
    process.exit(1);
  }
}

/**
 * What to undo if the benchmark is interrupted (Ctrl-C): nodes to stop, schemas and streams to
 * remove. A failure inside a run undoes the same through its `finally`.
 */
const undo = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: removing the benchmark's schemas and streams`);
    void Promise.allSettled([...undo].map((step) => step())).then(() => process.exit(1));
  });
}

/** A run's own place in the shared services: its schema and stream prefix, and how to remove them. */
function clusterPlace() {
  const id = randomBytes(5).toString('hex');
  const schema = `vigil_bench_${id}`;
  const url = new URL(storeUrl);
  url.searchParams.set('schema', schema);
  const prefix = `bench-${id}`;
  return {
    store: url.toString(),
    prefix,
    async remove(): Promise<void> {
      const client = new pg.Client({ connectionString: storeUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
      const nc = await connect({ servers: busUrl });
      try {
        const jsm = await jetstreamManager(nc);
        const names: string[] = [];
        for await (const name of jsm.streams.names(`${prefix}.>`)) names.push(name);
        for (const name of names) if (name.startsWith(`${prefix}_`)) await jsm.streams.delete(name);
      } finally {
        await nc.close();
      }
    },
  };
}

interface Node {
  url: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}

function startNode(data: string, rules: string, env: NodeJS.ProcessEnv): Promise<Node> {
  const child = spawn(
    process.execPath,
    [VIGIL, 'serve', '--data', data, '--listen', '127.0.0.1:0', '--rules', rules, '-t', String(threads)],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /listening on (\S+)/.exec(log);
      if (match) resolve({ url: match[1]!, child, exited });
    });
    void exited.then((code) => reject(new Error(`vigil serve exited (${code}):\n${log}`)));
  });
}

async function stopNodes(nodes: readonly Node[]): Promise<void> {
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGTERM');
  await Promise.all(nodes.map((node) => node.exited));
}

async function get(node: Node, token: string, path: string): Promise<Response> {
  const response = await fetch(`${node.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response;
}

/** How long detection may make no progress before the run is given up as stuck. */
const STALL_MS = 120_000;

/** Waits until every event sent is processed, as a node sees the whole cluster. */
async function caughtUp(node: Node, admin: string, expected: number): Promise<void> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const stats = (await (await get(node, admin, '/api/v1/stats')).json()) as {
      accepted: number;
      processed: number;
    };
    if (stats.accepted === expected && stats.processed === expected) return;
    if (stats.processed !== last) {
      last = stats.processed;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > STALL_MS)
      throw new Error(
        `detection made no progress for ${STALL_MS / 1000} s: ${JSON.stringify(stats)} of ${expected}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stageSeconds(node: Node, admin: string): Promise<Stages> {
  const text = await (await get(node, admin, '/metrics')).text();
  const out = Object.fromEntries(STAGES.map((s) => [s, 0])) as Stages;
  for (const [, stage, value] of text.matchAll(/^vigil_stage_seconds_total\{stage="(\w+)"\} (\S+)$/gm))
    if (stage! in out) out[stage as keyof Stages] = Number(value);
  return out;
}

/** The unit of CPU times in /proc (USER_HZ), 100 on Linux whatever the kernel's own tick. */
const TICKS_PER_SECOND = 100;

/** Processor time (user and system) of a process so far, in seconds; 0 when it is gone. */
function cpuSeconds(pid: number, file = `/proc/${pid}/stat`): number {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command (which may hold spaces), counted from the state field.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Processor time of a process's main thread alone (where ingest, reads and commits run), in seconds. */
function mainThreadSeconds(pid: number): number {
  return cpuSeconds(pid, `/proc/${pid}/task/${pid}/stat`);
}

/** The processes of a program on this machine (the one nats-server). */
function pidsOf(program: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === program) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** The local TCP ports of a process's sockets (its connections to PostgreSQL among them). */
function localPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (socket) inodes.add(socket[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length > 9 && inodes.has(columns[9]!))
        ports.push(Number.parseInt(columns[1]!.split(':').at(-1)!, 16));
    }
  }
  return ports;
}

/**
 * The CPU the shared services spend on a run, sampled twice a second: nats-server as a whole, and
 * the PostgreSQL backends serving the run's nodes alone (found by the nodes' client ports), so
 * that other work on the same server is not counted. A backend's CPU is counted from when it is
 * first seen (0 for one that starts during the run) to when it is last seen.
 */
class ServiceCpu {
  private readonly nats = pidsOf('nats-server');
  private readonly natsStart: number;
  private readonly backends = new Map<number, { first: number; last: number }>();
  private readonly timer: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: pg.Client,
    private readonly nodePids: readonly number[],
  ) {
    this.natsStart = this.natsNow();
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample(false));
    }, 500);
  }

  static async start(nodePids: readonly number[]): Promise<ServiceCpu> {
    const client = new pg.Client({ connectionString: storeUrl });
    await client.connect();
    const cpu = new ServiceCpu(client, nodePids);
    await cpu.sample(true);
    return cpu;
  }

  private natsNow(): number {
    return this.nats.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  private async sample(atStart: boolean): Promise<void> {
    const ports = this.nodePids.flatMap((pid) => localPorts(pid));
    const rows = (
      await this.client.query('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports])
    ).rows as { pid: number }[];
    for (const { pid } of rows) {
      const now = cpuSeconds(pid);
      const seen = this.backends.get(pid);
      if (seen) seen.last = Math.max(seen.last, now);
      else this.backends.set(pid, { first: atStart ? now : 0, last: now });
    }
  }

  /** CPU seconds since the start: nats-server's, and the run's PostgreSQL backends'. */
  async stop(): Promise<{ nats: number; postgres: number }> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample(false);
    await this.client.end();
    let postgres = 0;
    for (const { first, last } of this.backends.values()) postgres += last - first;
    return { nats: this.natsNow() - this.natsStart, postgres };
  }
}

function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

interface Run {
  label: string;
  nodes: number;
  seconds: number;
  acceptedRate: number;
  throttled: number;
  /** Stage seconds summed over the nodes. */
  stages: Stages;
  /** CPU seconds during the run: the vigil processes (and their main threads), nats-server, PostgreSQL. */
  cpu: { vigil: number; vigilMain: number; nats: number; postgres: number };
  /** Tenants each node held at the end (cluster runs). */
  spread?: number[];
  load: number;
}

/** Sends the events through the nodes and measures until they are all processed. */
async function measure(
  label: string,
  nodes: readonly Node[],
  admin: string,
  ingest: readonly string[],
  events: string,
): Promise<Run> {
  const before = {
    vigil: nodes.map((n) => cpuSeconds(n.child.pid!)),
    vigilMain: nodes.map((n) => mainThreadSeconds(n.child.pid!)),
    services: await ServiceCpu.start(nodes.map((n) => n.child.pid!)),
    stages: await Promise.all(nodes.map((n) => stageSeconds(n, admin))),
  };
  const sent = await sendLoad(
    nodes.map((n) => n.url),
    ingest,
    events,
    totalEvents,
    { concurrency: CONCURRENCY_PER_NODE * nodes.length },
  );
  await caughtUp(nodes[0]!, admin, totalEvents);
  const seconds = secondsSinceFirstRequest(sent);
  const services = await before.services.stop();
  const after = await Promise.all(nodes.map((n) => stageSeconds(n, admin)));
  const stages = Object.fromEntries(
    STAGES.map((s) => [s, after.reduce((sum, a, i) => sum + a[s] - before.stages[i]![s], 0)]),
  ) as Stages;
  return {
    label,
    nodes: nodes.length,
    seconds,
    acceptedRate: sent.rate,
    throttled: sent.throttled,
    stages,
    cpu: {
      vigil: nodes.reduce((sum, n, i) => sum + cpuSeconds(n.child.pid!) - before.vigil[i]!, 0),
      vigilMain: nodes.reduce((sum, n, i) => sum + mainThreadSeconds(n.child.pid!) - before.vigilMain[i]!, 0),
      nats: services.nats,
      postgres: services.postgres,
    },
    load: loadAverage(),
  };
}

/** The tenants, named t01, t02 …, and an ingest token for each; an admin token for the stats. */
function provision(admin: (...args: string[]) => string) {
  const tenants = Array.from({ length: tenantCount }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);
  const lastLine = (out: string) => out.trim().split('\n').at(-1)!;
  const ingest = tenants.map((tenant) => {
    admin('tenant', 'add', tenant);
    return lastLine(admin('token', 'add', '--role', 'ingest', '--tenant', tenant));
  });
  return { ingest, admin: lastLine(admin('token', 'add', '--role', 'admin')) };
}

async function clusterRun(
  dir: string,
  nodeCount: number,
  rules: string,
  events: string,
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  const place = clusterPlace();
  const nodes: Node[] = [];
  const remove = async () => {
    await stopNodes(nodes);
    await place.remove();
  };
  undo.add(remove);
  try {
    const admin = (...args: string[]) => vigilOut(['admin', '--store', place.store, ...args], env);
    admin('migrate');
    const tokens = provision(admin);
    for (let i = 1; i <= nodeCount; i++) {
      const data = join(dir, `cluster-${nodeCount}`, `n${i}`);
      mkdirSync(data, { recursive: true });
      writeFileSync(
        join(data, 'config.yml'),
        `store: ${JSON.stringify(place.store)}\nbus: { url: ${JSON.stringify(busUrl)}, prefix: ${place.prefix} }\ncluster: { node: n${i}, lease_ttl: 15s }\n`,
      );
    }
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: nodeCount }, (_, i) =>
          startNode(join(dir, `cluster-${nodeCount}`, `n${i + 1}`), rules, env),
        ),
      )),
    );
    const run = await measure(
      `${nodeCount} node${nodeCount > 1 ? 's' : ''}`,
      nodes,
      tokens.admin,
      tokens.ingest,
      events,
    );
    const status = JSON.parse(
      vigilOut(
        ['admin', '--data', join(dir, `cluster-${nodeCount}`, 'n1'), 'cluster', 'status', '--json'],
        env,
      ),
    ) as { nodes: { live: boolean; tenants: number }[] };
    run.spread = status.nodes.filter((n) => n.live).map((n) => n.tenants);
    return run;
  } finally {
    undo.delete(remove);
    await remove();
  }
}

async function embeddedRun(dir: string, rules: string, events: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const data = join(dir, 'embedded');
  const tokens = provision((...args) => vigilOut(['admin', '--data', data, ...args], env));
  const node = await startNode(data, rules, env);
  try {
    return await measure('embedded (files + SQLite)', [node], tokens.admin, tokens.ingest, events);
  } finally {
    await stopNodes([node]);
  }
}

const ms = (seconds: number) => ((seconds / totalEvents) * 1000).toFixed(3);

function rows(runs: readonly Run[]): [string, string][] {
  const out: [string, string][] = [];
  for (const run of runs) {
    const rate = totalEvents / run.seconds;
    const cores = (run.cpu.vigil + run.cpu.nats + run.cpu.postgres) / run.seconds;
    out.push([
      run.label,
      `${count(rate)} events/s (${run.seconds.toFixed(1)} s; accepted at ${count(run.acceptedRate)} events/s, ${run.throttled} answers 429; load average ${run.load.toFixed(1)})`,
    ]);
    const s = run.stages;
    out.push([
      '  ms per event',
      `append ${ms(s.log_append)}  read ${ms(s.log_read)}  detection threads ${ms(s.detection_threads)} (waited for ${ms(s.detection_wait)})  store commit ${ms(s.store_commit)}`,
    ]);
    out.push([
      '  CPU ms per event',
      `vigil ${ms(run.cpu.vigil)} (main threads ${ms(run.cpu.vigilMain)})  nats-server ${ms(run.cpu.nats)}  PostgreSQL backends ${ms(run.cpu.postgres)}  (${cores.toFixed(2)} cores busy)`,
    ]);
    out.push([
      '  per core',
      `${count(totalEvents / run.cpu.vigil)} events per CPU-second of vigil; ${count(totalEvents / (run.cpu.vigil + run.cpu.nats + run.cpu.postgres))} counting NATS and PostgreSQL${run.spread ? `; tenants per node ${run.spread.join('/')}` : ''}`,
    ]);
  }
  return out;
}

await requireServices();
const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-cluster-'));
try {
  const env = { VIGIL_HOME: join(dir, 'home') };
  const rules = join(sigmaDir(), 'rules', 'windows');
  const samples = join(dir, 'samples.jsonl');
  vigilOut(['dump', attackSamplesDir(), '-o', samples], env);
  const events = join(dir, 'events.jsonl');
  const copies = repeatLines(samples, events, totalEvents);
  // The rule cache is written once, before any timed run.
  writeFileSync(join(dir, 'one.jsonl'), '{"message":"nothing"}\n');
  vigilOut(['hunt', join(dir, 'one.jsonl'), '--rules', rules, '--no-summary', '--no-progress'], env);

  console.log(
    `bench:cluster: ${count(totalEvents)} events (the samples ${copies} times) over ${tenantCount} tenants, SigmaHQ rules/windows, ${threads} detection thread(s) per node; bus ${busUrl}, store ${storeUrl}\n`,
  );
  const runs: Run[] = [];
  for (const n of nodeCounts) {
    runs.push(await clusterRun(dir, n, rules, events, env));
    printRows(rows(runs.slice(-1)));
  }
  const embedded = await embeddedRun(dir, rules, events, env);
  printRows(rows([embedded]));
  console.log('');
  const reference = totalEvents / embedded.seconds;
  printRows(
    runs.map((run) => [
      `${run.label} / embedded`,
      `${((totalEvents / run.seconds / reference) * 100).toFixed(0)} % of the embedded rate`,
    ]),
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
