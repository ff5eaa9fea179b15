import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentStatus, type SourceStatus } from '../../src/content/index.js';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { writeNewerAttackRules } from '../helpers/sigma.js';
import { attackRelease, bundleText, technique } from '../helpers/stix.js';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Dates {
  attack: string;
  sigma: string;
  kev: string;
  epss: string;
}

/**
 * A content folder laid out as Vigil installs it, each source dated as its publisher dates it: the
 * ATT&CK collection's `modified`, the Sigma release tag, KEV's `dateReleased`, EPSS's `score_date`.
 */
function contentFolder(root: string, dates: Dates): string {
  const write = (path: string, data: string | Uint8Array) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), data);
  };
  write(
    'attack/enterprise-attack.json',
    bundleText([
      { ...attackRelease('18.1'), modified: `${dates.attack}T14:00:00.188Z` },
      technique('1', 'T1059', 'Command and Scripting Interpreter', ['execution']),
      technique('2', 'T1059.001', 'PowerShell', ['execution'], { x_mitre_is_subtechnique: true }),
    ]),
  );
  write('sigma/VERSION', `r${dates.sigma}\n`);
  write(
    'sigma/rules/windows/rule.yml',
    "title: One\nlogsource: { product: windows, category: process_creation }\ndetection: { sel: { Image|endswith: '\\x.exe' }, condition: sel }\ntags: [attack.t1059.001]\n",
  );
  write(
    'kev/known_exploited_vulnerabilities.json',
    JSON.stringify({
      catalogVersion: dates.kev.replaceAll('-', '.'),
      dateReleased: `${dates.kev}T17:46:43.6019Z`,
      vulnerabilities: [{ cveID: 'CVE-2021-34473', dateAdded: '2021-11-03' }],
    }),
  );
  // The name's date is when the file was fetched; the header comment says which day the scores are of.
  write(
    `epss/epss_scores-${day(Date.parse(dates.epss) + DAY)}.csv.gz`,
    gzipSync(
      `#model_version:v2025.03.14,score_date:${dates.epss}T00:00:00+0000\ncve,epss,percentile\nCVE-2021-34473,0.94,0.99\n`,
    ),
  );
  write(
    'warninglists/lists/example/list.json',
    JSON.stringify({ name: 'x', version: 20261120, type: 'string', list: ['example.com'] }),
  );
  return root;
}

function byName(sources: SourceStatus[]): Record<string, SourceStatus> {
  return Object.fromEntries(sources.map((s) => [s.source, s]));
}

