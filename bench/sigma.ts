/**
 * Sigma engine benchmark: all SigmaHQ Windows rules over at least 500,000 events.
 *
 * Events are the SigmaHQ regression events (238 real Sysmon/Security/... events) repeated with
 * varied hosts and times. Three figures:
 *   1. load + compile time of the rule corpus;
 *   2. evaluation rate: events already in memory, through routing and every applicable rule;
 *   3. end to end: the `vigil hunt` command over a JSONL file with SigmaHQ's rules/windows, and
 *      Zircolite on the same file and rules when the peers are set up (PEERS, ../shared/peers).
 * Peak memory is the process's maximum resident set size.
 *
 *   npm run bench:sigma [-- --events 500000] [-- --file-events 100000]
 */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectFiles, type FieldValue, type LogEvent } from '../src/core/index.js';
import { DetectionEngine, loadDetectionSetup } from '../src/detect/index.js';
import { LOG_EXTENSIONS, readEvents } from '../src/logs/index.js';
import { argNumber, findPeers, sigmaDir, timed, VIGIL } from './common.js';

const EVENTS = argNumber('events', 500_000);
const FILE_EVENTS = argNumber('file-events', 100_000);
const POOL = 20_000;
const rss = () => process.resourceUsage().maxRSS / 1024;

function vary(base: LogEvent, i: number, start: number): LogEvent {
  const time = start + i * 1000;
  const fields: Record<string, FieldValue> = {
    ...base.fields,
    Computer: `host-${i % 997}`,
    TimeCreated: new Date(time).toISOString(),
  };
  return { fields, source: { file: 'bench', record: i + 1 }, time };
}

/** Zircolite over the same JSONL, when the peers are set up: its wall time and detection count. */
function zircolite(
  jsonl: string,
  dir: string,
): { seconds: number; detections: number; peakMB?: number } | undefined {
  const { python, zircolite: home, zircoliteRules: rules } = findPeers();
  if (!python || !home || !rules) return undefined;
  const config = existsSync(join(home, 'config', 'config-notransforms.yaml'))
    ? 'config/config-notransforms.yaml'
    : 'config/config.yaml';
  const output = join(dir, 'zircolite.json');
  const run = timed(
    python,
    [
      'zircolite.py',
      '-e',
      jsonl,
      '-j',
      '-r',
      rules,
      '-c',
      config,
      '-o',
      output,
      '-l',
      join(dir, 'z.log'),
      '-q',
    ],
    {
      cwd: home,
    },
  );
  const results = JSON.parse(readFileSync(output, 'utf8')) as { count: number }[];
  return {
    seconds: run.seconds,
    detections: results.reduce((sum, r) => sum + r.count, 0),
    peakMB: run.peakMB,
  };
}

