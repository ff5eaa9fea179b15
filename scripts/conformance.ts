/**
 * Sigma conformance: every SigmaHQ rule that carries regression data (`regression_tests_path`)
 * must fire on its own events at least `match_count` times (at least once when absent), as
 * SigmaHQ's own regression runner requires. Runs through Vigil's normal path: the rule folders
 * loaded with the built-in pipeline, then one hunt over all the regression event files.
 *
 * Also counts what the *other* rules match on those events (matches across the corpus), which
 * is information, not failure. Last line: {"total":N,"passed":N,"failed":N}.
 *
 *   npm run conformance [-- --content DIR] [-- --verbose]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { contentHelp, locateContent } from '../src/content/index.js';
import { type Detection, hunt, loadDetectionSetup } from '../src/detect/index.js';
import type { DetectionRule } from '../src/sigma/index.js';

const RULE_FOLDERS = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'];

interface Case {
  rule: DetectionRule;
  expected: number;
  exact: boolean;
  file: string;
}

export interface ConformanceResult {
  total: number;
  passed: number;
  failed: number;
  /** Rule id -> how often it matched the regression events of other rules. */
  crossMatches: Map<string, number>;
  events: number;
}

/** Runs the regression cases of the SigmaHQ pack in `sigmaDir`, printing per-rule lines with `log`. */
export async function runConformance(
  sigmaDir: string,
  log: (line: string) => void = () => {},
): Promise<ConformanceResult> {
  const setup = await loadDetectionSetup({ rules: RULE_FOLDERS.map((f) => join(sigmaDir, f)) });
  for (const error of setup.errors) log(`rule failed to load: ${error.describe()}`);

  const cases: Case[] = [];
  for (const rule of setup.ruleSet.rules) {
    if (!rule.regressionTestsPath) continue;
    const info = parse(await readFile(join(sigmaDir, rule.regressionTestsPath), 'utf8'));
    const test = info.regression_tests_info?.[0];
    const declared = info.rule_metadata?.at(-1)?.id;
    if (declared !== rule.id)
      log(`warning: ${rule.regressionTestsPath} names rule ${declared}, not ${rule.id}`);
    const matchCount = test?.match_count;
    cases.push({
      rule,
      expected: typeof matchCount === 'number' ? matchCount : 1,
      exact: typeof matchCount === 'number',
      file: join(sigmaDir, String(test.path).replace(/\.evtx$/, '.json')),
    });
  }

  const byFile = new Map<string, Detection[]>();
  const summary = await hunt(
    cases.map((c) => c.file),
    {
      engine: setup.engine,
      ruleSet: setup.ruleSet,
      onError: (error) => log(`unreadable: ${error.describe()}`),
      onDetection: (detection) => {
        const list = byFile.get(detection.source.file) ?? [];
        list.push(detection);
        byFile.set(detection.source.file, list);
      },
    },
  );

  let passed = 0;
  let failed = 0;
  const crossMatches = new Map<string, number>();
  for (const c of cases) {
    const detections = byFile.get(c.file) ?? [];
    const own = detections.filter((d) => d.rule.id === c.rule.id).length;
    for (const d of detections) {
      if (d.rule.id === c.rule.id) continue;
      const key = `${d.rule.id} ${d.rule.title}`;
      crossMatches.set(key, (crossMatches.get(key) ?? 0) + 1);
    }
    if (own >= c.expected) {
      passed++;
      if (c.exact && own > c.expected)
        log(`note: ${c.rule.id} ${c.rule.title}: ${own} matches, match_count says ${c.expected}`);
    } else {
      failed++;
      log(
        `FAIL ${c.rule.id} ${c.rule.title} (${c.rule.origin.file}): ${own} matches, expected ${c.expected}`,
      );
    }
  }
  return { total: cases.length, passed, failed, crossMatches, events: summary.events };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flagIndex = args.indexOf('--content');
  const verbose = args.includes('--verbose');
  const content = locateContent({ flag: flagIndex >= 0 ? args[flagIndex + 1] : undefined });
  if (!content) {
    console.error(contentHelp());
    process.exit(2);
  }
  const started = performance.now();
  const result = await runConformance(join(content.dir, 'sigma'), (line) => console.log(line));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${result.total} regression cases, ${result.events} events, ${seconds} s`);
  const top = [...result.crossMatches].sort((a, b) => b[1] - a[1]);
  const crossTotal = top.reduce((sum, [, n]) => sum + n, 0);
  console.log(
    `other rules matched ${crossTotal} times on these events (${top.length} rules): information, not failures`,
  );
  for (const [rule, n] of verbose ? top : top.slice(0, 10)) console.log(`  ${n}  ${rule}`);
  if (!verbose && top.length > 10) console.log(`  … ${top.length - 10} more (--verbose lists all)`);
  console.log(JSON.stringify({ total: result.total, passed: result.passed, failed: result.failed }));
  if (result.failed > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
