/**
 * Indicator matching benchmark: 1,000,000 generated indicators (addresses and networks, domains,
 * URLs, hashes, e-mail addresses, accounts) with a few values the samples hold planted among them.
 *
 *   1. loading: the list read, normalised and judged (time, memory), and the matcher built;
 *   2. matching in memory: events per second through the matcher alone, against the rules alone;
 *      and a one-thread hunt of the JSONL below with the indicators, under the CPU profiler: the
 *      share of its time spent in the indicator code (index built, events matched), a figure the
 *      load of a shared machine changes far less than wall times;
 *   3. end to end: `vigil hunt` over EVTX-ATTACK-SAMPLES (SigmaHQ rules/windows) and over the
 *      JSONL of bench:sigma (the regression events repeated), each without and with `--iocs`; the
 *      hunt with indicators says how long their loading took, so what matching adds is told apart
 *      from that fixed cost. The two take turns, N times each (default 3), and medians are compared:
 *      the machine is shared, single runs vary by a second or more. Processor time (every thread,
 *      with GNU time) is compared too, and what matching adds is told from it: the cost of loading
 *      is measured on a hunt of a log of one event, with and without the indicators, and taken out.
 *
 *   npm run bench:iocs [-- --indicators 1000000] [-- --file-events 100000] [-- --repeat 3]
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectFiles, type FieldValue, type LogEvent } from '../src/core/index.js';
import {
  DetectionEngine,
  hunt as huntFiles,
  IndicatorIndex,
  IocMatcher,
  indicatorTable,
  loadDetectionSetup,
} from '../src/detect/index.js';
import { loadIndicators } from '../src/intel/index.js';
import { LOG_EXTENSIONS, readEvents } from '../src/logs/index.js';
import { argNumber, attackSamplesDir, count, printRows, sigmaDir, timed, VIGIL } from './common.js';

const INDICATORS = argNumber('indicators', 1_000_000);
const FILE_EVENTS = argNumber('file-events', 100_000);
const EVENTS = 200_000;
const REPEAT = argNumber('repeat', 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Values EVTX-ATTACK-SAMPLES hold (see test/cli/iocs-cli.test.ts), so that matches happen. */
const PLANTED = [
  '151.101.0.133',
  'uguu.se',
  '2d41a174ea0589f39aa267f829870131ae18cff1b19648c118dc5a00aeaf078b',
  'pastebin.com',
];

/** A small fast generator with a seed: the same indicators every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TLDS = ['com', 'net', 'org', 'info', 'xyz', 'top', 'ru', 'cn', 'io', 'biz'];

function generate(n: number): string[] {
  const r = random(42);
  const int = (max: number) => Math.floor(r() * max);
  const label = () => {
    let s = '';
    const length = 5 + int(10);
    for (let i = 0; i < length; i++) s += 'abcdefghijklmnopqrstuvwxyz0123456789'[int(36)];
    return s;
  };
  const hex = (length: number) => {
    let s = '';
    for (let i = 0; i < length; i++) s += '0123456789abcdef'[int(16)];
    return s;
  };
  // Public-looking first octets (no private, loopback, multicast or documentation ranges).
  const octet1 = () => [23, 31, 45, 62, 77, 91, 103, 138, 176, 185, 193, 212][int(12)];
  const domain = () => `${label()}.${TLDS[int(TLDS.length)]}`;
  const lines: string[] = [...PLANTED];
  for (let i = lines.length; i < n; i++) {
    const kind = i % 50;
    if (kind < 20) lines.push(`${octet1()}.${int(256)}.${int(256)}.${1 + int(254)}`);
    else if (kind < 21) lines.push(`${octet1()}.${int(256)}.${int(256)}.0/${16 + int(13)}`);
    else if (kind < 22) lines.push(`2a0${int(10)}:${hex(4)}:${hex(4)}::${hex(3)}`);
    else if (kind < 32) lines.push(domain());
    else if (kind < 37) lines.push(`http://${domain()}/${label()}/${label()}.php`);
    else if (kind < 43) lines.push(hex(64));
    else if (kind < 45) lines.push(hex(40));
    else if (kind < 47) lines.push(hex(32));
    else if (kind < 49) lines.push(`${label()}@${domain()}`);
    else lines.push(`account ${label()}`);
  }
  return lines;
}

async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  for (const line of lines)
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

const heapMB = () => process.memoryUsage().heapUsed / 1024 ** 2;
const rssMB = () => process.memoryUsage().rss / 1024 ** 2;

function vary(base: LogEvent, i: number, start: number): LogEvent {
  const time = start + i * 1000;
  return {
    fields: { ...base.fields, Computer: `host-${i % 997}`, TimeCreated: new Date(time).toISOString() },
    source: { file: 'bench', record: i + 1 },
    time,
  };
}

/** The share of a one-thread hunt's profiled time spent in the indicator code (ioc-*.ts). */
async function profiledShare(logs: string, rules: string, table: ReturnType<typeof indicatorTable>) {
  const setupOptions = { rules: [rules] };
  const setup = await loadDetectionSetup(setupOptions);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  await huntFiles([logs], {
    setup: setupOptions,
    loaded: setup,
    threads: 1,
    watch: { iocs: table },
    onDetection: () => {},
  });
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  let total = 0;
  let indicators = 0;
  profile.samples!.forEach((sample, i) => {
    const delta = profile.timeDeltas![i]!;
    total += delta;
    if (/\/ioc-[a-z]+\.[jt]s$/.test(nodes.get(sample)!.callFrame.url)) indicators += delta;
  });
  return { seconds: total / 1e6, share: indicators / total };
}

