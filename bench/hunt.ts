/**
 * Hunting benchmark: the whole `vigil hunt` over EVTX-ATTACK-SAMPLES (277 files, 8,255 records).
 *
 *   1. with the full SigmaHQ rule set (rules, rules-emerging-threats, rules-threat-hunting), on 1
 *      and 2 threads: wall time, events/s, peak memory, detections;
 *   2. the same with no rules loaded: parsing alone, so the cost of detection shows as a ratio;
 *   3. with SigmaHQ rules/windows, against Zircolite with the same rules converted by sigma-cli,
 *      when the peers are set up (PEERS, ../shared/peers/README.md): both times, and the two
 *      detection sets compared as (rule id, file name, EventRecordID) triples. The two take N
 *      turns each (default 3) and their medians are compared.
 *
 *   npm run bench:hunt [-- --repeat N] [-- --differences FILE]
 *   (FILE: every triple found by only one of the two)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  argNumber,
  argText,
  attackSamplesDir,
  count,
  findPeers,
  printRows,
  sigmaDir,
  timed,
  VIGIL,
} from './common.js';

const EVENTS = 8255;

interface HuntRun {
  label: string;
  seconds: number;
  peakMB?: number;
  detections: { rule: { id: string; title: string }; source: { file: string; record?: number } }[];
}

function hunt(label: string, samples: string, rules: string[], threads: number): HuntRun {
  const run = timed(process.execPath, [
    VIGIL,
    'hunt',
    samples,
    ...rules.flatMap((r) => ['--rules', r]),
    '--format',
    'jsonl',
    '--threads',
    String(threads),
    '--no-summary',
    '--no-progress',
  ]);
  const detections = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return { label, seconds: run.seconds, peakMB: run.peakMB, detections };
}

function describe(run: HuntRun, reference?: HuntRun): string {
  return [
    `${run.seconds.toFixed(2)} s`,
    `${count(EVENTS / run.seconds)} events/s`,
    run.peakMB ? `peak ${run.peakMB.toFixed(0)} MB` : '',
    `${count(run.detections.length)} detections`,
    reference ? `${(run.seconds / reference.seconds).toFixed(2)}x the time of "${reference.label}"` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

const triple = (rule: string, file: string, record: number | string) =>
  `${rule}\t${basename(file)}\t${record}`;

/** Zircolite over the EVTX folder through the peers' run script, which writes its detection triples. */
function zircolite(samples: string, dir: string): { seconds: number; triples: string[] } | undefined {
  const peers = findPeers();
  const script = fileURLToPath(new URL('../../shared/peers/run-zircolite.sh', import.meta.url));
  if (!peers.zircolite || !peers.zircoliteRules || !peers.evtxDump || !existsSync(script)) return undefined;
  const output = join(dir, 'zircolite.json');
  const result = spawnSync('bash', [script, samples, peers.zircoliteRules, output], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`Zircolite failed: ${result.stderr}`);
  const seconds = Number(/seconds=([\d.]+)/.exec(result.stdout)?.[1]);
  const triples = readFileSync(`${output}.pairs.tsv`, 'utf8').split('\n').filter(Boolean);
  return { seconds, triples };
}

/** Turns of the Vigil/Zircolite comparison (--repeat N). */
const REPEAT = Math.max(1, argNumber('repeat', 3));

