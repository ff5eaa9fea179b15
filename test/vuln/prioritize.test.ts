import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DecisionTable,
  type EpssScores,
  type KevCatalog,
  readDecisionTable,
  readEpss,
  readKevCatalog,
} from '../../src/content/index.js';
import {
  AssetIndex,
  byUrgency,
  type PrioritizeOptions,
  prioritize,
  VulnStore,
} from '../../src/vuln/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

const NETWORK_TOTAL = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const LOCAL_TOTAL = 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H';

describe.skipIf(!hasContent)('prioritization with KEV, EPSS, CVSS, assets and SSVC', () => {
  let options: PrioritizeOptions;
  let coordinator: DecisionTable;
  let bod: DecisionTable;
  let kev: KevCatalog;
  let epss: EpssScores;
  beforeAll(() => {
    coordinator = readDecisionTable(contentPath('ssvc', 'cisa_coordinator_2_0_3.json'));
    bod = readDecisionTable(contentPath('ssvc', 'cisa_bod_26_04_1_0_0.json'));
    kev = readKevCatalog(contentPath('kev', 'known_exploited_vulnerabilities.json'));
    const epssName = readdirSync(contentPath('epss')).find((f) => f.endsWith('.csv.gz'))!;
    epss = readEpss(contentPath('epss', epssName));
    options = {
      coordinator,
      bod,
      kev,
      epss,
      assets: new AssetIndex([
        {
          hostname: 'mail.example.org',
          addresses: ['203.0.113.10'],
          publicFacing: true,
          criticality: 'high',
          tags: [],
        },
        { hostname: 'desk-18', addresses: [], publicFacing: false, criticality: 'low', tags: [] },
      ]),
    };
  });

  it('reads the EPSS file as published', () => {
    expect(epss.scores.size).toBeGreaterThan(300_000);
    expect(epss.scores.get('CVE-1999-0001')).toEqual({ epss: 0.03351, percentile: 0.8765 });
  });

  it('KEV, public-facing, automatable, total impact, high mission: Act, 3 days with forensics, the KEV due date when stricter', () => {
    const p = prioritize(
      {
        asset: 'mail.example.org',
        cve: 'CVE-2021-34473',
        cvssVector: NETWORK_TOTAL,
        firstSeen: '2026-11-01',
      },
      options,
    );
    expect(p).toMatchObject({
      decision: 'act',
      timeline: '3 days & forensic investigation',
      kev: true,
      public_facing: true,
      due: '2021-11-17',
    });
    expect(p.reasons[0]).toMatch(/^exploitation active: in CISA KEV since 2021-11-03/);
    expect(p.reasons).toContain('due 2021-11-17: the KEV due date is stricter');
  });

  it('the asset found by address; not in KEV but EPSS above the threshold: public PoC', () => {
    const cve = [...epss.scores].find(([id, s]) => s.epss > 0.5 && !kev.entries.has(id))![0];
    const p = prioritize(
      { asset: 'host-x', address: '203.0.113.10', cve, cvssVector: NETWORK_TOTAL, firstSeen: '2026-11-01' },
      options,
    );
    expect(p.reasons[0]).toMatch(/^exploitation public PoC: EPSS/);
    expect(p).toMatchObject({ public_facing: true, kev: false, timeline: '3 days', due: '2026-11-04' });
    expect(p.decision).toBe('attend');
  });

  it('nothing known about exploitation, local, low-criticality asset: Track, fix on upgrade, no due date', () => {
    const cve = [...epss.scores].find(([id, s]) => s.epss < 0.01 && !kev.entries.has(id))![0];
    const p = prioritize(
      { asset: 'desk-18', cve, cvssVector: LOCAL_TOTAL, firstSeen: '2026-11-01' },
      options,
    );
    expect(p).toMatchObject({ decision: 'track', timeline: 'fix on system upgrade', due: null });
    expect(p.reasons).toContain('mission and well-being low: asset criticality');
    expect(p.reasons).toContain('not automatable (per the CVSS vector)');
    const scannerSaysExploit = prioritize(
      { asset: 'desk-18', cve, cvssVector: LOCAL_TOTAL, exploitAvailable: true, firstSeen: '2026-11-01' },
      options,
    );
    expect(scannerSaysExploit.reasons[0]).toBe(
      'exploitation public PoC: the scanner reports a public exploit',
    );
  });

  it("takes the team's own automatable and technical impact over the CVSS vector", () => {
    const base = {
      asset: 'mail.example.org',
      cve: 'CVE-2021-34473',
      cvssVector: LOCAL_TOTAL,
      firstSeen: '2026-11-01',
    };
    expect(prioritize(base, options).reasons).toContain('not automatable (per the CVSS vector)');
    const given = prioritize({ ...base, automatable: true, technicalImpact: 'partial' as const }, options);
    expect(given.reasons).toContain('automatable: as given with the finding');
    expect(given.reasons).toContain('technical impact partial: as given with the finding');
    expect(given.timeline).toBe('3 days');
  });

  it('orders by decision, then advisory, public-facing, RCE/DoS, EPSS, CVSS, criticality', () => {
    const make = (asset: string, cve: string, vector: string) =>
      prioritize(
        { asset, cve, cvssVector: vector, firstSeen: '2026-11-01' },
        { ...options, advisoryCves: new Set(['CVE-2022-30190']) },
      );
    const list = [
      make('desk-18', 'CVE-2023-48795', 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N'),
      make('mail.example.org', 'CVE-2021-34473', NETWORK_TOTAL),
      make('desk-18', 'CVE-2022-30190', LOCAL_TOTAL),
    ].sort(byUrgency);
    expect(list.map((p) => p.cve)).toEqual(['CVE-2021-34473', 'CVE-2022-30190', 'CVE-2023-48795']);
    expect(list[1]!.reasons).toContain('named in the advisory');
  });
});

describe('the findings store', () => {
  const finding = (asset: string, cve: string, port?: number) => ({
    asset,
    cve,
    port,
    scanner: 'csv' as const,
  });

  it('migrates a new database, does not duplicate a re-import, marks what a later scan lost as fixed, and measures remediation', () => {
    const store = VulnStore.open(':memory:');
    expect(store.schemaVersion).toBe(3);
    const first = [
      finding('a', 'CVE-2021-1111', 443),
      finding('a', 'CVE-2021-2222'),
      finding('b', 'CVE-2021-3333'),
    ];
    expect(store.importScan(first, ['a', 'b'], 'scan1.csv', 'csv', new Date('2026-11-01T00:00:00Z'))).toEqual(
      { added: 3, seenAgain: 0, reopened: 0, fixed: 0 },
    );
    expect(store.importScan(first, ['a', 'b'], 'scan1.csv', 'csv', new Date('2026-11-02T00:00:00Z'))).toEqual(
      { added: 0, seenAgain: 3, reopened: 0, fixed: 0 },
    );
    expect(store.findings()).toHaveLength(3);
    // The next scan covers a and b but no longer reports CVE-2021-2222 on a.
    const later = [finding('a', 'CVE-2021-1111', 443), finding('b', 'CVE-2021-3333')];
    expect(
      store.importScan(later, ['a', 'b'], 'scan2.csv', 'csv', new Date('2026-11-11T00:00:00Z')).fixed,
    ).toBe(1);
    const fixed = store.findings('fixed');
    expect(fixed.map((f) => [f.asset, f.cve, f.fixedAt])).toEqual([
      ['a', 'CVE-2021-2222', '2026-11-11T00:00:00.000Z'],
    ]);
    expect(store.meanTimeToRemediateDays()).toBe(10);
    // A scan of other assets closes nothing on a and b; the finding coming back reopens it.
    expect(store.importScan([finding('c', 'CVE-2021-4444')], ['c'], 'scan3.csv', 'csv').fixed).toBe(0);
    expect(
      store.importScan(
        [finding('a', 'CVE-2021-2222')],
        ['a'],
        'scan4.csv',
        'csv',
        new Date('2026-11-20T00:00:00Z'),
      ),
    ).toMatchObject({ reopened: 1, fixed: 1 });
    expect(store.findings('open').map((f) => f.cve)).toEqual([
      'CVE-2021-2222',
      'CVE-2021-3333',
      'CVE-2021-4444',
    ]);
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
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-store-')), 'vulns.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => VulnStore.open(file)).toThrow(/schema version 99; this Vigil knows 3/);
  });
});
