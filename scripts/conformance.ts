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

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flagIndex = args.indexOf('--content');
  const verbose = args.includes('--verbose');
  const content = locateContent({ flag: flagIndex >= 0 ? args[flagIndex + 1] : undefined });
  if (!content) {
    console.error(contentHelp());
    process.exit(2);
  }
  const sigma = join(content.dir, 'sigma');
  const started = performance.now();
  const setup = await loadDetectionSetup({ rules: RULE_FOLDERS.map((f) => join(sigma, f)) });
  for (const error of setup.errors) console.log(`rule failed to load: ${error.message}`);

  const cases: Case[] = [];
  for (const rule of setup.ruleSet.rules) {
    if (!rule.regressionTestsPath) continue;
    const info = parse(await readFile(join(sigma, rule.regressionTestsPath), 'utf8'));
    const test = info.regression_tests_info?.[0];
    const declared = info.rule_metadata?.at(-1)?.id;
    if (declared !== rule.id)
      console.log(`warning: ${rule.regressionTestsPath} names rule ${declared}, not ${rule.id}`);
    const matchCount = test?.match_count;
    cases.push({
      rule,
      expected: typeof matchCount === 'number' ? matchCount : 1,
      exact: typeof matchCount === 'number',
      file: join(sigma, String(test.path).replace(/\.evtx$/, '.json')),
    });
  }

  const byFile = new Map<string, Detection[]>();
  const summary = await hunt(
    cases.map((c) => c.file),
    {
      engine: setup.engine,
      ruleSet: setup.ruleSet,
      onError: (error) => console.log(`unreadable: ${error.message}`),
      onDetection: (detection) => {
        const list = byFile.get(detection.source.file) ?? [];
        list.push(detection);
        byFile.set(detection.source.file, list);
      },
    },
  );

  let passed = 0;
  let failed = 0;
  let above = 0;
  let crossMatches = 0;
  const crossRules = new Map<string, number>();
  for (const c of cases) {
    const detections = byFile.get(c.file) ?? [];
    const own = detections.filter((d) => d.rule.id === c.rule.id).length;
    for (const d of detections) {
      if (d.rule.id === c.rule.id) continue;
      crossMatches++;
      const key = `${d.rule.id} ${d.rule.title}`;
      crossRules.set(key, (crossRules.get(key) ?? 0) + 1);
    }
    if (own >= c.expected) {
      passed++;
      if (c.exact && own > c.expected) {
        above++;
        console.log(`note: ${c.rule.id} ${c.rule.title}: ${own} matches, match_count says ${c.expected}`);
      }
    } else {
      failed++;
      console.log(
        `FAIL ${c.rule.id} ${c.rule.title} (${c.rule.origin.file}): ${own} matches, expected ${c.expected}`,
      );
    }
  }

  console.log(
    `${cases.length} regression cases, ${summary.events} events, ${((performance.now() - started) / 1000).toFixed(1)} s (rules loaded: ${setup.ruleSet.rules.length})`,
  );
  console.log(`${above} cases matched more events than their match_count`);
  console.log(
    `other rules matched ${crossMatches} times on these events (${crossRules.size} rules): information, not failures`,
  );
  const top = [...crossRules].sort((a, b) => b[1] - a[1]);
  for (const [rule, n] of verbose ? top : top.slice(0, 10)) console.log(`  ${n}  ${rule}`);
  if (!verbose && top.length > 10) console.log(`  … ${top.length - 10} more (--verbose lists all)`);
  console.log(JSON.stringify({ total: cases.length, passed, failed }));
  if (failed > 0) process.exitCode = 1;
}

await main();