/** `vigil hunt` with or without indicators: wall time, and how long it said loading them took. */
function hunt(logs: string, rules: string, iocs?: string) {
  const run = timed(process.execPath, [
    VIGIL,
    'hunt',
    logs,
    '--rules',
    rules,
    ...(iocs ? ['--iocs', iocs] : []),
    '--format',
    'jsonl',
    '--no-summary',
    '--no-progress',
  ]);
  const lines = run.stdout.split('\n').filter(Boolean);
  const indicatorMatches = lines.filter((line) => line.includes('"kind":"indicator"')).length;
  return { ...run, detections: lines.length, indicatorMatches };
}

function cpu(run: { cpuSeconds?: number; seconds: number }): number {
  return run.cpuSeconds ?? run.seconds;
}

/** The loading time `vigil hunt` reports on standard error ("Loaded N indicators … in 3.2 s"). */
function loadSeconds(stderr: string): number {
  const match = /Loaded [\d,]+ indicators .* in ([\d.]+) (ms|s)/.exec(stderr);
  if (!match) return 0;
  return Number(match[1]) / (match[2] === 'ms' ? 1000 : 1);
}

async function main(): Promise<void> {
  const sigma = sigmaDir();
  const samples = attackSamplesDir();
  console.log(`Indicator matching benchmark (Node ${process.version}, ${count(INDICATORS)} indicators)`);
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-iocs-'));
  try {
    const list = join(dir, 'indicators.txt');
    await writeLines(list, generate(INDICATORS));
    const listBytes = (await stat(list)).size;

    global.gc?.();
    const heapBefore = heapMB();
    let t = performance.now();
    const loaded = await loadIndicators([list], { now: Date.now() });
    const loadMs = performance.now() - t;
    const heapLoaded = heapMB();
    t = performance.now();
    const matcher = new IocMatcher([new IndicatorIndex(indicatorTable(loaded.indicators))]);
    const buildMs = performance.now() - t;
    global.gc?.();
    const heapMatcher = heapMB();

    // Matching in memory, on the SigmaHQ regression events (as bench:sigma), against the rules.
    const setup = await loadDetectionSetup({ rules: [join(sigma, 'rules', 'windows')] });
    const engine = new DetectionEngine(setup.ruleSet.rules, setup.pipelines);
    const { files } = await collectFiles([join(sigma, 'regression_data')], LOG_EXTENSIONS);
    const base: LogEvent[] = [];
    for (const file of files) for await (const event of readEvents(file)) base.push(event);
    const start = Date.UTC(2024, 0, 1);
    const pool = Array.from({ length: 20_000 }, (_, i) => vary(base[i % base.length]!, i, start));
    for (let i = 0; i < 20_000; i++) matcher.match(pool[i]!);
    t = performance.now();
    let hits = 0;
    for (let i = 0; i < EVENTS; i++) hits += matcher.match(pool[i % pool.length]!).length;
    const matchMs = performance.now() - t;
    for (let i = 0; i < 20_000; i++) engine.evaluate(pool[i]!);
    t = performance.now();
    for (let i = 0; i < EVENTS; i++) engine.evaluate(pool[i % pool.length]!);
    const rulesMs = performance.now() - t;

    // The JSONL of bench:sigma: the regression events repeated in their nested form.
    const jsonl = join(dir, 'events.jsonl');
    await writeLines(
      jsonl,
      (function* () {
        for (let i = 0; i < FILE_EVENTS; i++) {
          const event = vary(base[i % base.length]!, i, start);
          const raw = structuredClone(base[i % base.length]!.raw) as {
            Event: { System: Record<string, FieldValue> };
          };
          raw.Event.System.Computer = event.fields.Computer as string;
          raw.Event.System.TimeCreated = {
            '#attributes': { SystemTime: event.fields.TimeCreated as string },
          };
          yield JSON.stringify(raw);
        }
      })(),
    );

    const windows = join(sigma, 'rules', 'windows');
    const profiled = await profiledShare(jsonl, windows, indicatorTable(loaded.indicators));
    const rows: [string, string][] = [
      [
        'indicators loaded (plain list, inferred types)',
        `${count(loaded.counts.kept)} from ${(listBytes / 1e6).toFixed(0)} MB in ${(loadMs / 1000).toFixed(2)} s, heap +${(heapLoaded - heapBefore).toFixed(0)} MB`,
      ],
      [
        'matcher built (lookup tables by type, network prefixes)',
        `${(buildMs / 1000).toFixed(2)} s, heap with indicators and matcher ${(heapMatcher - heapBefore).toFixed(0)} MB (RSS ${rssMB().toFixed(0)} MB)`,
      ],
      [
        'matching in memory, one thread',
        `${count((EVENTS / matchMs) * 1000)} events/s (${count(hits)} hits), rules/windows alone ${count((EVENTS / rulesMs) * 1000)} events/s: matching costs ${((matchMs / rulesMs) * 100).toFixed(0)}% of rule evaluation`,
      ],
      [
        'one-thread hunt of the JSONL below, profiled',
        `${(profiled.share * 100).toFixed(1)}% of its ${profiled.seconds.toFixed(1)} s in the indicator code (index built and events matched)`,
      ],
    ];
    // The fixed cost of the indicators: a hunt of one event, with and without them.
    const one = join(dir, 'one.jsonl');
    await writeLines(one, [JSON.stringify(base[0]!.raw)]);
    const fixed: number[] = [];
    for (let i = 0; i < REPEAT; i++) fixed.push(cpu(hunt(one, windows, list)) - cpu(hunt(one, windows)));
    const loadingCpu = median(fixed);
    rows.push([
      'loading the indicators in `vigil hunt` (processor time)',
      `${loadingCpu.toFixed(2)} s (read, judged against the warning lists, packed), measured on a log of one event`,
    ]);
    for (const [label, logs, events] of [
      ['EVTX-ATTACK-SAMPLES', samples, 8255],
      [`JSONL of bench:sigma (${count(FILE_EVENTS)} events)`, jsonl, FILE_EVENTS],
    ] as const) {
      const runs: { without: ReturnType<typeof hunt>; with: ReturnType<typeof hunt> }[] = [];
      for (let i = 0; i < REPEAT; i++)
        runs.push({ without: hunt(logs, windows), with: hunt(logs, windows, list) });
      const without = median(runs.map((r) => r.without.seconds));
      const withIocs = median(runs.map((r) => r.with.seconds));
      const loading = median(runs.map((r) => loadSeconds(r.with.stderr)));
      const cpuWithout = median(runs.map((r) => cpu(r.without)));
      const cpuWith = median(runs.map((r) => cpu(r.with)));
      const peak = (list: (number | undefined)[]) => {
        const known = list.filter((v): v is number => v !== undefined);
        return known.length ? `, peak ${Math.max(...known).toFixed(0)} MB` : '';
      };
      rows.push(
        [
          `hunt ${label}, rules/windows`,
          `${without.toFixed(2)} s (median of ${REPEAT}), processor ${cpuWithout.toFixed(2)} s, ${count(runs[0]!.without.detections)} detections${peak(runs.map((r) => r.without.peakMB))}`,
        ],
        [
          '  the same with --iocs',
          `${withIocs.toFixed(2)} s (loading the indicators ${loading.toFixed(2)} s), processor ${cpuWith.toFixed(2)} s; ${count(runs[0]!.with.indicatorMatches)} indicator matches${peak(runs.map((r) => r.with.peakMB))}`,
        ],
        [
          `  what matching adds (${count(events)} events)`,
          `${(((cpuWith - loadingCpu - cpuWithout) / cpuWithout) * 100).toFixed(0)}% of the hunt's processor time, loading aside (${(((cpuWith - cpuWithout) / cpuWithout) * 100).toFixed(0)}% with it); wall time ${(((withIocs - loading - without) / without) * 100).toFixed(0)}% loading aside`,
        ],
      );
    }
    printRows(rows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