/** The run of median time (the upper middle one of an even count). */
function medianRun<T extends { seconds: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

function differencesByRule(only: string[], titles: Map<string, string>): string[] {
  const byRule = new Map<string, number>();
  for (const t of only) byRule.set(t.split('\t')[0]!, (byRule.get(t.split('\t')[0]!) ?? 0) + 1);
  return [...byRule]
    .sort((a, b) => b[1] - a[1])
    .map(([id, n]) => `${String(n).padStart(5)}  ${id}  ${titles.get(id) ?? ''}`);
}

async function main(): Promise<void> {
  const samples = attackSamplesDir();
  const sigma = sigmaDir();
  const full = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'].map((f) => join(sigma, f));
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-hunt-'));
  const noRules = join(dir, 'no-rules');
  await import('node:fs/promises').then((fs) => fs.mkdir(noRules));
  console.log(`Hunting benchmark (Node ${process.version}, ${samples}, ${sigma})`);
  try {
    const parseOnly = hunt('no rules, 1 thread', samples, [noRules], 1);
    const one = hunt('full rule set, 1 thread', samples, full, 1);
    const two = hunt('full rule set, 2 threads', samples, full, 2);
    const parseOnlyTwo = hunt('no rules, 2 threads', samples, [noRules], 2);
    // The comparison with Zircolite is repeated, the two taking turns, and medians compared:
    // on a shared VM one run of either can take half as long again as the next.
    const windowsRuns: HuntRun[] = [];
    const peerRuns: { seconds: number; triples: string[] }[] = [];
    for (let i = 0; i < REPEAT; i++) {
      windowsRuns.push(hunt('rules/windows, 1 thread', samples, [join(sigma, 'rules', 'windows')], 1));
      const run = zircolite(samples, dir);
      if (run) peerRuns.push(run);
    }
    const windows = medianRun(windowsRuns);
    const peer = peerRuns.length ? medianRun(peerRuns) : undefined;

    console.log(`\n8,255 events in 277 files; rule counts as loaded by vigil`);
    printRows([
      [`vigil hunt, ${one.label}`, describe(one, parseOnly)],
      [`vigil hunt, ${two.label}`, describe(two, parseOnlyTwo)],
      [`vigil hunt, ${parseOnly.label} (parsing only)`, describe(parseOnly)],
      [`vigil hunt, ${parseOnlyTwo.label} (parsing only)`, describe(parseOnlyTwo)],
      [`vigil hunt, ${windows.label}`, `${describe(windows)} (median of ${windowsRuns.length})`],
      peer
        ? [
            'Zircolite 3.7, rules/windows (sigma-cli sqlite)',
            `${peer.seconds.toFixed(2)} s, ${count(peer.triples.length)} detections: Vigil ${(peer.seconds / windows.seconds).toFixed(2)}x faster`,
          ]
        : ['Zircolite', 'not set up here (see ../shared/peers/README.md; set PEERS)'],
    ]);
    if (peer) {
      const pairs = windowsRuns.map(
        (run, i) => `${run.seconds.toFixed(2)}/${peerRuns[i]!.seconds.toFixed(2)} s`,
      );
      console.log(`  (each turn, Vigil/Zircolite: ${pairs.join(', ')}; medians compared)`);
    }

    const summary: Record<string, unknown> = {
      fullOneThreadSeconds: +one.seconds.toFixed(2),
      fullTwoThreadsSeconds: +two.seconds.toFixed(2),
      parseOnlySeconds: +parseOnly.seconds.toFixed(2),
      detectionCostRatio: +(one.seconds / parseOnly.seconds).toFixed(2),
      fullDetections: one.detections.length,
      peakMB: one.peakMB && Math.round(one.peakMB),
      windowsSeconds: +windows.seconds.toFixed(2),
      windowsDetections: windows.detections.length,
    };
    if (peer) {
      const titles = new Map(windows.detections.map((d) => [d.rule.id, d.rule.title]));
      const ours = new Set(
        windows.detections
          .filter((d) => d.source.record !== undefined)
          .map((d) => triple(d.rule.id, d.source.file, d.source.record!)),
      );
      const theirs = new Set(peer.triples);
      const onlyVigil = [...ours].filter((t) => !theirs.has(t));
      const onlyZircolite = [...theirs].filter((t) => !ours.has(t));
      console.log(
        `\nDetection sets, as (rule, file name, EventRecordID): ${count(ours.size)} Vigil, ${count(theirs.size)} Zircolite; ` +
          `${count(ours.size - onlyVigil.length)} in both, ${count(onlyVigil.length)} only Vigil, ${count(onlyZircolite.length)} only Zircolite`,
      );
      console.log('  only Vigil, by rule:');
      for (const line of differencesByRule(onlyVigil, titles)) console.log(`    ${line}`);
      console.log('  only Zircolite, by rule:');
      for (const line of differencesByRule(onlyZircolite, titles)) console.log(`    ${line}`);
      const differences = argText('differences');
      if (differences) {
        const lines = [
          ...onlyVigil.map((t) => `vigil\t${t}`),
          ...onlyZircolite.map((t) => `zircolite\t${t}`),
        ];
        writeFileSync(differences, `${lines.join('\n')}\n`);
      }
      Object.assign(summary, {
        zircoliteSeconds: +peer.seconds.toFixed(2),
        zircoliteDetections: peer.triples.length,
        speedupOverZircolite: +(peer.seconds / windows.seconds).toFixed(2),
        inBoth: ours.size - onlyVigil.length,
        onlyVigil: onlyVigil.length,
        onlyZircolite: onlyZircolite.length,
      });
    }
    console.log(JSON.stringify(summary));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
