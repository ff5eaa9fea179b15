import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentWithEpssOf, hasContent } from '../helpers/content.js';

const samples = join(import.meta.dirname, '..', 'vuln', 'samples');
const sample = (name: string) => join(samples, name);

interface Listed {
  asset: string;
  port: number | null;
  cve: string;
  decision: string;
  due: string | null;
  due_source: string | null;
  overdue: boolean;
  kev: boolean;
  status: string;
  scanners: string[];
  first_seen: string;
  fixed_at: string | null;
  not_retested_since: string | null;
  owner: string | null;
  accepted_until: string | null;
  reasons: string[];
}

describe.skipIf(!hasContent)('vigil vulns', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const list = (db: string, ...args: string[]): Listed[] => {
    const result = vigil(['vulns', 'list', '--format', 'json', '--db', db, ...args], env);
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-vulns-cli-'));
    // EPSS scores of the CVEs the samples and this file's own scans name: all the commands look up.
    const inputs = [...readdirSync(samples).map(sample), import.meta.filename];
    env = {
      VIGIL_HOME: join(dir, 'home'),
      VIGIL_CONTENT_DIR: contentWithEpssOf(join(dir, 'content'), inputs),
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports every format, lists what must be done first first as JSON, and re-imports without duplicates', () => {
    const db = join(dir, 'all.db');
    const files = ['scan.nessus', 'openvas.xml', 'trivy.json', 'grype.json', 'findings.csv'].map(sample);
    const imported = vigil(['vulns', 'import', ...files, '--assets', sample('assets.yml'), '--db', db], env);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toMatch(/findings\.csv:5:2: cve: "CVE-2099" is not a CVE id/);
    const listed = vigil(['vulns', 'list', '--format', 'json', '--db', db], env);
    // Four assets of the scans are not in the inventory: said once, as a count.
    expect(listed.stderr).toMatch(/4 asset\(s\) not in the inventory are decided as high mission impact/);
    const all: Listed[] = JSON.parse(listed.stdout);
    expect(all).toHaveLength(11);
    expect(Object.keys(all[0]!)).toEqual([
      'asset',
      'port',
      'cve',
      'product',
      'service',
      'scanners',
      'first_seen',
      'decision',
      'timeline',
      'due',
      'due_source',
      'overdue',
      'kev',
      'epss',
      'cvss',
      'public_facing',
      'status',
      'fixed_at',
      'not_retested_since',
      'owner',
      'accepted_by',
      'accepted_until',
      'accepted_reason',
      'reasons',
    ]);
    // Overdue first, then by due date; findings without a date last.
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(Number(a.overdue) >= Number(b.overdue), `${a.cve} before ${b.cve}`).toBe(true);
      if (a.overdue === b.overdue && b.due !== null) expect(a.due !== null && a.due <= b.due).toBe(true);
    }
    // Scanner times, not the import's: the ProxyShell finding is due 3 days after the Nessus scan.
    expect(all.find((f) => f.cve === 'CVE-2021-34473')).toMatchObject({
      asset: 'mail.example.org',
      port: 443,
      decision: 'act',
      first_seen: '2026-11-24T10:01:40.000Z',
      due: '2026-11-27',
      due_source: 'bod',
      owner: 'messaging',
      scanners: ['nessus'],
    });
    // OpenVAS names the host by address; the inventory knows it: a v2-only NVT on a public, high host.
    expect(all.find((f) => f.cve === 'CVE-2017-0144')).toMatchObject({
      asset: 'mail.example.org',
      port: 445,
      decision: 'act',
      scanners: ['openvas'],
    });
    // Log4Shell on two images: the one without a vector takes the other's, one decision.
    const log4shell = all.filter((f) => f.cve === 'CVE-2021-44228');
    expect(log4shell.map((f) => f.decision)).toEqual(['act', 'act']);
    const again = vigil(['vulns', 'import', ...files, '--db', db], env);
    expect(again.stderr).toMatch(/scan\.nessus: imported before/);
    expect(list(db)).toHaveLength(11);
    const table = vigil(['vulns', 'list', '--db', db], env).stdout;
    expect(table).toMatch(/Port.*CVE.*Scanner.*First seen.*Product/);
    expect(table).toMatch(/mail\.example\.org.*445.*CVE-2017-0144.*openvas.*2026-11-24/);
  });

  it('a full scan, a truncated copy, a discovery-only scan leave every finding open; a real re-scan without the finding closes it', () => {
    const db = join(dir, 'closing.db');
    const text = readFileSync(sample('scan.nessus'), 'utf8');
    const truncated = join(dir, 'truncated.nessus');
    writeFileSync(truncated, text.slice(0, text.indexOf('<ReportHost name="10.0.0.21">')));
    expect(vigil(['vulns', 'import', sample('scan.nessus'), '--db', db], env).status).toBe(0);
    const cut = vigil(['vulns', 'import', truncated, '--db', db], env);
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(
      /truncated\.nessus:\d+: the file ends inside <\w+> .*truncated \(nothing imported from it\)/,
    );
    expect(vigil(['vulns', 'import', sample('discovery.nessus'), '--db', db], env).status).toBe(0);
    const open = list(db);
    expect(open.map((f) => f.cve).sort()).toEqual(['CVE-2021-34473', 'CVE-2021-34523', 'CVE-2023-48795']);
    // The discovery scan did not run the plugin that found them: not re-tested since the full scan.
    expect(open.find((f) => f.cve === 'CVE-2021-34473')).toMatchObject({
      not_retested_since: '2026-11-24T10:01:40.000Z',
    });
    expect(open.find((f) => f.cve === 'CVE-2021-34473')!.reasons).toContain(
      'not re-tested since 2026-11-24: the asset was scanned on 2026-11-28 (nessus) without the check that found it',
    );
    const rescan = vigil(['vulns', 'import', sample('rescan.nessus'), '--db', db], env);
    // Findings 1, new 0, seen again 1, reopened 0, fixed 2, skipped 0.
    expect(rescan.stdout).toMatch(
      /rescan\.nessus\s*│\s*nessus\s*│\s*2026-12-01 10:01\s*│\s*1\s*│\s*0\s*│\s*1\s*│\s*0\s*│\s*2\s*│\s*0\s*│/,
    );
    const after = list(db, '--all');
    expect(after.filter((f) => f.status === 'fixed').map((f) => [f.cve, f.fixed_at])).toEqual([
      ['CVE-2021-34473', '2026-12-01T10:01:40.000Z'],
      ['CVE-2021-34523', '2026-12-01T10:01:40.000Z'],
    ]);
    const metrics = JSON.parse(vigil(['vulns', 'metrics', '--json', '--db', db], env).stdout);
    // Fixed a week after the scan first saw them, whenever the files were imported.
    expect(metrics).toMatchObject({ open: 1, fixed: 2, meanTimeToRemediateDays: 7 });
  });

  it('a CSV of one row closes nothing; a row with status fixed closes its finding', () => {
    const db = join(dir, 'csv.db');
    const first = join(dir, 'first.csv');
    writeFileSync(
      first,
      'asset,cve,port,scanned_at\nvpn.example.org,CVE-2023-46805,443,2026-11-20\nvpn.example.org,CVE-2024-21887,443,2026-11-20\n',
    );
    vigil(['vulns', 'import', first, '--db', db], env);
    const later = join(dir, 'later.csv');
    writeFileSync(later, 'asset,cve,scanned_at\nvpn.example.org,CVE-2023-99999,2026-12-01\n');
    vigil(['vulns', 'import', later, '--db', db], env);
    expect(list(db, '--all').map((f) => f.status)).toEqual(['open', 'open', 'open']);
    const fixed = join(dir, 'fixed.csv');
    writeFileSync(
      fixed,
      'asset,cve,port,scanned_at,status\nvpn.example.org,CVE-2023-46805,443,2026-12-02,fixed\n',
    );
    vigil(['vulns', 'import', fixed, '--db', db], env);
    expect(list(db, '--all').find((f) => f.cve === 'CVE-2023-46805')).toMatchObject({
      status: 'fixed',
      fixed_at: '2026-12-02T00:00:00.000Z',
    });
    const bad = join(dir, 'bad-date.csv');
    writeFileSync(bad, 'asset,cve,first_seen\nweb,CVE-2021-0001,yesterday\n');
    expect(vigil(['vulns', 'import', bad, '--db', db], env).stderr).toMatch(
      /bad-date\.csv:2:3: first_seen: "yesterday" is not a date/,
    );
  });

  it('--decision does not hide an overdue KEV finding, and says why it is listed', () => {
    const db = join(dir, 'decision.db');
    const scan = join(dir, 'desktops.csv');
    // Follina (KEV) on a low-criticality desktop: Track, but 14 days by BOD 26-04, long past.
    writeFileSync(
      scan,
      'asset,cve,cvss_vector,first_seen\ndesk-18,CVE-2022-30190,CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H,2026-11-01\n',
    );
    vigil(
      ['vulns', 'import', sample('scan.nessus'), scan, '--assets', sample('assets.yml'), '--db', db],
      env,
    );
    // ProxyShell is Act, but in KEV and overdue: it shows with every decision.
    expect(list(db, '--decision', 'track').map((f) => [f.cve, f.decision, f.kev, f.overdue])).toEqual([
      ['CVE-2022-30190', 'track', true, true],
      ['CVE-2021-34473', 'act', true, true],
      ['CVE-2021-34523', 'act', true, true],
      ['CVE-2023-48795', 'track', false, false],
    ]);
    const acts = list(db, '--decision', 'act');
    expect(acts.map((f) => [f.cve, f.decision])).toEqual([
      ['CVE-2022-30190', 'track'],
      ['CVE-2021-34473', 'act'],
      ['CVE-2021-34523', 'act'],
    ]);
    expect(acts[0]!.reasons).toContain('listed with --decision act: in KEV and overdue');
  });

  it('accepts a risk until a day, sets an owner, and counts both; refuses a finding that is not there', () => {
    const db = join(dir, 'accept.db');
    vigil(['vulns', 'import', sample('scan.nessus'), '--assets', sample('assets.yml'), '--db', db], env);
    const accepted = vigil(
      [
        'vulns',
        'accept',
        'mail.example.org',
        'CVE-2021-34473',
        '--by',
        'J. Doe (CISO)',
        '--reason',
        'behind the reverse proxy until the upgrade',
        '--until',
        '2099-01-31',
        '--db',
        db,
      ],
      env,
    );
    expect(accepted.status, accepted.stderr).toBe(0);
    expect(vigil(['vulns', 'owner', '10.0.0.21', 'CVE-2023-48795', 'ops team', '--db', db], env).status).toBe(
      0,
    );
    const all = list(db);
    expect(all.at(-1)).toMatchObject({ cve: 'CVE-2021-34473', accepted_until: '2099-01-31', overdue: false });
    expect(all.find((f) => f.cve === 'CVE-2023-48795')!.owner).toBe('ops team');
    const metrics = JSON.parse(vigil(['vulns', 'metrics', '--json', '--db', db], env).stdout);
    expect(metrics).toMatchObject({ open: 2, accepted: 1 });
    const missing = vigil(
      [
        'vulns',
        'accept',
        'mail.example.org',
        'CVE-2020-0001',
        '--by',
        'x',
        '--reason',
        'y',
        '--until',
        '2099-01-01',
        '--db',
        db,
      ],
      env,
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no finding of CVE-2020-0001 on mail\.example\.org/);
    expect(
      vigil(
        [
          'vulns',
          'accept',
          'mail.example.org',
          'CVE-2021-34473',
          '--by',
          'x',
          '--reason',
          'y',
          '--until',
          '2020-01-01',
          '--db',
          db,
        ],
        env,
      ).stderr,
    ).toMatch(/--until 2020-01-01 has passed/);
    const revoked = vigil(
      ['vulns', 'accept', 'mail.example.org', 'CVE-2021-34473', '--revoke', '--by', 'x', '--db', db],
      env,
    );
    expect(revoked.stdout).toMatch(/1 acceptance\(s\) of CVE-2021-34473 on mail\.example\.org withdrawn/);
    expect(list(db).find((f) => f.cve === 'CVE-2021-34473')!.accepted_until).toBeNull();
  });

  it('raises and marks the CVEs an advisory names', () => {
    const db = join(dir, 'advisory.db');
    const imported = vigil(['vulns', 'import', sample('scan.nessus'), '--db', db], env);
    expect(imported.status, imported.stderr).toBe(0);
    const advisory = join(dir, 'advisory.txt');
    writeFileSync(advisory, 'Actors exploit CVE-2023-48795 widely.');
    expect(vigil(['vulns', 'list', '--advisory', advisory, '--db', db], env).stdout).toContain(
      'CVE-2023-48795 *',
    );
  });

  it('takes other SLA days, and SSVC judgements from the CSV', () => {
    const scan = join(dir, 'judged.csv');
    writeFileSync(
      scan,
      'asset,cve,cvss_vector,automatable,technical_impact,first_seen\nvpn.example.org,CVE-2023-46805,,yes,total,2026-11-30\n',
    );
    const own = join(dir, 'own.db');
    vigil(['vulns', 'import', scan, '--assets', sample('assets.yml'), '--db', own], env);
    const [finding] = list(own, '--sla', '3DF=1');
    expect(finding!.reasons).toContain('automatable: as given with the finding');
    expect(finding).toMatchObject({ due: '2026-12-01', due_source: 'sla' });
    expect(vigil(['vulns', 'list', '--sla', '5D=1', '--db', own], env).stderr).toMatch(
      /--sla takes FSU, 60D, 14D, 3D, 3DF/,
    );
  });

  it('says what is wrong with bad input', () => {
    const db = join(dir, 'bad.db');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"Results": [\n  {"Target": "x"');
    const result = vigil(['vulns', 'import', bad, '--db', db], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bad\.json:2:\d+: the JSON ends early: the file is truncated/);
    expect(vigil(['vulns', 'list', '--decision', 'urgent', '--db', db], env).stderr).toMatch(
      /--decision takes act, attend, track\*, track/,
    );
  });
});
