import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';

const samples = join(import.meta.dirname, '..', 'vuln', 'samples');

describe.skipIf(!hasContent)('vigil vulns', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-vulns-cli-'));
    env = { VIGIL_HOME: join(dir, 'home'), VIGIL_CONTENT_DIR: contentPath() };
    db = join(dir, 'vulns.db');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports every format, lists the most urgent first as JSON, and re-imports without duplicates', () => {
    const files = ['scan.nessus', 'openvas.xml', 'trivy.json', 'grype.json', 'findings.csv'].map((f) =>
      join(samples, f),
    );
    const imported = vigil(
      ['vulns', 'import', ...files, '--assets', join(samples, 'assets.yml'), '--db', db],
      env,
    );
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/findings\.csv:5: cve: "CVE-2099" is not a CVE id/);
    const list = JSON.parse(vigil(['vulns', 'list', '--format', 'json', '--db', db], env).stdout);
    expect(list).toHaveLength(10);
    expect(Object.keys(list[0])).toEqual([
      'asset',
      'cve',
      'decision',
      'timeline',
      'due',
      'kev',
      'epss',
      'cvss',
      'public_facing',
      'status',
      'reasons',
    ]);
    expect(list[0]).toMatchObject({
      asset: 'mail.example.org',
      decision: 'act',
      kev: true,
      public_facing: true,
      status: 'open',
    });
    const rank = { act: 3, attend: 2, 'track*': 1, track: 0 } as Record<string, number>;
    for (let i = 1; i < list.length; i++)
      expect(rank[list[i - 1].decision]).toBeGreaterThanOrEqual(rank[list[i].decision]!);
    vigil(['vulns', 'import', ...files, '--db', db], env);
    expect(JSON.parse(vigil(['vulns', 'list', '--format', 'json', '--db', db], env).stdout)).toHaveLength(10);
    const acts = JSON.parse(
      vigil(['vulns', 'list', '--decision', 'act', '--format', 'json', '--db', db], env).stdout,
    );
    expect(acts.every((f: { decision: string }) => f.decision === 'act')).toBe(true);
  });

  it('a later scan without a finding marks it fixed; metrics count it', () => {
    const later = join(dir, 'later.csv');
    writeFileSync(later, 'asset,cve,cvss_vector\nvpn.example.org,CVE-2023-99999,\n');
    vigil(['vulns', 'import', later, '--db', db], env);
    const all = JSON.parse(vigil(['vulns', 'list', '--all', '--format', 'json', '--db', db], env).stdout);
    expect(all.find((f: { cve: string }) => f.cve === 'CVE-2023-46805')).toMatchObject({ status: 'fixed' });
    const metrics = JSON.parse(vigil(['vulns', 'metrics', '--json', '--db', db], env).stdout);
    expect(metrics).toMatchObject({ fixed: 1, open: 10 });
    expect(metrics.meanTimeToRemediateDays).toBeGreaterThanOrEqual(0);
    expect(
      metrics.byDecision.act +
        metrics.byDecision.attend +
        metrics.byDecision['track*'] +
        metrics.byDecision.track,
    ).toBe(10);
  });

  it('raises and marks the CVEs an advisory names', () => {
    const advisory = join(dir, 'advisory.txt');
    writeFileSync(advisory, 'Actors exploit CVE-2023-48795 widely.');
    const list = vigil(['vulns', 'list', '--advisory', advisory, '--db', db], env).stdout;
    expect(list).toContain('CVE-2023-48795 *');
  });

  it('takes other SLA days, and SSVC judgements from the CSV', () => {
    const scan = join(dir, 'judged.csv');
    writeFileSync(
      scan,
      'asset,cve,cvss_vector,automatable,technical_impact\nvpn.example.org,CVE-2023-46805,,yes,total\n',
    );
    const own = join(dir, 'own.db');
    vigil(['vulns', 'import', scan, '--assets', join(samples, 'assets.yml'), '--db', own], env);
    const [finding] = JSON.parse(
      vigil(['vulns', 'list', '--format', 'json', '--sla', '3DF=1', '--db', own], env).stdout,
    );
    expect(finding.reasons).toContain('automatable: as given with the finding');
    expect(finding.timeline).toBe('3 days & forensic investigation');
    expect(vigil(['vulns', 'list', '--sla', '5D=1', '--db', own], env).stderr).toMatch(
      /--sla takes FSU, 60D, 14D, 3D, 3DF/,
    );
  });

  it('says what is wrong with bad input', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"Results": [');
    const result = vigil(['vulns', 'import', bad, '--db', db], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bad\.json: not valid JSON/);
    expect(vigil(['vulns', 'list', '--decision', 'urgent', '--db', db], env).stderr).toMatch(
      /--decision takes act, attend, track\*, track/,
    );
  });
});
