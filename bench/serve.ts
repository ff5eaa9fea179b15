/**
 * Service benchmark: `vigil serve` against `vigil hunt` on the same events and rules.
 *
 *   1. `vigil hunt` over a JSONL of the EVTX-ATTACK-SAMPLES repeated to --events events, with
 *      SigmaHQ rules/windows: events/s, rule loading taken out (a hunt of one event is timed too);
 *   2. `vigil serve` with the same rules, fed the same events over HTTP by a separate load process
 *      as fast as it accepts them: sustained events/s, from the first request to the moment
 *      detection has processed the last event, and the CPU each of its threads spent per 1,000
 *      events meanwhile (robust where wall time is not: on a machine others share), with the load
 *      process's own CPU, which the same cores paid;
 *   3. at half that rate for --seconds, and again for ten times as long: the event-to-alert
 *      latency of every detection (stored time minus the time its event was accepted), p50 and
 *      p99, and the service's resident memory, sampled every second (peak and at the end), so
 *      that memory staying flat over a longer run shows;
 *   4. the console's alert queue once --alerts alerts (100,000 by default) are added to the
 *      tenant: each filter change in headless Chromium and from the server, as bench:console
 *      measures it (the same code), against the 300 ms the console must answer in.
 *
 *   npm run bench:serve [-- --events N] [-- --seconds S] [-- --threads T] [-- --alerts N]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillAlerts } from './alert-fill.js';
import {
  argNumber,
  attackSamplesDir,
  count,
  printRows,
  repeatLines,
  secondsSinceFirstRequest,
  sendLoad,
  sigmaDir,
  timed,
  VIGIL,
  vigilOut,
} from './common.js';
import { timeQueueFilters } from './queue-timing.js';

const totalEvents = argNumber('events', 200_000);
const seconds = argNumber('seconds', 20);
const threads = argNumber('threads', 1);
const queueAlerts = argNumber('alerts', 100_000);
/** What the console's queue must answer a filter change in (issue 19). */
const QUEUE_BUDGET_MS = 300;

interface Service {
  url: string;
  child: ChildProcess;
}

function startService(data: string, rules: string, env: NodeJS.ProcessEnv): Promise<Service> {
  const child = spawn(
    process.execPath,
    [VIGIL, 'serve', '--data', data, '--listen', '127.0.0.1:0', '--rules', rules, '-t', String(threads)],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /listening on (\S+)/.exec(log);
      if (match) resolve({ url: match[1]!, child });
    });
    child.on('exit', (code) => reject(new Error(`vigil serve exited (${code}):\n${log}`)));
  });
}

async function stats(
  service: Service,
  token: string,
): Promise<{ accepted: number; processed: number; detections: number }> {
  const response = await fetch(`${service.url}/api/v1/stats`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await response.json()) as { accepted: number; processed: number; detections: number };
}

async function drained(service: Service, token: string): Promise<void> {
  for (;;) {
    const s = await stats(service, token);
    if (s.processed === s.accepted) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function load(service: Service, token: string, file: string, events: number, rate?: number) {
  return sendLoad([service.url], [token], file, events, { rate });
}

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** The unit of /proc's CPU times (USER_HZ, 100 on Linux everywhere it runs). */
const CLOCK_TICKS_PER_S = 100;

/** CPU time of each thread of a process so far, in ms, by thread id (Linux: /proc/PID/task). */
function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // utime and stime, the 14th and 15th fields, counted after the parenthesised name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S);
  }
  return out;
}

/**
 * CPU per 1,000 events between two readings: the main thread (its id is the process's), the
 * busiest other one (the detection thread, with one), and the rest (V8's helpers: garbage
 * collection and compilation; libuv's pool: file writes and syncs).
 */
