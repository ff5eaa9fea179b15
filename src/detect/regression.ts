import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { readEvents } from '../logs/index.js';
import type { DetectionRule } from '../sigma/index.js';
import type { DetectionEngine } from './engine.js';

/** A rule's SigmaHQ regression test: its events (EVTX and the same as JSON) and how often it must fire. */
export interface RegressionCase {
  rule: DetectionRule;
  /** At least this many matches (exactly, when `exact`), as SigmaHQ's regression runner requires. */
  expected: number;
  exact: boolean;
  evtx: string;
  json: string;
  /** The `rule_metadata` id of the test descriptor, to warn when it names another rule. */
  declaredId?: string;
}

/**
 * The regression case of a rule that has one. `regression_tests_path` is relative to the root of
 * the SigmaHQ repository; that root is the rule file's nearest ancestor that holds the path.
 */
export function regressionCase(rule: DetectionRule, root?: string): RegressionCase | undefined {
  if (!rule.regressionTestsPath) return undefined;
  let base = root;
  if (!base) {
    let dir = dirname(resolve(rule.origin.file));
    for (let up = 0; up < 8 && !base; up++) {
      if (existsSync(join(dir, rule.regressionTestsPath))) base = dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  if (!base || !existsSync(join(base, rule.regressionTestsPath))) return undefined;
  let info: {
    regression_tests_info?: { path?: unknown; match_count?: unknown }[];
    rule_metadata?: { id?: string }[];
  };
  try {
    info = parse(readFileSync(join(base, rule.regressionTestsPath), 'utf8'));
  } catch {
    return undefined;
  }
  const test = info?.regression_tests_info?.[0];
  if (!test || typeof test.path !== 'string') return undefined;
  const evtx = join(base, test.path);
  return {
    rule,
    expected: typeof test.match_count === 'number' ? test.match_count : 1,
    exact: typeof test.match_count === 'number',
    evtx,
    json: evtx.replace(/\.evtx$/, '.json'),
    declaredId: info.rule_metadata?.at(-1)?.id,
  };
}

/**
 * Whether the rule still fires on its own regression events through this engine (and its
 * pipelines): the evidence that a deployed rule works, not only that it exists.
 */
export async function passesRegression(engine: DetectionEngine, test: RegressionCase): Promise<boolean> {
  const file = existsSync(test.json) ? test.json : test.evtx;
  if (!existsSync(file)) return false;
  let matches = 0;
  try {
    for await (const event of readEvents(file, { onError: () => {} })) {
      for (const match of engine.evaluate(event)) if (match.rule === test.rule) matches++;
    }
  } catch {
    return false;
  }
  return matches >= test.expected;
}
