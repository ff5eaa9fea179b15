/**
 * Scores technique extraction against reports with a known answer.
 *
 *   npm run eval:advisories -- ../shared/datasets/advisories [--min-confidence N]
 *
 * Runs `vigil advisory parse --format json` on every `<id>.txt` and `<id>.noids.txt` of the folder
 * (one process for all, as a user would) and compares the technique IDs with `<id>.json`
 * (`techniques_attack_v18`: the report authors' list with IDs revoked by ATT&CK v18.1 mapped
 * forward, since Vigil reports current IDs).
 *
 * Scoring, per predicted and per expected technique:
 * - the same ID: 1;
 * - a parent predicted for an expected sub-technique (T1059 for T1059.001), or a sub-technique
 *   predicted for an expected parent: 0.5. Both say the right technique at the wrong depth;
 * - anything else: 0.
 * Precision = credit of the predictions / their number; recall = credit of the expected / their
 * number; F1 their harmonic mean. Micro averages sum credits and counts over all reports.
 * The last line is `{"txt":{"precision":P,"recall":R,"f1":F},"noids":{...}}`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
if (!dir || !existsSync(dir)) {
  console.error(
    'usage: npm run eval:advisories -- DIR [--min-confidence N]   (DIR holds <id>.txt, <id>.noids.txt, <id>.json)',
  );
  process.exit(2);
}
const confidenceFlag = args.indexOf('--min-confidence');
const extra = confidenceFlag >= 0 ? ['--min-confidence', args[confidenceFlag + 1] ?? ''] : [];

interface Truth {
  id: string;
  techniques: string[];
}

const truths: Truth[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'index.json')
  .sort()
  .map((f) => {
    const data = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      techniques?: string[];
      techniques_attack_v18?: string[];
    };
    return { id: f.replace(/\.json$/, ''), techniques: data.techniques_attack_v18 ?? data.techniques ?? [] };
  })
  .filter((t) => t.techniques.length > 0);

const BIN = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
const KINDS = { txt: '.txt', noids: '.noids.txt' } as const;

const parent = (id: string) => id.split('.')[0]!;
function credit(id: string, others: Set<string>): number {
  if (others.has(id)) return 1;
  for (const other of others)
    if (parent(other) === parent(id) && (other === parent(other) || id === parent(id))) return 0.5;
  return 0;
}

const result: Record<string, { precision: number; recall: number; f1: number }> = {};
for (const [kind, suffix] of Object.entries(KINDS)) {
  const cases = truths.filter((t) => existsSync(join(dir, t.id + suffix)));
  if (cases.length === 0) continue;
  const files = cases.map((t) => join(dir, t.id + suffix));
  const run = spawnSync(
    process.execPath,
    [BIN, 'advisory', 'parse', ...files, '--format', 'json', ...extra],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  if (run.status !== 0) {
    console.error(run.stderr);
    process.exit(1);
  }
  const outputs = JSON.parse(run.stdout) as { techniques: { id: string }[] }[];
  let creditPredicted = 0;
  let predicted = 0;
  let creditExpected = 0;
  let expected = 0;
  console.log(`\n${kind}: ${cases.length} reports`);
  cases.forEach((truth, i) => {
    const found = new Set(outputs[i]!.techniques.map((t) => t.id));
    const wanted = new Set(truth.techniques);
    let p = 0;
    for (const id of found) p += credit(id, wanted);
    let r = 0;
    for (const id of wanted) r += credit(id, found);
    creditPredicted += p;
    predicted += found.size;
    creditExpected += r;
    expected += wanted.size;
    const precision = found.size ? p / found.size : 0;
    const recall = r / wanted.size;
    console.log(
      `  ${truth.id.padEnd(42)} precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}  F1 ${f1(precision, recall).toFixed(3)}  (${found.size} found, ${wanted.size} expected)`,
    );
  });
  const precision = predicted ? creditPredicted / predicted : 0;
  const recall = expected ? creditExpected / expected : 0;
  result[kind] = { precision: round(precision), recall: round(recall), f1: round(f1(precision, recall)) };
  console.log(
    `  micro-average: precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}  F1 ${f1(precision, recall).toFixed(3)}`,
  );
}
console.log(JSON.stringify(result));

function f1(precision: number, recall: number): number {
  return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
