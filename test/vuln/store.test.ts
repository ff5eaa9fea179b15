import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AssetIndex,
  type Coverage,
  type Finding,
  groupFindings,
  importFindings,
  type ScanReport,
  VulnStore,
} from '../../src/vuln/index.js';

const sample = (name: string) => join(import.meta.dirname, 'samples', name);
const dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Found = Pick<Finding, 'asset' | 'cve'> &
  Partial<Pick<Finding, 'port' | 'scope' | 'check' | 'present' | 'local'>>;
type Retested = Pick<Coverage, 'asset'> & Partial<Omit<Coverage, 'asset'>>;

let scans = 0;
/** A hand-made scan: findings and re-tests at one time. */
function scan(
  format: Finding['scanner'],
  at: string,
  found: Found[],
  retested: Retested[] = [],
  checks?: string[],
): ScanReport {
  const findings: Finding[] = found.map((f) => ({
    scanner: format,
    scope: '',
    check: '',
    seenAt: at,
    present: true,
    location: {},
    ...f,
  }));
  const coverage: Coverage[] = retested.map((c) => ({
    scope: '',
    testedAt: at,
    complete: true,
    excluded: [],
    ...c,
  }));
  return {
    file: `scan-${++scans}`,
    format,
    sha256: `hash-${scans}`,
    scannedAt: at,
    findings,
    coverage,
    checks,
    problems: [],
    notes: [],
  };
}

const states = (store: VulnStore) =>
  store.sources().map((s) => [s.asset, s.cve, s.scanner, s.status, s.fixedAt ?? null]);

