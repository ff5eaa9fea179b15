import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';

/**
 * Values the EVTX-ATTACK-SAMPLES hold: a public address Sysmon saw a connection to, the file
 * sharing domain a command line downloads from (as a.uguu.se), and the SHA-256 of a UAC bypass tool.
 */
const ADDRESS = '151.101.0.133';
const DOMAIN = 'uguu.se';
const SHA256 = '2d41a174ea0589f39aa267f829870131ae18cff1b19648c118dc5a00aeaf078b';

describe.skipIf(!hasContent)('vigil hunt --iocs (EVTX-ATTACK-SAMPLES)', () => {
  let dir: string;
  let list: string;
  let rules: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-iocs-cli-'));
    list = join(dir, 'intrusion.txt');
    writeFileSync(
      list,
      [
        `# the intrusion's indicators`,
        ADDRESS,
        `${DOMAIN.replace('.', '[.]')}  # file drop site`,
        SHA256,
        'no such',
      ].join('\n'),
    );
    // One rule keeps the run short: the indicators are what is tested.
    rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(
      join(rules, 'whoami.yml'),
      'title: Whoami\nid: 6f9b0d8e-3c0a-4c55-9d0e-5d8a4c1b2a10\nlevel: low\nlogsource: { category: process_creation, product: windows }\ndetection:\n  selection: { Image|endswith: \\whoami.exe }\n  condition: selection\n',
    );
    env = { VIGIL_HOME: join(dir, 'home'), VIGIL_CONTENT_DIR: contentPath() };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports an address, a domain as a subdomain in a command line and a hash, each with its source', () => {
    const samples = contentPath('..', 'datasets', 'evtx-attack-samples');
    const result = vigil(
      [
        'hunt',
        samples,
        '--rules',
        rules,
        '--iocs',
        list,
        '--format',
        'jsonl',
        '--no-progress',
        '--no-summary',
      ],
      env,
    );
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/skipped .*intrusion\.txt:5: 'no such': one value per line/);
    expect(result.stderr).toContain(`Loaded 3 indicators from ${list} (3)`);
    const detections = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((d) => d.rule.kind === 'indicator');
    const byType = (type: string) => detections.filter((d) => d.indicator.type === type);

    const address = byType('ipv4');
    expect(address.length).toBeGreaterThan(0);
    expect(address[0]).toMatchObject({
      rule: { id: 'ioc:ipv4', file: list },
      eventId: 3,
      matched: { DestinationIp: ADDRESS },
      indicator: { value: ADDRESS, source: list, field: 'DestinationIp' },
    });
    // A CDN's address: the warning lists lower it, the match is still reported.
    expect(address[0].indicator.note).toMatch(/MISP warning list/);
    expect(address[0].rule.level).not.toBe('high');

    const domain = byType('domain').find((d) => d.indicator.field === 'CommandLine');
    expect(domain).toMatchObject({
      rule: { id: 'ioc:domain', level: 'high' },
      indicator: { value: DOMAIN, source: list, confidence: 75 },
    });
    expect(domain.matched.CommandLine).toContain(`a.${DOMAIN}/`);

    expect(byType('sha256')).toEqual([
      expect.objectContaining({
        rule: expect.objectContaining({ id: 'ioc:sha256', level: 'high' }),
        host: 'LAPTOP-JU4M3I0E',
        indicator: expect.objectContaining({ value: SHA256, source: list, field: 'Hashes' }),
      }),
    ]);
  });

  it('shows the indicator and its source in the table and counts its rule in the summary', () => {
    const samples = contentPath('..', 'datasets', 'evtx-attack-samples', 'Privilege Escalation');
    const result = vigil(['hunt', samples, '--rules', rules, '--iocs', list, '--no-progress'], env);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Known indicator: file hash');
    expect(result.stdout).toContain(`${SHA256} (sha256) from ${list}, confidence 75: Hashes=`);
    expect(result.stdout).toMatch(/\d+\s+│?\s*high\s+│?\s*Known indicator: file hash\s+│?\s*ioc:sha256/);
  });

  it('refuses a source it cannot read, naming it', () => {
    const result = vigil(
      ['hunt', dir, '--rules', rules, '--iocs', join(dir, 'nope.txt'), '--no-progress'],
      env,
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`${join(dir, 'nope.txt')}: no such file or folder`);
    // --iocs takes every path after it: nothing is guessed back to the logs, the user is told.
    const swallowed = vigil(['hunt', '--rules', rules, '--iocs', list, dir], env);
    expect(swallowed.status).not.toBe(0);
    expect(swallowed.stderr).toContain(`--iocs takes every path that follows it, so it took ${list}, ${dir}`);
  });
});
