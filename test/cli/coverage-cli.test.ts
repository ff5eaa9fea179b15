import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { writeNewerAttackRules } from '../helpers/sigma.js';

describe.skipIf(!hasContent)('vigil coverage', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-coverage-cli-'));
    env = { VIGIL_HOME: join(dir, 'home'), VIGIL_CONTENT_DIR: contentPath() };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('APT40 against SigmaHQ rules/ with Security + Sysmon 1,3,11,13,22: every technique, a state each, counts and a layer', () => {
    const layerFile = join(dir, 'layer.json');
    const result = vigil(
      [
        'coverage',
        '--rules',
        contentPath('sigma', 'rules'),
        '--logsources',
        'examples/logsources.yml',
        '--group',
        'APT40',
        '--format',
        'json',
        '--navigator',
        layerFile,
      ],
      env,
    );
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    const group = JSON.parse(vigil(['attack', 'group', 'APT40', '--json'], env).stdout);
    expect(report.techniques.map((t: { id: string }) => t.id).sort()).toEqual(
      group.techniques.map((t: { id: string }) => t.id).sort(),
    );
    for (const t of report.techniques) {
      expect(['covered', 'blind', 'available', 'uncovered', 'outside']).toContain(t.state);
      expect(t.detection_score).toBeGreaterThanOrEqual(0);
      expect(t.detection_score).toBeLessThanOrEqual(5);
      expect(t.visibility_score).toBeGreaterThanOrEqual(0);
      expect(t.visibility_score).toBeLessThanOrEqual(5);
      if (t.state === 'covered') expect(t.rules.deployed.length).toBeGreaterThan(0);
      if (t.state === 'blind') expect([t.rules.deployed.length, t.rules.blind.length > 0]).toEqual([0, true]);
      if (t.state === 'available') expect(t.rules.available.length).toBeGreaterThan(0);
      if (t.state === 'uncovered')
        expect([t.rules.deployed, t.rules.blind, t.rules.available]).toEqual([[], [], []]);
    }
    const counts = report.counts;
    expect(counts.covered + counts.blind + counts.available + counts.uncovered + counts.outside).toBe(
      report.techniques.length,
    );
    // APT40's reconnaissance is outside the team's telemetry: apart, not in the backlog.
    const outside = report.techniques.filter((t: { state: string }) => t.state === 'outside');
    expect(outside.length).toBe(counts.outside);
    expect(
      outside.every((t: { tactics: string[] }) =>
        t.tactics.every((x) => x === 'reconnaissance' || x === 'resource-development'),
      ),
    ).toBe(true);
    expect(counts.covered).toBeGreaterThan(10);
    expect(report.maturity.score).toBeGreaterThan(0);
    // The shared rules' tags were mapped back to the shared ATT&CK release: nothing is unknown.
    expect(report.unknown_tags).toEqual([]);
    // The default reference packs holding the deployed rules/ are not read a second time.
    const [, deployedCount, otherCount] = /([\d,]+) deployed and ([\d,]+) reference rules read/.exec(
      result.stderr,
    )!;
    const count = (text: string) => Number(text.replaceAll(',', ''));
    expect(count(otherCount!)).toBeGreaterThan(0);
    expect(count(otherCount!)).toBeLessThan(count(deployedCount!) / 2);
    const layer = JSON.parse(readFileSync(layerFile, 'utf8'));
    expect(layer.versions.layer).toBe('4.5');
    expect(layer.techniques).toHaveLength(report.techniques.length);
    const table = vigil(
      [
        'coverage',
        '--rules',
        contentPath('sigma', 'rules'),
        '--logsources',
        'examples/logsources.yml',
        '--group',
        'APT40',
      ],
      env,
    );
    expect(table.stdout).toMatch(/\d+ covered, \d+ blind, \d+ available, \d+ uncovered of \d+ techniques/);
    expect(table.stdout).toMatch(/Maturity \d+\/100/);
    expect(table.stdout).toContain(
      `${counts.outside} pre-compromise technique(s), outside your telemetry and not counted as gaps: `,
    );
    expect(table.stdout).toMatch(/Build first\n 1\. \S.*\n {4}\S/);
  });

  it("ranks the Hive advisory's backlog for a Windows team: Windows work first, pre-compromise apart, other platforms last", () => {
    const result = vigil(
      [
        'coverage',
        '--advisory',
        contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'),
        '--logs',
        contentPath('..', 'datasets', 'evtx-attack-samples'),
        '--format',
        'json',
      ],
      env,
    );
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    // Hive runs on Windows (Exchange), Linux and ESXi, and came in through FortiOS.
    expect(report.platforms).toEqual({
      threat: ['ESXi', 'Linux', 'Network Devices', 'Windows'],
      inventory: ['Windows'],
    });
    const backlog: { fix: string; relevance: string; platforms: string[]; techniques: { id: string }[] }[] =
      report.backlog;
    expect(backlog[0]!.platforms).toContain('Windows');
    expect(backlog[0]!.relevance).toBe('threat-and-inventory');
    expect(backlog[0]!.fix).toMatch(
      /^(write a rule for T[\d.]+ [^(]+ on Windows|collect Microsoft-Windows-)/,
    );
    // Reconnaissance and resource development are no work to do.
    const served = new Set(backlog.flatMap((b) => b.techniques.map((t) => t.id)));
    const preCompromise = (report.techniques as { id: string; tactics: string[]; state: string }[]).filter(
      (t) => t.tactics.every((tactic) => tactic === 'reconnaissance' || tactic === 'resource-development'),
    );
    expect(preCompromise.map((t) => t.id)).toContain('T1590.005');
    for (const technique of preCompromise) {
      expect(technique.state, technique.id).toBe('outside');
      expect(served.has(technique.id), technique.id).toBe(false);
    }
    // Cloud logs (Azure, Okta, AWS) serve platforms neither Hive nor the team has: last.
    const firstElsewhere = backlog.findIndex((b) => b.relevance === 'elsewhere');
    expect(firstElsewhere).toBeGreaterThan(0);
    expect(backlog.slice(firstElsewhere).every((b) => b.relevance === 'elsewhere')).toBe(true);
    for (const product of ['aws', 'azure', 'okta']) {
      const at = backlog.findIndex((b) => b.fix.includes(`product: ${product}`));
      expect(at, product).toBeGreaterThanOrEqual(firstElsewhere);
    }
  });

  it('counts a CloudTrail rule covered when CloudTrail logs are given, and names the Zeek log to collect for the Zeek rule', () => {
    const scope = join(dir, 'cloud.json');
    writeFileSync(
      scope,
      JSON.stringify({
        name: 'Cloud',
        techniques: [{ techniqueID: 'T1562.008' }, { techniqueID: 'T1021.001' }],
      }),
    );
    const rules = [
      contentPath('sigma', 'rules', 'cloud', 'aws'),
      contentPath('sigma', 'rules', 'network', 'zeek'),
    ];
    const run = (logs: string) =>
      vigil(['coverage', '--rules', ...rules, '--layer', scope, '--logs', logs, '--format', 'json'], env);
    const samples = contentPath('..', 'datasets', 'logs-beyond-windows');
    const withTrail = run(join(samples, 'aws-cloudtrail-invictus-stratus'));
    expect(withTrail.status, withTrail.stderr).toBe(0);
    expect(withTrail.stderr).toContain('other log sources: product: aws, service: cloudtrail');
    const state = (report: { techniques: { id: string; state: string }[] }, id: string) =>
      report.techniques.find((t) => t.id === id)?.state;
    const report = JSON.parse(withTrail.stdout);
    // Disable or Modify Cloud Logs: AWS rules, and CloudTrail in the logs.
    expect(state(report, 'T1562.008')).toBe('covered');
    // Remote Desktop Protocol: the Zeek rule is deployed, but no Zeek rdp log is there.
    expect(state(report, 'T1021.001')).toBe('blind');
    expect(report.backlog.map((b: { fix: string }) => b.fix)).toContain(
      "collect Zeek's rdp.log (JSON, or TSV as Zeek writes it) (product: zeek, service: rdp)",
    );
    const withZeek = JSON.parse(run(join(samples, 'zeek-wrccdc-2018')).stdout);
    expect(state(withZeek, 'T1021.001')).toBe('covered');
    expect(state(withZeek, 'T1562.008')).toBe('blind');
  });

  it('reports rules tagged with IDs the loaded ATT&CK release does not know, instead of dropping them', () => {
    // A user may pin an older ATT&CK than their rules were written for: v19 added T1686.
    const rules = join(dir, 'newer-tags');
    writeNewerAttackRules(rules);
    const scope = join(dir, 'powershell.json');
    writeFileSync(scope, JSON.stringify({ name: 'PowerShell', techniques: [{ techniqueID: 'T1059.001' }] }));
    const result = vigil(['coverage', '--rules', rules, '--layer', scope, '--format', 'json'], env);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.unknown_tags).toEqual([{ tag: 'attack.t1686', rules: 2 }]);
    expect(report.rules_with_unknown_tags).toBe(2);
    const table = vigil(['coverage', '--rules', rules, '--layer', scope], env);
    expect(table.stdout).toMatch(
      /2 rules carry tags this ATT&CK release \(v18\.1\) does not know: attack\.t1686/,
    );
  });

  it('refuses a broken inventory with file, line and field', () => {
    const result = vigil(
      [
        'coverage',
        '--rules',
        contentPath('sigma', 'rules', 'windows', 'process_creation'),
        '--logsources',
        'package.json',
      ],
      env,
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/package\.json/);
  });

  it('refuses an output it cannot write before doing the work, and names a log path that is not there', () => {
    const rules = contentPath('sigma', 'rules', 'windows', 'process_creation');
    const layer = vigil(
      ['coverage', '--group', 'APT40', '--rules', rules, '--navigator', '/nonexistent/x.json'],
      env,
    );
    expect(layer.status).toBe(2);
    expect(layer.stderr).toMatch(/\/nonexistent\/x\.json: cannot write the output file/);
    const assess = vigil(['assess', '--group', 'APT40', '--rules', rules, '--out', '/dev/null/report'], env);
    expect(assess.status).toBe(2);
    expect(assess.stderr).toMatch(/\/dev\/null\/report: cannot create the output folder/);
    const logs = vigil(
      ['coverage', '--group', 'APT40', '--rules', rules, '--logs', '/nonexistent/logs'],
      env,
    );
    expect(logs.stderr).toMatch(/\/nonexistent\/logs: no such file or folder/);
    const layerFile = join(dir, 'layer.json');
    writeFileSync(
      layerFile,
      JSON.stringify({ name: 'L', techniques: [{ techniqueID: 'T1059' }, { techniqueID: 'T1686' }] }),
    );
    const unknown = vigil(['coverage', '--layer', layerFile, '--rules', rules], env);
    expect(unknown.status).toBe(0);
    expect(unknown.stderr).toMatch(/L: ATT&CK v18\.1 does not know T1686; left out of the scope/);
  });
});
