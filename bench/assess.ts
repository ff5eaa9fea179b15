/**
 * The main job and the advisory intake, timed end to end as a user runs them.
 *
 *   npm run bench:assess [-- --copies N --repeat N]
 *
 * 1. `vigil advisory parse --format json` on each `.txt` report of datasets/advisories, one process
 *    per report (start-up, ATT&CK, warning lists and KEV included: what an analyst waits for).
 * 2. `vigil assess` of the Hive advisory against the default rules, over the EVTX-ATTACK-SAMPLES
 *    copied N times (`--copies`, default 8; a link would be read once): coverage, the hunt,
 *    the indicator sweep and the inventory of what the logs show is collected, and the four reports.
 * Each is run `--repeat` times (default 3); the medians are printed, with the peak memory.
 * No peer tool does this whole job, so there is no ratio.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argNumber, attackSamplesDir, count, printRows, type Timed, timed, VIGIL } from './common.js';

const COPIES = argNumber('copies', 8);
const REPEAT = argNumber('repeat', 3);

const samples = attackSamplesDir();
const advisories = join(samples, '..', 'advisories');
const reports = readdirSync(advisories)
  .filter((f) => f.endsWith('.txt') && !f.endsWith('.noids.txt'))
  .sort();

/** The run of median time among `REPEAT`, with the highest peak memory of them. */
function median(run: () => Timed): Timed {
  const runs = Array.from({ length: REPEAT }, run).sort((a, b) => a.seconds - b.seconds);
  const middle = runs[Math.floor(runs.length / 2)]!;
  return { ...middle, peakMB: Math.max(...runs.map((r) => r.peakMB ?? 0)) || undefined };
}

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-assess-'));
try {
  console.log(`Advisory intake and assessment (Node ${process.version}), medians of ${REPEAT} runs`);
  const rows: [string, string][] = [];
  const parsed: Record<string, number> = {};
  for (const report of reports) {
    const run = median(() =>
      timed(process.execPath, [VIGIL, 'advisory', 'parse', join(advisories, report), '--format', 'json']),
    );
    parsed[report] = +run.seconds.toFixed(2);
    rows.push([`advisory parse ${report}`, `${run.seconds.toFixed(2)} s, peak ${count(run.peakMB ?? 0)} MB`]);
  }

  const logs = join(dir, 'logs');
  mkdirSync(logs);
  for (let i = 0; i < COPIES; i++) cpSync(samples, join(logs, `copy-${i}`), { recursive: true });
  const out = join(dir, 'report');
  const assess = median(() =>
    timed(process.execPath, [
      VIGIL,
      'assess',
      '--advisory',
      join(advisories, 'cisa-aa22-321a.txt'),
      '--logs',
      logs,
      '--out',
      out,
    ]),
  );
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
    hunt?: { events: number; detections: number };
  };
  const events = report.hunt?.events ?? 0;
  rows.push([
    `assess (Hive advisory, samples x${COPIES})`,
    `${assess.seconds.toFixed(2)} s, ${count(events)} events (${count(events / assess.seconds)}/s), ${count(report.hunt?.detections ?? 0)} detections, peak ${count(assess.peakMB ?? 0)} MB`,
  ]);
  printRows(rows);
  console.log(
    JSON.stringify({
      parseSeconds: parsed,
      assessSeconds: +assess.seconds.toFixed(2),
      assessEvents: events,
      assessPeakMB: Math.round(assess.peakMB ?? 0),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