function cpuPerThousand(
  pid: number,
  before: Map<number, number>,
  after: Map<number, number>,
  events: number,
) {
  const spent = [...after].map(([tid, ms]) => ({ tid, ms: ms - (before.get(tid) ?? 0) }));
  const main = spent.find((t) => t.tid === pid)?.ms ?? 0;
  const others = spent.filter((t) => t.tid !== pid).sort((a, b) => b.ms - a.ms);
  const busiest = others[0]?.ms ?? 0;
  const rest = others.slice(1).reduce((sum, t) => sum + t.ms, 0);
  const per = (ms: number) => (ms / events) * 1000;
  return { main: per(main), detection: per(busiest), rest: per(rest) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Half load for `duration` seconds: latency of each detection found meanwhile, memory each second. */
async function halfLoad(
  service: Service,
  tokens: { ingest: string; viewer: string },
  file: string,
  rate: number,
  duration: number,
) {
  const before = (await stats(service, tokens.viewer)).detections;
  const memory: number[] = [];
  const sampler = setInterval(() => memory.push(rssMB(service.child.pid!)), 1000);
  const sent = await load(service, tokens.ingest, file, Math.round(rate * duration), rate);
  await drained(service, tokens.viewer);
  clearInterval(sampler);
  memory.push(rssMB(service.child.pid!));
  const latencies: number[] = [];
  let cursor: string | null = null;
  let wanted = (await stats(service, tokens.viewer)).detections - before;
  do {
    const response = await fetch(
      `${service.url}/api/v1/detections?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      {
        headers: { authorization: `Bearer ${tokens.viewer}` },
      },
    );
    const page = (await response.json()) as {
      detections: { received_at: string; created_at: string }[];
      next: string | null;
    };
    for (const d of page.detections) {
      if (wanted-- <= 0) break;
      latencies.push(Date.parse(d.created_at) - Date.parse(d.received_at));
    }
    cursor = wanted > 0 ? page.next : null;
  } while (cursor);
  latencies.sort((a, b) => a - b);
  return {
    rate: sent.rate,
    detections: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    peakMB: Math.max(...memory),
    endMB: memory.at(-1)!,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-serve-'));
try {
  const env = { VIGIL_HOME: join(dir, 'home') };
  const rules = join(sigmaDir(), 'rules', 'windows');
  const samples = join(dir, 'samples.jsonl');
  vigilOut(['dump', attackSamplesDir(), '-o', samples], env);
  const events = join(dir, 'events.jsonl');
  const copies = repeatLines(samples, events, totalEvents);
  // One event no rule matches: a hunt of it is the cost of loading the rules.
  const empty = join(dir, 'one.jsonl');
  writeFileSync(empty, '{"message":"nothing"}\n');

  console.log(
    `bench:serve: ${count(totalEvents)} events (the samples ${copies} times), SigmaHQ rules/windows, ${threads} detection thread(s)\n`,
  );
  const huntArgs = (file: string) => [
    'hunt',
    file,
    '--rules',
    rules,
    '-t',
    String(threads),
    '--format',
    'jsonl',
    '--no-summary',
    '--no-progress',
  ];
  timed(process.execPath, [VIGIL, ...huntArgs(empty)]); // the rule cache is written once
  const loadOnly = timed(process.execPath, [VIGIL, ...huntArgs(empty)]);
  const hunted = timed(process.execPath, [VIGIL, ...huntArgs(events)], {
    stdoutFile: join(dir, 'hunt.jsonl'),
  });
  const huntRate = totalEvents / (hunted.seconds - loadOnly.seconds);

  const data = join(dir, 'data');
  vigilOut(['admin', '--data', data, 'tenant', 'add', 'bench'], env);
  const token = (role: string) =>
    vigilOut(['admin', '--data', data, 'token', 'add', '--role', role, '--tenant', 'bench'], env)
      .trim()
      .split('\n')
      .at(-1)!;
  const tokens = { ingest: token('ingest'), viewer: token('viewer') };
  const service = await startService(data, rules, env);
  try {
    const cpuBefore = threadCpuMs(service.child.pid!);
    const full = await load(service, tokens.ingest, events, totalEvents);
    await drained(service, tokens.viewer);
    const serveRate = totalEvents / secondsSinceFirstRequest(full);
    const cpu = cpuPerThousand(service.child.pid!, cpuBefore, threadCpuMs(service.child.pid!), totalEvents);
    const short = await halfLoad(service, tokens, samples, serveRate / 2, seconds);
    const long = await halfLoad(service, tokens, samples, serveRate / 2, seconds * 10);
    fillAlerts(join(data, 'vigil.db'), 'bench', queueAlerts);
    const queue = await timeQueueFilters(service.url, tokens.viewer, 7);
    printRows([
      [
        'vigil hunt',
        `${count(huntRate)} events/s (${hunted.seconds.toFixed(1)} s, of which ${loadOnly.seconds.toFixed(1)} s loading rules; peak ${hunted.peakMB?.toFixed(0) ?? '?'} MB)`,
      ],
      [
        'vigil serve, full load',
        `${count(serveRate)} events/s sustained (accepted at ${count(full.rate)} events/s; ${full.throttled} answers 429; the load process used ${((full.cpuSeconds / totalEvents) * 1e6).toFixed(1)} ms CPU per 1,000 events)`,
      ],
      ['serve / hunt', `${((serveRate / huntRate) * 100).toFixed(0)} %`],
      [
        'serve CPU per 1,000 events',
        `main thread ${cpu.main.toFixed(1)} ms, detection thread ${cpu.detection.toFixed(1)} ms, other threads ${cpu.rest.toFixed(1)} ms`,
      ],
      [
        `half load, ${seconds} s`,
        `${count(short.rate)} events/s: latency p50 ${short.p50} ms, p99 ${short.p99} ms over ${count(short.detections)} detections; memory peak ${short.peakMB.toFixed(0)} MB, end ${short.endMB.toFixed(0)} MB`,
      ],
      [
        `half load, ${seconds * 10} s`,
        `${count(long.rate)} events/s: latency p50 ${long.p50} ms, p99 ${long.p99} ms over ${count(long.detections)} detections; memory peak ${long.peakMB.toFixed(0)} MB, end ${long.endMB.toFixed(0)} MB`,
      ],
      [
        `console queue, ${count(queueAlerts)} more alerts`,
        `slowest filter change ${queue.worstMedianMs.toFixed(0)} ms in the browser (median of 7): ${queue.worstMedianMs < QUEUE_BUDGET_MS ? 'within' : 'OVER'} the ${QUEUE_BUDGET_MS} ms budget`,
      ],
    ]);
    console.log('');
    printRows(queue.rows);
  } finally {
    service.child.kill('SIGTERM');
    await new Promise((r) => service.child.once('exit', r));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