async function main(): Promise<void> {
  const sigma = sigmaDir();
  console.log(`Sigma engine benchmark (Node ${process.version}, ${sigma})`);

  let t = performance.now();
  const all = await loadDetectionSetup({
    rules: ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) => join(sigma, f)),
  });
  const loadAll = performance.now() - t;
  const windowsRules = all.ruleSet.rules.filter((r) => r.logsource.product === 'windows');
  t = performance.now();
  const engine = new DetectionEngine(windowsRules, all.pipelines);
  const compileWindows = performance.now() - t;

  const { files } = await collectFiles([join(sigma, 'regression_data')], LOG_EXTENSIONS);
  const base: LogEvent[] = [];
  for (const file of files) for await (const event of readEvents(file)) base.push(event);
  const start = Date.UTC(2024, 0, 1);

  // A pool of distinct events (hosts and times varied), cycled through: building 500,000 objects
  // would measure the allocator, not the engine.
  const pool: LogEvent[] = [];
  for (let i = 0; i < POOL; i++) pool.push(vary(base[i % base.length]!, i, start));
  for (let i = 0; i < 20_000; i++) engine.evaluate(pool[i % pool.length]!); // warm-up
  t = performance.now();
  let matches = 0;
  for (let i = 0; i < EVENTS; i++) matches += engine.evaluate(pool[i % pool.length]!).length;
  const evalMs = performance.now() - t;

  // End to end, as a user runs it: the `vigil hunt` command over a JSONL file of Windows events in
  // the nested evtx_dump form, with the SigmaHQ rules/windows folder, and the same with Zircolite
  // when it is set up (../shared/peers/README.md), so both are measured in the same run.
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
  const path = join(dir, 'events.jsonl');
  const out = createWriteStream(path);
  for (let i = 0; i < FILE_EVENTS; i++) {
    const event = vary(base[i % base.length]!, i, start);
    const raw = structuredClone(base[i % base.length]!.raw) as {
      Event: { System: Record<string, FieldValue> };
    };
    raw.Event.System.Computer = event.fields.Computer as string;
    raw.Event.System.TimeCreated = { '#attributes': { SystemTime: event.fields.TimeCreated as string } };
    if (!out.write(`${JSON.stringify(raw)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  const bytes = (await stat(path)).size;
  const windowsFolder = join(sigma, 'rules', 'windows');
  const vigilRun = timed(process.execPath, [
    VIGIL,
    'hunt',
    path,
    '--rules',
    windowsFolder,
    '--format',
    'jsonl',
    '--no-summary',
    '--no-progress',
  ]);
  const vigilDetections = vigilRun.stdout.split('\n').filter(Boolean).length;
  const peer = zircolite(path, dir);
  await rm(dir, { recursive: true });

  const rows: [string, string][] = [
    [
      'rules loaded (rules, emerging-threats, threat-hunting)',
      `${all.ruleSet.rules.length} in ${(loadAll / 1000).toFixed(2)} s (parse, validate, compile)`,
    ],
    [
      'Windows rules compiled for the bench',
      `${windowsRules.length} in ${(compileWindows / 1000).toFixed(2)} s`,
    ],
    ['distinct base events', String(base.length)],
    [
      'events evaluated in memory',
      `${EVENTS.toLocaleString('en-US')} (${POOL.toLocaleString('en-US')} distinct) -> ${matches.toLocaleString('en-US')} rule matches`,
    ],
    [
      'evaluation rate (routing + rules)',
      `${Math.round((EVENTS / evalMs) * 1000).toLocaleString('en-US')} events/s on one thread`,
    ],
    [
      '`vigil hunt` over JSONL, rules/windows, end to end',
      `${FILE_EVENTS.toLocaleString('en-US')} events, ${(bytes / 1e6).toFixed(0)} MB in ${vigilRun.seconds.toFixed(1)} s = ${Math.round(FILE_EVENTS / vigilRun.seconds).toLocaleString('en-US')} events/s, ${(bytes / 1e6 / vigilRun.seconds).toFixed(1)} MB/s, ${vigilDetections.toLocaleString('en-US')} detections${vigilRun.peakMB ? `, peak ${vigilRun.peakMB.toFixed(0)} MB` : ''}`,
    ],
    peer
      ? [
          'Zircolite 3.7 on the same file (pre-converted rules)',
          `${peer.seconds.toFixed(1)} s, ${peer.detections.toLocaleString('en-US')} detections${peer.peakMB ? `, peak ${peer.peakMB.toFixed(0)} MB` : ''}: Vigil is ${(peer.seconds / vigilRun.seconds).toFixed(1)}x faster`,
        ]
      : ['Zircolite', 'not set up here (see ../shared/peers/README.md; set PEERS)'],
    ['peak memory of this benchmark process (max RSS)', `${rss().toFixed(0)} MB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
  console.log(
    JSON.stringify({
      rules: windowsRules.length,
      loadSeconds: +(loadAll / 1000).toFixed(2),
      events: EVENTS,
      eventsPerSecond: Math.round((EVENTS / evalMs) * 1000),
      huntEventsPerSecond: Math.round(FILE_EVENTS / vigilRun.seconds),
      huntMBPerSecond: +(bytes / 1e6 / vigilRun.seconds).toFixed(1),
      zircoliteSeconds: peer ? +peer.seconds.toFixed(1) : null,
      speedupOverZircolite: peer ? +(peer.seconds / vigilRun.seconds).toFixed(2) : null,
      peakRssMB: Math.round(rss()),
      huntPeakRssMB: vigilRun.peakMB ? Math.round(vigilRun.peakMB) : null,
    }),
  );
}

await main();