describe('content status', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-status-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ages each source by its publisher's own date, stale past a week (KEV, EPSS), a quarter (rules), half a year (ATT&CK)", () => {
    const folder = contentFolder(join(dir, 'dated'), {
      attack: '2026-10-28',
      sigma: '2026-11-01',
      kev: '2026-12-03',
      epss: '2026-12-01',
    });
    const cacheDir = join(dir, 'cache');
    const fresh = byName(contentStatus(folder, { now: new Date('2026-12-06T09:00:00Z'), cacheDir }).sources);
    expect(fresh.kev).toMatchObject({ version: '2026.12.03', date: '2026-12-03', ageDays: 3, stale: false });
    expect(fresh.epss).toMatchObject({ date: '2026-12-01', dated: 'scores of', ageDays: 5, stale: false });
    expect(fresh.sigma).toMatchObject({
      version: 'r2026-11-01',
      date: '2026-11-01',
      ageDays: 35,
      stale: false,
    });
    expect(fresh.attack).toMatchObject({ version: '18.1', date: '2026-10-28', ageDays: 39, stale: false });
    expect(fresh.warninglists).toMatchObject({ date: '2026-11-20', stale: false, staleAfterDays: null });
    expect(fresh.ssvc).toMatchObject({ present: false, date: null, stale: false });
    expect(Object.values(fresh).flatMap((s) => s.warnings)).toEqual([]);

    // A week and a day after the KEV catalogue: KEV and EPSS are stale, the rules not yet.
    const later = byName(contentStatus(folder, { now: new Date('2026-12-11T09:00:00Z'), cacheDir }).sources);
    expect([later.kev!.stale, later.epss!.stale, later.sigma!.stale, later.attack!.stale]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(later.kev!.warnings).toEqual([
      'released 2026-12-03, 8 days ago: older than 7 days, so stale. Update it with: vigil content update --only kev',
    ]);
    const spring = byName(contentStatus(folder, { now: new Date('2027-03-10T09:00:00Z'), cacheDir }).sources);
    expect([spring.sigma!.stale, spring.attack!.stale]).toEqual([true, false]);
    const summer = byName(contentStatus(folder, { now: new Date('2027-06-01T09:00:00Z'), cacheDir }).sources);
    expect(summer.attack!.stale).toBe(true);
  });

  it('dates rules without a release tag by their newest change, and EPSS without a header by its name', () => {
    const folder = contentFolder(join(dir, 'untagged'), {
      attack: '2026-10-28',
      sigma: '2026-11-01',
      kev: '2026-12-03',
      epss: '2026-12-01',
    });
    rmSync(join(folder, 'sigma', 'VERSION'));
    writeFileSync(
      join(folder, 'sigma', 'rules', 'windows', 'older.yml'),
      'title: Two\ndate: 2026/09/01\nmodified: 2026-10-15\nlogsource: { product: windows }\ndetection: { sel: { EventID: 1 }, condition: sel }\n# date: 2030-01-01 in a comment is no date\n',
    );
    rmSync(join(folder, 'epss'), { recursive: true });
    mkdirSync(join(folder, 'epss'));
    writeFileSync(
      join(folder, 'epss', 'epss_scores-2026-11-29.csv.gz'),
      gzipSync('cve,epss,percentile\nCVE-2021-34473,0.94,0.99\n'),
    );
    const status = byName(
      contentStatus(folder, { now: new Date('2026-12-06T09:00:00Z'), cacheDir: join(dir, 'cache') }).sources,
    );
    expect(status.sigma).toMatchObject({ version: null, date: '2026-10-15', dated: 'newest rule change' });
    expect(status.epss).toMatchObject({ date: '2026-11-29', ageDays: 7, stale: false });
  });

  it.skipIf(!hasContent)(
    'reads the shared copies: KEV 2026.08.21, EPSS of 2026-08-16, SigmaHQ commit 8eaafff of 2026-08-05, ATT&CK 18.1',
    () => {
      const cacheDir = join(dir, 'shared-cache');
      const august = byName(
        contentStatus(contentPath(), { now: new Date('2026-08-22T12:00:00Z'), cacheDir }).sources,
      );
      expect(august.kev).toMatchObject({
        version: '2026.08.21',
        date: '2026-08-21',
        ageDays: 1,
        stale: false,
      });
      expect(august.epss).toMatchObject({ date: '2026-08-16', ageDays: 6, stale: false });
      expect(august.sigma).toMatchObject({
        version: '8eaafff1f',
        date: '2026-08-05',
        dated: 'commit of',
        stale: false,
      });
      expect(august.attack).toMatchObject({ version: '18.1', date: '2025-11-13', stale: true });
      const december = byName(
        contentStatus(contentPath(), { now: new Date('2026-12-06T12:00:00Z'), cacheDir }).sources,
      );
      for (const name of ['kev', 'epss', 'sigma', 'attack']) expect(december[name]!.stale, name).toBe(true);
    },
  );

  it.skipIf(!hasContent)(
    'warns from the command line: stale sources, and rules tagged with IDs the installed ATT&CK lacks',
    () => {
      const env = { VIGIL_HOME: join(dir, 'home') };
      // The shared copies are from August 2026: stale from December 2026 on, for good.
      const shared = vigil(['content', 'status'], { ...env, VIGIL_CONTENT_DIR: contentPath() });
      expect(shared.status, shared.stderr).toBe(0);
      for (const [name, limit] of [
        ['attack', 183],
        ['sigma', 91],
        ['kev', 7],
        ['epss', 7],
      ] as const) {
        expect(shared.stderr).toMatch(
          new RegExp(
            `vigil: warning: ${name}: .* \\d{4}-\\d{2}-\\d{2}, \\d+ days ago: older than ${limit} days, so stale. Update it with: vigil content update --only ${name}`,
          ),
        );
      }
      expect(shared.stdout).toMatch(
        /kev\s+│ present │ 2026\.08\.21\s+│ released 2026-08-21 \(\d+ days ago\) stale/,
      );
      expect(shared.stderr).not.toContain('does not know');

      // Dated days before today, so fresh whenever the test runs; two rules tagged for ATT&CK v19.
      const now = Date.now();
      const folder = contentFolder(join(dir, 'newer-rules'), {
        attack: day(now - 40 * DAY),
        sigma: day(now - 30 * DAY),
        kev: day(now - DAY),
        epss: day(now - 2 * DAY),
      });
      writeNewerAttackRules(join(folder, 'sigma', 'rules', 'newer'));
      const result = vigil(['content', 'status', '--json'], { ...env, VIGIL_CONTENT_DIR: folder });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).not.toContain('stale');
      expect(result.stderr).toContain(
        'vigil: warning: sigma: 2 rules carry ATT&CK IDs that ATT&CK v18.1 does not know: attack.t1686 (2). They were written for a newer ATT&CK release',
      );
      const status = JSON.parse(result.stdout);
      expect(status.unknownAttackTags).toEqual({ tags: [{ tag: 'attack.t1686', rules: 2 }], rules: 2 });
      expect(byName(status.sources).kev).toMatchObject({ date: day(now - DAY), ageDays: 1, stale: false });
    },
  );
});
