import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDetectionSetup, passesRegression, regressionCase } from '../../src/detect/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

describe.skipIf(!hasContent)('regression validation of deployed rules', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-regression-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a SigmaHQ rule on its own events, and fails it once the rule no longer matches them', async () => {
    const folder = contentPath('sigma', 'rules', 'windows', 'process_creation');
    const setup = await loadDetectionSetup({ rules: [folder] });
    const rule = setup.ruleSet.rules.find((r) => r.regressionTestsPath)!;
    const test = regressionCase(rule)!;
    expect(test).toMatchObject({ rule, declaredId: rule.id });
    expect(await passesRegression(setup.engine, test)).toBe(true);

    // The same rule, copied into a SigmaHQ-shaped tree, with a selection its events cannot meet.
    const copy = join(dir, 'rules', 'r.yml');
    cpSync(rule.origin.file, copy);
    const text = readFileSync(copy, 'utf8').replace(
      /condition: .*/,
      "condition: never\n    never:\n        CommandLine: 'no such command line 7f3a'",
    );
    writeFileSync(copy, text);
    cpSync(contentPath('sigma', 'regression_data'), join(dir, 'regression_data'), { recursive: true });
    const broken = await loadDetectionSetup({ rules: [copy] });
    const brokenTest = regressionCase(broken.ruleSet.rules[0]!)!;
    expect(brokenTest).toBeDefined();
    expect(await passesRegression(broken.engine, brokenTest)).toBe(false);
  });

  it('has no case for a rule without regression data', async () => {
    const setup = await loadDetectionSetup({
      rules: [contentPath('sigma', 'rules', 'windows', 'process_creation')],
    });
    const rule = setup.ruleSet.rules.find((r) => !r.regressionTestsPath)!;
    expect(regressionCase(rule)).toBeUndefined();
  });
});
