import { readdirSync } from 'node:fs';
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
  type Asset,
  AssetIndex,
  byUrgency,
  dueDate,
  epssText,
  type FindingFacts,
  groupFindings,
  isPrivateAddress,
  knownVectors,
  type PrioritizeOptions,
  prioritize,
  staleContent,
} from '../../src/vuln/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

const NETWORK_TOTAL = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H';
const LOCAL_TOTAL = 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H';
const TODAY = '2026-12-06';

const asset = (hostname: string, more: Partial<Asset> = {}): Asset => ({
  hostname,
  addresses: [],
  publicFacing: false,
  criticality: 'medium',
  tags: [],
  ...more,
});

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
      today: TODAY,
      assets: new AssetIndex([
        asset('mail.example.org', { addresses: ['203.0.113.10'], publicFacing: true, criticality: 'high' }),
        asset('desk-18', { criticality: 'low' }),
        asset('db.example.org', { criticality: 'medium' }),
      ]),
    };
  });
  const decide = (finding: Partial<FindingFacts> & { cve: string }, more: Partial<PrioritizeOptions> = {}) =>
    prioritize({ asset: 'mail.example.org', firstSeen: '2026-11-01', ...finding }, { ...options, ...more });

  it('reads the EPSS file as published', () => {
    expect(epss.scores.size).toBeGreaterThan(300_000);
    expect(epss.scores.get('CVE-1999-0001')).toEqual({ epss: 0.03351, percentile: 0.8765 });
  });

  it('KEV, public-facing, automatable, total impact, high mission: Act, 3 days with forensics from first seen', () => {
    const p = decide({ cve: 'CVE-2021-34473', cvssVector: NETWORK_TOTAL });
    expect(p).toMatchObject({
      decision: 'act',
      timeline: '3 days & forensic investigation',
      kev: true,
      public_facing: true,
      due: '2026-11-04',
      due_source: 'bod',
      overdue: true,
    });
    expect(p.reasons[0]).toMatch(/^exploitation active: in CISA KEV since 2021-11-03/);
    expect(p.reasons).toContain(
      'KEV due date 2021-11-17 not used: it had passed when the finding was first seen (2026-11-01)',
    );
    expect(p.reasons).toContain(
      'due 2026-11-04 from BOD 26-04 "3 days & forensic investigation" (3 days) from first seen 2026-11-01',
    );
  });

  it('CVE-2017-0144 seen by OpenVAS with only a CVSS v2 vector on a public, high-criticality host: Act, 3 days', () => {
    const p = decide({ cve: 'CVE-2017-0144', port: 445, cvssVector: 'av:n/ac:m/au:n/c:c/i:c/a:c' });
    expect(p).toMatchObject({
      decision: 'act',
      timeline: '3 days & forensic investigation',
      cvss: 9.3,
      port: 445,
    });
    expect(p.reasons).toContain('not automatable (per the CVSS 2.0 vector)');
    expect(p.reasons).toContain('technical impact total: complete confidentiality and integrity impact');
    expect(p.reasons[0]).toMatch(/used by ransomware/);
  });

  it('a KEV due date after the finding was first seen wins when stricter, and says where it comes from', () => {
    // Not public-facing, not automatable, partial: KEV gives 14 days; KEV's own date is earlier.
    const p = decide({
      asset: 'db.example.org',
      cve: 'CVE-2021-34473',
      cvssVector: LOCAL_TOTAL.replace('I:H', 'I:N'),
      firstSeen: '2021-11-10',
    });
    expect(p).toMatchObject({ timeline: '14 days', due: '2021-11-17', due_source: 'kev' });
    expect(p.reasons).toContain(
      'due 2021-11-17 from KEV: its due date, in KEV since 2021-11-03, is stricter than BOD 26-04 "14 days" (14 days) from first seen 2021-11-10',
    );
  });

  it('Log4Shell first seen yesterday is not due 2021-12-24 and not overdue', () => {
    const p = decide({
      cve: 'CVE-2021-44228',
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      firstSeen: '2026-12-05T09:00:00Z',
    });
    expect(p).toMatchObject({ due: '2026-12-08', due_source: 'bod', overdue: false });
  });

  it('the clock of a CVE that entered KEV after it was first seen starts the day it entered KEV', () => {
    const due = dueDate({
      timeline: { key: '3D', name: '3 days' },
      firstSeen: '2026-01-10T08:00:00Z',
      kev: {
        cveID: 'CVE-2026-0001',
        vendorProject: '',
        product: '',
        vulnerabilityName: '',
        dateAdded: '2026-03-01',
        dueDate: '2026-03-22',
        shortDescription: '',
      },
      days: { '3D': 3 },
      overridden: false,
    });
    expect(due).toEqual({
      due: '2026-03-04',
      source: 'bod',
      reasons: [
        'due 2026-03-04 from BOD 26-04 "3 days" (3 days) from 2026-03-01, the day it entered KEV (first seen 2026-01-10)',
      ],
    });
    const damaged = dueDate({
      timeline: { key: 'FSU', name: 'Fix on system upgrade' },
      firstSeen: '2026-01-10',
      kev: {
        cveID: 'CVE-2026-0001',
        vendorProject: '',
        product: '',
        vulnerabilityName: '',
        dateAdded: '2026-03-01',
        dueDate: '2026-02-01',
        shortDescription: '',
      },
      days: { FSU: null },
      overridden: false,
    });
    expect(damaged.due).toBeNull();
    expect(damaged.reasons[0]).toBe(
      'KEV due date 2026-02-01 not used: it is before the CVE entered KEV (2026-03-01)',
    );
  });

  it('the asset found by address; not in KEV but EPSS above the threshold: public PoC, said to be inferred', () => {
    const cve = [...epss.scores].find(([id, s]) => s.epss > 0.5 && !kev.entries.has(id))![0];
    const p = decide({ asset: 'host-x', address: '203.0.113.10', cve, cvssVector: NETWORK_TOTAL });
    expect(p.reasons[0]).toMatch(
      /^exploitation public PoC, inferred from EPSS 0\.\d{3} ≥ 0\.1: EPSS predicts exploitation, no PoC was seen$/,
    );
    expect(p).toMatchObject({
      public_facing: true,
      kev: false,
      timeline: '3 days',
      due: '2026-11-04',
      decision: 'attend',
    });
  });

  it('EPSS near the threshold is printed without rounding across it', () => {
    const p = decide({ cve: 'CVE-2000-0213', cvssVector: NETWORK_TOTAL });
    expect(p.reasons[0]).toBe('exploitation none: not in KEV, EPSS 0.09998 < 0.1');
    expect(epssText(0.09998, 0.1)).toBe('0.09998');
    expect(epssText(0.1, 0.1)).toBe('0.100');
    expect(epssText(0.1234, 0.1)).toBe('0.123');
    expect(epssText(0.0504, 0.05)).toBe('0.050');
    expect(epssText(0.04996, 0.05)).toBe('0.04996');
  });

  it('nothing known about exploitation, local, low-criticality asset: Track, fix on upgrade, no due date', () => {
    const cve = [...epss.scores].find(([id, s]) => s.epss < 0.01 && !kev.entries.has(id))![0];
    const p = decide({ asset: 'desk-18', cve, cvssVector: LOCAL_TOTAL });
    expect(p).toMatchObject({
      decision: 'track',
      timeline: 'fix on system upgrade',
      due: null,
      due_source: null,
    });
    expect(p.reasons).toContain('mission and well-being low: asset criticality');
    expect(p.reasons).toContain('not automatable (per the CVSS 3.1 vector)');
    const scannerSaysExploit = decide({
      asset: 'desk-18',
      cve,
      cvssVector: LOCAL_TOTAL,
      exploitAvailable: true,
    });
    expect(scannerSaysExploit.reasons[0]).toBe(
      'exploitation public PoC: the scanner reports a public exploit',
    );
  });

  it('no vector on a finding: the vector another finding of the CVE gives, else the urgent branch, and the reason says so', () => {
    const image = 'registry.example.org/shop/api:1.4.2';
    const bare = decide({ asset: image, cve: 'CVE-2021-44228' });
    expect(bare.reasons).toContain(
      'automatable assumed: no CVSS vector known for CVE-2021-44228 (the urgent branch)',
    );
    expect(bare.reasons).toContain(
      'technical impact total assumed: no CVSS vector known for CVE-2021-44228 (the urgent branch)',
    );
    const vectors = knownVectors([
      {
        asset: 'registry.example.org/shop/worker:2.0',
        cve: 'CVE-2021-44228',
        scanner: 'grype',
        cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      },
    ]);
    const borrowed = decide({ asset: image, cve: 'CVE-2021-44228' }, { knownVectors: vectors });
    expect(borrowed.reasons).toContain(
      'CVSS vector of CVE-2021-44228 as grype reports it on registry.example.org/shop/worker:2.0',
    );
    const other = decide({
      asset: 'registry.example.org/shop/worker:2.0',
      cve: 'CVE-2021-44228',
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
    });
    // Log4Shell on two images of one database: one decision.
    expect([bare.decision, borrowed.decision, other.decision]).toEqual(['act', 'act', 'act']);
    expect(borrowed.cvss).toBe(10);
  });

  it('an asset the inventory lacks: high mission impact, exposure from its address, the urgent branch without one', () => {
    const cve = 'CVE-2023-48795';
    expect(decide({ asset: '10.9.9.9', cve }).reasons).toEqual(
      expect.arrayContaining([
        'mission and well-being high: asset not in the inventory (the urgent branch)',
        'not publicly exposed: not in the inventory, private address 10.9.9.9',
      ]),
    );
    expect(decide({ asset: '10.9.9.9', cve }).public_facing).toBe(false);
    expect(decide({ asset: 'shop.example.net', address: '8.8.4.4', cve }).public_facing).toBe(true);
    expect(decide({ asset: 'registry.example.org/x:1', cve }).reasons).toContain(
      'publicly exposed assumed: not in the inventory, no address (the urgent branch)',
    );
    const ambiguous = decide(
      { asset: 'mail', cve },
      { assets: new AssetIndex([asset('mail.example.org'), asset('mail.corp.example')]) },
    );
    expect(ambiguous.reasons).toContain(
      'mission and well-being high: "mail" could be any of mail.example.org, mail.corp.example in the inventory, so none is assumed (the urgent branch)',
    );
    expect(decide({ asset: 'mail', cve }).reasons).toContain(
      'mission and well-being high: asset criticality',
    );
    expect(isPrivateAddress('192.168.1.1')).toBe(true);
    expect(isPrivateAddress('fd00::1')).toBe(true);
    expect(isPrivateAddress('2001:4860::8888')).toBe(false);
  });

  it("takes the team's own automatable and technical impact over the CVSS vector", () => {
    const base = { cve: 'CVE-2021-34473', cvssVector: LOCAL_TOTAL };
    expect(decide(base).reasons).toContain('not automatable (per the CVSS 3.1 vector)');
    const given = decide({ ...base, automatable: true, technicalImpact: 'partial' as const });
    expect(given.reasons).toContain('automatable: as given with the finding');
    expect(given.reasons).toContain('technical impact partial: as given with the finding');
    expect(given.timeline).toBe('3 days');
  });

  it('a risk accepted until a day waits and is not overdue; expired, it is open and overdue again', () => {
    const acceptance = {
      asset: 'mail.example.org',
      cve: 'CVE-2021-34473',
      by: 'ciso',
      reason: 'isolated',
      recordedAt: '2026-11-02',
    };
    const held = decide({
      cve: 'CVE-2021-34473',
      cvssVector: NETWORK_TOTAL,
      acceptance: { ...acceptance, until: '2027-01-31' },
    });
    expect(held).toMatchObject({
      accepted: true,
      overdue: false,
      accepted_by: 'ciso',
      accepted_until: '2027-01-31',
    });
    expect(held.reasons).toContain('risk accepted by ciso until 2027-01-31: isolated');
    const expired = decide({
      cve: 'CVE-2021-34473',
      cvssVector: NETWORK_TOTAL,
      acceptance: { ...acceptance, until: '2026-12-01' },
    });
    expect(expired).toMatchObject({ accepted: false, overdue: true });
    expect(expired.reasons).toContain('risk acceptance by ciso expired on 2026-12-01: open again');
  });

  it('orders what must be done first first: overdue, due date and timeline before the decision; accepted and fixed last', () => {
    const make = (finding: Partial<FindingFacts> & { cve: string }) =>
      decide(finding, { advisoryCves: new Set(['CVE-2022-30190']) });
    const list = [
      make({
        asset: 'desk-18',
        cve: 'CVE-2023-48795',
        cvssVector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N',
      }),
      // Act, but first seen today: due in 3 days.
      make({ cve: 'CVE-2021-34523', cvssVector: NETWORK_TOTAL, firstSeen: TODAY }),
      // KEV on a low-criticality desktop: Track, yet 14 days by BOD 26-04 and overdue: first.
      make({ asset: 'desk-18', cve: 'CVE-2022-30190', cvssVector: LOCAL_TOTAL }),
      make({ cve: 'CVE-2021-34473', cvssVector: NETWORK_TOTAL, status: 'fixed' }),
      make({
        asset: 'db.example.org',
        cve: 'CVE-2021-34473',
        cvssVector: NETWORK_TOTAL,
        acceptance: {
          asset: 'db.example.org',
          cve: 'CVE-2021-34473',
          by: 'x',
          reason: 'y',
          until: '2027-01-01',
          recordedAt: '',
        },
      }),
    ].sort(byUrgency);
    expect(list.map((p) => [p.asset, p.cve, p.decision, p.due, p.overdue])).toEqual([
      ['desk-18', 'CVE-2022-30190', 'track', '2026-11-15', true],
      ['mail.example.org', 'CVE-2021-34523', 'act', '2026-12-09', false],
      ['desk-18', 'CVE-2023-48795', 'track', null, false],
      ['db.example.org', 'CVE-2021-34473', 'act', '2026-11-04', false],
      ['mail.example.org', 'CVE-2021-34473', 'act', '2026-11-04', false],
    ]);
    expect(list[0]!.reasons).toContain('named in the advisory');
  });

  it('says when a finding was not re-tested by the latest scan of its asset, and when it came back', () => {
    const p = decide({
      cve: 'CVE-2021-34473',
      cvssVector: NETWORK_TOTAL,
      notRetested: { since: '2026-11-24T10:01:40Z', scan: { at: '2026-11-28T08:00:00Z', scanner: 'nessus' } },
      reopenedAt: '2026-11-24T10:01:40Z',
    });
    expect(p.not_retested_since).toBe('2026-11-24T10:01:40Z');
    expect(p.reasons).toContain(
      'not re-tested since 2026-11-24: the asset was scanned on 2026-11-28 (nessus) without the check that found it',
    );
    expect(p.reasons).toContain('reopened on 2026-11-24: seen again after it was fixed');
  });

  it('groups what one file holds on several ports apart, and prioritizes the group with the newest vector', () => {
    const source = {
      asset: 'db.example.org',
      cve: 'CVE-2021-34473',
      scanner: 'csv',
      firstSeen: '2026-11-01',
      lastSeen: '2026-11-01',
      status: 'open' as const,
    };
    const grouped = groupFindings(
      [
        { ...source, port: 443, cvssVector: 'AV:N/AC:L/Au:N/C:C/I:C/A:C' },
        { ...source, port: 443, scanner: 'nessus', cvssVector: NETWORK_TOTAL, lastSeen: '2026-10-01' },
        { ...source, port: 8443 },
      ],
      { assets: options.assets },
    );
    expect(grouped.map((f) => [f.port, f.scanners, f.cvssVector])).toEqual([
      [443, ['csv', 'nessus'], NETWORK_TOTAL],
      [8443, ['csv'], undefined],
    ]);
  });
});

describe('content freshness', () => {
  it('warns when KEV or EPSS is older than a week, or undated', () => {
    const kev = { released: '2026-08-21T17:46:43.6019Z', entries: new Map(), problems: [] };
    const epss = { date: '2026-11-30', scores: new Map() };
    expect(staleContent({ kev, epss }, '2026-08-28')).toEqual([]);
    expect(staleContent({ kev, epss }, '2026-12-06')).toEqual([
      'the KEV catalogue is from 2026-08-21, 107 days old: decisions miss what changed since (vigil content update --only kev)',
    ]);
    expect(staleContent({ epss: { scores: new Map() } }, '2026-12-06')).toEqual([
      'the EPSS file does not say when it was published: it may be old (vigil content update --only epss)',
    ]);
  });
});
