/**
 * Sigma conformance: every SigmaHQ rule that carries regression data (`regression_tests_path`)
 * must fire on its own events at least `match_count` times (at least once when absent), as
 * SigmaHQ's own regression runner requires. Runs through Vigil's normal path: the rule folders
 * loaded with the built-in pipeline, then one hunt over all the regression `.json` files and one
 * over their `.evtx` originals; both must pass, with the same detections.
 *
 * Also counts what the *other* rules match on those events (matches across the corpus), which
 * is information, not failure. Last line: {"total":N,"passed":N,"failed":N}, where a case passes
 * when it passes on both formats.
 *
 *   npm run conformance [-- --content DIR] [-- --verbose]
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { contentHelp, locateContent } from '../src/content/index.js';
import {
  type Detection,
  hunt,
  loadDetectionSetup,
  type RegressionCase,
  regressionCase,
} from '../src/detect/index.js';

const RULE_FOLDERS = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'];

export interface FormatResult {
  passed: number;
  failed: number;
  events: number;
}

export interface ConformanceResult {
  total: number;
  /** Per input format: the regression `.json` files and their `.evtx` originals. */
  json: FormatResult;
  evtx: FormatResult;
  /** Cases where the two formats gave different detections (rule, record), described. */
  formatDifferences: string[];
  /** Rule id -> how often it matched the regression events of other rules (JSON path). */
  crossMatches: Map<string, number>;
}

/** Runs the regression cases of the SigmaHQ pack in `sigmaDir`, printing per-rule lines with `log`. */
export async function runConformance(
  sigmaDir: string,
  log: (line: string) => void = () => {},
): Promise<ConformanceResult> {
  const setupOptions = { rules: RULE_FOLDERS.map((f) => join(sigmaDir, f)) };
  const setup = await loadDetectionSetup(setupOptions);
  for (const error of setup.errors) log(`rule failed to load: ${error.describe()}`);

  const cases: RegressionCase[] = [];
  for (const rule of setup.ruleSet.rules) {
    const test = regressionCase(rule, sigmaDir);
    if (!test) continue;
    if (test.declaredId !== rule.id) {
      log(`warning: ${rule.regressionTestsPath} names rule ${test.declaredId}, not ${rule.id}`);
    }
    cases.push(test);
  }

  // One hunt per format over all the regression files, as `vigil hunt` would run it.
  const huntAll = async (files: string[]) => {
    const byFile = new Map<string, Detection[]>();
    const summary = await hunt(files, {
      setup: setupOptions,
      loaded: setup,
      onError: (error) => log(`unreadable: ${error.describe()}`),
      onDetection: (detection) => {
        const list = byFile.get(detection.source.file) ?? [];
        list.push(detection);
        byFile.set(detection.source.file, list);
      },
    });
    return { byFile, events: summary.events };
  };
  const fromJson = await huntAll(cases.map((c) => c.json));
  const fromEvtx = await huntAll(cases.map((c) => c.evtx));

  const json: FormatResult = { passed: 0, failed: 0, events: fromJson.events };
  const evtx: FormatResult = { passed: 0, failed: 0, events: fromEvtx.events };
  const crossMatches = new Map<string, number>();
  const formatDifferences: string[] = [];
  // Both readers number Windows events by their EventRecordID.
  const pairs = (detections: Detection[]) =>
    detections
      .map((d) => `${d.rule.id}#${d.source.record}`)
      .sort()
      .join(' ');
  for (const c of cases) {
    for (const [format, result, byFile, file] of [
      ['json', json, fromJson.byFile, c.json],
      ['evtx', evtx, fromEvtx.byFile, c.evtx],
    ] as const) {
      const detections = byFile.get(file) ?? [];
      const own = detections.filter((d) => d.rule.id === c.rule.id).length;
      if (own >= c.expected) {
        result.passed++;
        if (c.exact && own > c.expected && format === 'json') {
          log(`note: ${c.rule.id} ${c.rule.title}: ${own} matches, match_count says ${c.expected}`);
        }
      } else {
        result.failed++;
        log(
          `FAIL (${format}) ${c.rule.id} ${c.rule.title} (${c.rule.origin.file}): ${own} matches, expected ${c.expected}`,
        );
      }
      if (format === 'json') {
        for (const d of detections) {
          if (d.rule.id === c.rule.id) continue;
          const key = `${d.rule.id} ${d.rule.title}`;
          crossMatches.set(key, (crossMatches.get(key) ?? 0) + 1);
        }
      }
    }
    const a = pairs(fromJson.byFile.get(c.json) ?? []);
    const b = pairs(fromEvtx.byFile.get(c.evtx) ?? []);
    if (a !== b) {
      const difference = `${c.rule.id}: json [${a}] evtx [${b}]`;
      formatDifferences.push(difference);
      log(`DIFFERENT ${difference}`);
    }
  }
  return { total: cases.length, json, evtx, formatDifferences, crossMatches };
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
  console.log(
    `${result.total} regression cases in ${seconds} s: JSON ${result.json.passed} passed (${result.json.events} events), EVTX ${result.evtx.passed} passed (${result.evtx.events} events), ${result.formatDifferences.length} cases where the two formats differ`,
  );
  const top = [...result.crossMatches].sort((a, b) => b[1] - a[1]);
  const crossTotal = top.reduce((sum, [, n]) => sum + n, 0);
  console.log(
    `other rules matched ${crossTotal} times on these events (${top.length} rules): information, not failures`,
  );
  for (const [rule, n] of verbose ? top : top.slice(0, 10)) console.log(`  ${n}  ${rule}`);
  if (!verbose && top.length > 10) console.log(`  … ${top.length - 10} more (--verbose lists all)`);
  const passed = Math.min(result.json.passed, result.evtx.passed);
  const failed = result.total - passed;
  console.log(JSON.stringify({ total: result.total, passed, failed }));
  if (failed > 0 || result.formatDifferences.length > 0) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