describe('the findings store', () => {
  it('a full scan, a truncated copy, a discovery-only scan leave every finding open; a real re-scan without a finding closes it', () => {
    const store = VulnStore.open(':memory:');
    expect(store.schemaVersion).toBe(4);
    expect(store.importScan(importFindings(sample('scan.nessus'))).counts).toEqual({
      added: 3,
      seenAgain: 0,
      reopened: 0,
      fixed: 0,
    });
    // The truncated copy is refused before it reaches the store.
    const text = readFileSync(sample('scan.nessus'), 'utf8');
    const truncated = join(dir, 'truncated.nessus');
    writeFileSync(truncated, text.slice(0, text.indexOf('<ReportHost name="10.0.0.21">')));
    expect(() => importFindings(truncated)).toThrow(/truncated/);
    expect(store.importScan(importFindings(sample('discovery.nessus'))).counts.fixed).toBe(0);
    expect(store.sources().every((s) => s.status === 'open')).toBe(true);

    expect(store.importScan(importFindings(sample('rescan.nessus'))).counts).toEqual({
      added: 0,
      seenAgain: 1,
      reopened: 0,
      fixed: 2,
    });
    expect(states(store)).toEqual([
      ['10.0.0.21', 'CVE-2023-48795', 'nessus', 'open', null],
      ['mail.example.org', 'CVE-2021-34473', 'nessus', 'fixed', '2026-12-01T10:01:40.000Z'],
      ['mail.example.org', 'CVE-2021-34523', 'nessus', 'fixed', '2026-12-01T10:01:40.000Z'],
    ]);
    // First seen and fixed come from the scans, whenever they were imported.
    expect(store.sources()[1]).toMatchObject({ firstSeen: '2026-11-24T10:01:40.000Z' });
    store.close();
  });

  it('scans are applied in scan time order: an older scan imported late neither reopens nor moves a fix', () => {
    const store = VulnStore.open(':memory:');
    store.importScan(importFindings(sample('rescan.nessus')));
    const older = store.importScan(importFindings(sample('scan.nessus')));
    expect(older.counts).toMatchObject({ added: 2, reopened: 0 });
    expect(states(store)).toEqual([
      ['10.0.0.21', 'CVE-2023-48795', 'nessus', 'open', null],
      ['mail.example.org', 'CVE-2021-34473', 'nessus', 'fixed', '2026-12-01T10:01:40.000Z'],
      ['mail.example.org', 'CVE-2021-34523', 'nessus', 'fixed', '2026-12-01T10:01:40.000Z'],
    ]);
    expect(store.sources().find((s) => s.cve === 'CVE-2023-48795')).toMatchObject({
      firstSeen: '2026-11-24T10:21:40.000Z',
      lastSeen: '2026-12-01T10:21:40.000Z',
    });
    // The same file again changes nothing, and says so.
    expect(store.importScan(importFindings(sample('rescan.nessus'))).alreadyImported?.file).toBe(
      sample('rescan.nessus'),
    );
    store.close();
  });

  it('a re-test counts only where the check ran, the host finished and the port answered', () => {
    const store = VulnStore.open(':memory:');
    const host = (ports: number[], complete = true, excluded: string[] = []) => [
      { asset: 'h', ports, complete, excluded },
    ];
    store.importScan(
      scan(
        'nessus',
        '2026-11-01T00:00:00Z',
        [{ asset: 'h', cve: 'CVE-2021-0001', port: 443, check: '100' }],
        host([443]),
        ['100'],
      ),
    );
    // Other plugins only; the host unfinished; the plugin failed there; port 443 did not answer.
    store.importScan(scan('nessus', '2026-11-02T00:00:00Z', [], host([443]), ['200']));
    store.importScan(scan('nessus', '2026-11-03T00:00:00Z', [], host([443], false), ['100']));
    store.importScan(scan('nessus', '2026-11-04T00:00:00Z', [], host([443], true, ['100']), ['100']));
    store.importScan(scan('nessus', '2026-11-05T00:00:00Z', [], host([22]), ['100']));
    expect(states(store)).toEqual([['h', 'CVE-2021-0001', 'nessus', 'open', null]]);
    store.importScan(scan('nessus', '2026-11-06T00:00:00Z', [], host([22, 443]), ['100']));
    expect(states(store)).toEqual([['h', 'CVE-2021-0001', 'nessus', 'fixed', '2026-11-06T00:00:00Z']]);
    store.close();
  });

  it('a finding of a local (credentialed) check is re-tested only by a scan that logged in', () => {
    const store = VulnStore.open(':memory:');
    const found = [{ asset: 'h', cve: 'CVE-2021-0001', check: '100', local: true }];
    const host = (credentialed: boolean) => [{ asset: 'h', ports: [], credentialed }];
    store.importScan(scan('nessus', '2026-11-01T00:00:00Z', found, host(true), ['100']));
    store.importScan(scan('nessus', '2026-11-02T00:00:00Z', [], host(false), ['100']));
    expect(states(store)).toEqual([['h', 'CVE-2021-0001', 'nessus', 'open', null]]);
    store.importScan(scan('nessus', '2026-11-03T00:00:00Z', [], host(true), ['100']));
    expect(states(store)).toEqual([['h', 'CVE-2021-0001', 'nessus', 'fixed', '2026-11-03T00:00:00Z']]);
    store.close();
  });

  it('a finding several scanners report closes only when none of them still reports it', () => {
    const store = VulnStore.open(':memory:');
    const image = 'registry.example.org/shop/api:1.4.2';
    const log4j = { asset: image, cve: 'CVE-2021-44228' };
    store.importScan(
      scan('grype', '2026-11-01T00:00:00Z', [{ ...log4j, check: 'log4j-core' }], [{ asset: image }]),
    );
    store.importScan(
      scan(
        'trivy',
        '2026-11-01T01:00:00Z',
        [{ ...log4j, scope: 'lang-pkgs:app.jar', check: 'log4j-core' }],
        [{ asset: image, scope: 'lang-pkgs:app.jar' }],
      ),
    );
    // Trivy no longer finds it; Grype has not scanned again.
    expect(
      store.importScan(
        scan('trivy', '2026-11-08T00:00:00Z', [], [{ asset: image, scope: 'lang-pkgs:app.jar' }]),
      ).counts.fixed,
    ).toBe(0);
    const [finding] = groupFindings(store.sources());
    expect(finding).toMatchObject({ status: 'open', scanners: ['grype', 'trivy'] });
    // A Trivy scan of other targets in the image says nothing of app.jar.
    store.importScan(scan('trivy', '2026-11-09T00:00:00Z', [], [{ asset: image, scope: 'os-pkgs' }]));
    expect(store.importScan(scan('grype', '2026-11-10T00:00:00Z', [], [{ asset: image }])).counts.fixed).toBe(
      1,
    );
    expect(groupFindings(store.sources())[0]).toMatchObject({
      status: 'fixed',
      fixedAt: '2026-11-10T00:00:00Z',
    });
    store.close();
  });

  it('a CSV closes nothing by leaving a finding out; a row with status fixed closes its finding; seen again, it reopens', () => {
    const store = VulnStore.open(':memory:');
    const rows = (...cves: string[]) => cves.map((cve) => ({ asset: 'a', cve }));
    store.importScan(
      scan('csv', '2026-11-01T00:00:00Z', rows('CVE-2021-0001', 'CVE-2021-0002', 'CVE-2021-0003')),
    );
    expect(store.importScan(scan('csv', '2026-11-05T00:00:00Z', rows('CVE-2021-0001'))).counts).toEqual({
      added: 0,
      seenAgain: 1,
      reopened: 0,
      fixed: 0,
    });
    expect(store.sources().every((s) => s.status === 'open')).toBe(true);
    store.importScan(
      scan('csv', '2026-11-06T00:00:00Z', [{ asset: 'a', cve: 'CVE-2021-0002', present: false }]),
    );
    expect(store.sources().find((s) => s.cve === 'CVE-2021-0002')).toMatchObject({
      status: 'fixed',
      fixedAt: '2026-11-06T00:00:00Z',
    });
    expect(store.importScan(scan('csv', '2026-11-20T00:00:00Z', rows('CVE-2021-0002'))).counts.reopened).toBe(
      1,
    );
    expect(store.sources().find((s) => s.cve === 'CVE-2021-0002')).toMatchObject({
      status: 'open',
      reopenedAt: '2026-11-20T00:00:00Z',
      firstSeen: '2026-11-01T00:00:00Z',
    });
    store.close();
  });

  it('tells when an asset was last scanned, and groups findings: one per asset, CVE and port, with every scanner; not re-tested since', () => {
    const store = VulnStore.open(':memory:');
    store.importScan(importFindings(sample('scan.nessus')));
    store.importScan(importFindings(sample('openvas.xml')));
    store.importScan(importFindings(sample('discovery.nessus')));
    const assets = new AssetIndex([
      {
        hostname: 'mail.example.org',
        addresses: ['203.0.113.10'],
        publicFacing: true,
        criticality: 'high',
        tags: [],
      },
    ]);
    const findings = groupFindings(store.sources(), { assets, assetScans: store.assetScans() });
    const mail = findings.filter((f) => f.asset === 'mail.example.org');
    expect(mail.map((f) => [f.cve, f.port, f.scanners])).toEqual([
      ['CVE-2017-0144', 445, ['openvas']],
      ['CVE-2021-34473', 443, ['nessus']],
      ['CVE-2021-34523', 443, ['nessus']],
    ]);
    expect(mail[1]!.notRetested).toEqual({
      since: '2026-11-24T10:01:40.000Z',
      scan: { at: '2026-11-28T08:00:00.000Z', scanner: 'nessus' },
    });
    // OpenVAS named mail.example.org by its address; the discovery scan of it by name counts too.
    expect(mail[0]!.notRetested).toEqual({
      since: '2026-11-24T09:00:05.000Z',
      scan: { at: '2026-11-28T08:00:00.000Z', scanner: 'nessus' },
    });
    expect(findings.find((f) => f.cve === 'CVE-2021-41773')!.notRetested).toBeUndefined();
    store.close();
  });

  it('two scanners naming one asset differently give one finding with both sources', () => {
    const store = VulnStore.open(':memory:');
    store.importScan(
      scan('nessus', '2026-11-01T00:00:00Z', [
        { asset: 'mail.example.org', cve: 'CVE-2021-34473', port: 443, check: '150713' },
      ]),
    );
    store.importScan(
      scan('openvas', '2026-11-02T00:00:00Z', [
        { asset: '203.0.113.10', cve: 'CVE-2021-34473', port: 443, check: '1.3.6' },
      ]),
    );
    store.importScan(
      scan('nessus', '2026-11-01T00:00:00Z', [
        { asset: 'mail.example.org', cve: 'CVE-2021-34473', port: 8443, check: '150713' },
      ]),
    );
    const assets = new AssetIndex([
      {
        hostname: 'mail.example.org',
        addresses: ['203.0.113.10'],
        publicFacing: true,
        criticality: 'high',
        tags: [],
      },
    ]);
    expect(
      groupFindings(store.sources(), { assets }).map((f) => [f.asset, f.port, f.scanners, f.firstSeen]),
    ).toEqual([
      ['mail.example.org', 443, ['nessus', 'openvas'], '2026-11-01T00:00:00Z'],
      ['mail.example.org', 8443, ['nessus'], '2026-11-01T00:00:00Z'],
    ]);
    store.close();
  });

  it('keeps risk acceptances and owners, the latest per finding; a withdrawn acceptance is gone', () => {
    const store = VulnStore.open(':memory:');
    store.importScan(
      scan('csv', '2026-11-01T00:00:00Z', [{ asset: 'web', cve: 'CVE-2021-0001', port: 443 }]),
    );
    const accept = (until: string, recordedAt: string) =>
      store.accept({
        asset: 'WEB',
        cve: 'cve-2021-0001',
        by: 'ciso',
        reason: 'behind a WAF',
        until,
        recordedAt,
      });
    accept('2026-12-01', '2026-11-02T00:00:00Z');
    accept('2027-01-01', '2026-11-03T00:00:00Z');
    expect(store.acceptances()).toEqual([
      {
        asset: 'web',
        cve: 'CVE-2021-0001',
        port: undefined,
        by: 'ciso',
        reason: 'behind a WAF',
        until: '2027-01-01',
        recordedAt: '2026-11-03T00:00:00Z',
      },
    ]);
    store.setOwner({
      asset: 'web',
      cve: 'CVE-2021-0001',
      owner: 'web team',
      recordedAt: '2026-11-02T00:00:00Z',
    });
    store.setOwner({
      asset: 'web',
      cve: 'CVE-2021-0001',
      owner: 'platform',
      recordedAt: '2026-11-04T00:00:00Z',
    });
    const [finding] = groupFindings(store.sources(), {
      acceptances: store.acceptances(),
      owners: store.owners(),
    });
    expect(finding).toMatchObject({ owner: 'platform', acceptance: { until: '2027-01-01' } });
    expect(
      store.revokeAcceptance({ asset: 'web', cve: 'CVE-2021-0001' }, 'ciso', '2026-11-05T00:00:00Z'),
    ).toBe(2);
    expect(store.acceptances()).toEqual([]);
    store.close();
  });

  it('keeps the asset inventory with the findings', () => {
    const store = VulnStore.open(':memory:');
    store.saveAssets([
      { hostname: 'x', addresses: ['10.0.0.1'], publicFacing: true, criticality: 'high', tags: ['dmz'] },
    ]);
    expect(store.assets()).toEqual([
      {
        hostname: 'x',
        addresses: ['10.0.0.1'],
        publicFacing: true,
        criticality: 'high',
        owner: undefined,
        tags: ['dmz'],
      },
    ]);
    store.close();
  });

  it('refuses a database from a newer Vigil', () => {
    const file = join(dir, 'newer.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => VulnStore.open(file)).toThrow(/schema version 99; this Vigil knows 4/);
  });
});

describe('a database of the previous schema (3)', () => {
  /** The schema version 3 wrote, as it wrote it, with findings open and fixed. */
  function version3(file: string): void {
    const db = new Database(file);
    db.exec(`
      CREATE TABLE imports (id INTEGER PRIMARY KEY, file TEXT NOT NULL, scanner TEXT NOT NULL, imported_at TEXT NOT NULL, findings INTEGER NOT NULL);
      CREATE TABLE findings (id INTEGER PRIMARY KEY, asset TEXT NOT NULL, address TEXT, cve TEXT NOT NULL, port INTEGER NOT NULL DEFAULT 0,
        product TEXT, service TEXT, cvss_vector TEXT, cvss_score REAL, exploit_available INTEGER, scanner TEXT NOT NULL,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, last_import INTEGER NOT NULL REFERENCES imports(id),
        status TEXT NOT NULL CHECK (status IN ('open', 'fixed')), fixed_at TEXT, UNIQUE (asset, cve, port));
      CREATE INDEX findings_status ON findings (status);
      CREATE INDEX findings_asset ON findings (asset);
      CREATE TABLE assets (hostname TEXT PRIMARY KEY, addresses TEXT NOT NULL, public_facing INTEGER NOT NULL,
        criticality TEXT NOT NULL CHECK (criticality IN ('low', 'medium', 'high')), owner TEXT, tags TEXT NOT NULL);
      ALTER TABLE findings ADD COLUMN automatable INTEGER;
      ALTER TABLE findings ADD COLUMN technical_impact TEXT;
      INSERT INTO imports VALUES (1, 'old.nessus', 'nessus', '2026-10-01T00:00:00.000Z', 3);
      INSERT INTO imports VALUES (2, 'newer.nessus', 'nessus', '2026-10-10T00:00:00.000Z', 2);
      INSERT INTO findings (asset, address, cve, port, product, cvss_vector, scanner, first_seen, last_seen, last_import, status, fixed_at)
        VALUES ('mail.example.org', '203.0.113.10', 'CVE-2021-34473', 443, 'ProxyShell', 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
          'nessus', '2026-10-01T00:00:00.000Z', '2026-10-10T00:00:00.000Z', 2, 'open', NULL),
          ('10.0.0.21', NULL, 'CVE-2023-48795', 22, NULL, NULL, 'nessus', '2026-10-01T00:00:00.000Z', '2026-10-10T00:00:00.000Z', 2, 'open', NULL),
          ('10.0.0.21', NULL, 'CVE-2020-1111', 22, NULL, NULL, 'nessus', '2026-10-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z', 1, 'fixed', '2026-10-10T00:00:00.000Z');
      INSERT INTO assets VALUES ('mail.example.org', '203.0.113.10', 1, 'high', 'messaging', 'dmz');
      PRAGMA user_version = 3;`);
    db.close();
  }

  it('opens, migrates to 4, and keeps every finding with its state, times and details', () => {
    const file = join(dir, 'v3.db');
    version3(file);
    const store = VulnStore.open(file);
    expect(store.schemaVersion).toBe(4);
    expect(
      store.sources().map((s) => [s.asset, s.cve, s.status, s.firstSeen, s.lastSeen, s.fixedAt ?? null]),
    ).toEqual([
      [
        '10.0.0.21',
        'CVE-2020-1111',
        'fixed',
        '2026-10-01T00:00:00.000Z',
        '2026-10-01T00:00:00.000Z',
        '2026-10-10T00:00:00.000Z',
      ],
      ['10.0.0.21', 'CVE-2023-48795', 'open', '2026-10-01T00:00:00.000Z', '2026-10-10T00:00:00.000Z', null],
      [
        'mail.example.org',
        'CVE-2021-34473',
        'open',
        '2026-10-01T00:00:00.000Z',
        '2026-10-10T00:00:00.000Z',
        null,
      ],
    ]);
    expect(store.sources()[2]).toMatchObject({ product: 'ProxyShell', address: '203.0.113.10' });
    expect(store.assets()[0]).toMatchObject({ hostname: 'mail.example.org', owner: 'messaging' });
    store.close();
  });

  it('a migrated finding learns its check when a scan reports it again, and then closes like any other', () => {
    const file = join(dir, 'v3-rescan.db');
    version3(file);
    const store = VulnStore.open(file);
    // scan.nessus reports both open findings: they are the same findings, now with their plugin.
    expect(store.importScan(importFindings(sample('scan.nessus'))).counts).toMatchObject({
      added: 1,
      seenAgain: 2,
    });
    expect(store.sources().filter((s) => s.cve === 'CVE-2021-34473')).toEqual([
      expect.objectContaining({ check: '150713', firstSeen: '2026-10-01T00:00:00.000Z', status: 'open' }),
    ]);
    store.importScan(importFindings(sample('rescan.nessus')));
    expect(store.sources().find((s) => s.cve === 'CVE-2021-34473')).toMatchObject({
      status: 'fixed',
      fixedAt: '2026-12-01T10:01:40.000Z',
    });
    store.close();
  });
});
