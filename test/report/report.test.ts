import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_COLORS } from '../../src/coverage/index.js';
import type { Detection } from '../../src/detect/index.js';
import {
  DetectionRollup,
  EVENTS_PER_GROUP,
  escapeHtml,
  MAX_LISTED,
  mdText,
  renderHtml,
  renderMarkdown,
} from '../../src/report/index.js';
import { launchBrowser } from '../helpers/browser.js';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { CRITICAL_RULE, worstCaseAssessment } from './fixture.js';
import { checkReportLayout } from './layout.js';

describe('escaping', () => {
  it('leaves no markup in HTML text or attributes', () => {
    expect(escapeHtml('<script>alert("x")</script> & \' `')).toBe(
      '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39; &#96;',
    );
  });
  it('keeps Markdown cells on one line, markup escaped', () => {
    expect(mdText('a | b\n<b>[x](javascript:y)</b>')).toBe(
      'a \\| b \\<b\\>\\[x\\]\\(javascript:y\\)\\</b\\>',
    );
  });
});

function detection(
  rule: string,
  host: string | undefined,
  time: string | undefined,
  extra: Partial<Detection> = {},
): Detection {
  return {
    time,
    timeMs: time === undefined ? undefined : Date.parse(time),
    rule: { id: rule, title: `Rule ${rule}`, level: 'medium', kind: 'detection', file: `${rule}.yml` },
    techniques: ['T1059.001'],
    tactics: ['execution'],
    host,
    source: { file: 'logs.evtx', record: 1 },
    matched: {},
    ...extra,
  };
}

describe('rolling detections up by rule and host', () => {
  it('counts every detection and keeps the first and last time, though it keeps only the earliest events', () => {
    const rollup = new DetectionRollup();
    // Read out of time order, as files of several hosts are.
    const minutes = [30, 5, 59, 12, ...Array.from({ length: 3 * EVENTS_PER_GROUP }, (_, i) => 20 + (i % 30))];
    for (const [record, minute] of minutes.entries()) {
      const time = `2024-05-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
      rollup.add(detection('a', 'WS1', time, { source: { file: 'logs.evtx', record } }));
    }
    rollup.add(detection('a', 'WS1', undefined));
    const [group] = rollup.groups(MAX_LISTED);
    expect(group!.count).toBe(minutes.length + 1);
    expect(group!.firstTime).toBe('2024-05-01T10:05:00.000Z');
    expect(group!.lastTime).toBe('2024-05-01T10:59:00.000Z');
    expect(group!.events).toHaveLength(EVENTS_PER_GROUP);
    const times = group!.events.map((d) => d.timeMs!);
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(group!.events[0]!.source.record).toBe(1);
    expect(rollup.total).toBe(minutes.length + 1);
  });

  it('keeps a group per rule and host, the highest level and every technique, the most severe first', () => {
    const rollup = new DetectionRollup();
    rollup.add(detection('a', 'WS1', '2024-05-01T10:00:00Z'));
    rollup.add(detection('a', 'WS2', '2024-05-01T09:00:00Z'));
    rollup.add(detection('a', undefined, '2024-05-01T08:00:00Z'));
    rollup.add(detection('b', 'WS1', '2024-05-01T11:00:00Z', { techniques: ['T1003.001'] }));
    rollup.add(
      detection('b', 'WS1', '2024-05-01T12:00:00Z', {
        techniques: ['T1003.001', 'T1003'],
        rule: { id: 'b', title: 'Rule b', level: 'high', kind: 'detection', file: 'b.yml' },
      }),
    );
    // Same title, no id: another rule, told apart by its file.
    rollup.add(
      detection('x', 'WS1', '2024-05-01T07:00:00Z', {
        rule: { title: 'Rule b', level: 'medium', kind: 'detection', file: 'other.yml' },
      }),
    );
    const groups = rollup.groups(MAX_LISTED);
    expect(groups.map((g) => [g.rule.id ?? g.rule.file, g.host, g.count])).toEqual([
      ['b', 'WS1', 2],
      ['other.yml', 'WS1', 1],
      [`a`, null, 1],
      ['a', 'WS2', 1],
      ['a', 'WS1', 1],
    ]);
    expect(groups[0]!.rule.level).toBe('high');
    expect(groups[0]!.techniques).toEqual(['T1003', 'T1003.001']);
    expect(rollup.groupCount).toBe(5);
    expect(rollup.groups(2)).toHaveLength(2);
  });
});

/** Collects what a page must never do: log errors, fail scripts, open dialogs. */
async function openReport(browser: Browser, file: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', async (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    await dialog.dismiss();
  });
  await page.goto(`file://${file}`);
  return { page, problems };
}

describe.skipIf(!hasContent)('vigil assess', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let browser: Browser;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-assess-'));
    env = { VIGIL_HOME: join(dir, 'home'), VIGIL_CONTENT_DIR: contentPath() };
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('assesses the Hive advisory against EVTX-ATTACK-SAMPLES: techniques, gaps, hunt hits, indicator verdicts', async () => {
    const out = join(dir, 'hive');
    const result = vigil(
      [
        'assess',
        '--advisory',
        contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'),
        '--logs',
        contentPath('..', 'datasets', 'evtx-attack-samples'),
        '--out',
        out,
      ],
      env,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /\d+ techniques: \d+ covered, \d+ blind, \d+ available, \d+ uncovered; maturity \d+\/100/,
    );
    expect(result.stdout).toMatch(/Hunt: 8,255 events/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.coverage.techniques.length).toBeGreaterThan(5);
    expect(report.coverage.backlog.length).toBeGreaterThan(0);
    expect(report.hunt.inScopeTotal).toBeGreaterThan(0);
    expect(report.advisories[0].indicators.some((i: { actionable: boolean }) => !i.actionable)).toBe(true);
    expect(report.advisories[0].indicators.some((i: { actionable: boolean }) => i.actionable)).toBe(true);
    // Windows binaries the advisory names are context for its techniques: never swept, never a hit.
    const tools = report.advisories[0].tools.map((t: { name: string }) => t.name);
    expect(tools).toEqual(
      expect.arrayContaining(['wmic.exe', 'vssadmin.exe', 'bcdedit.exe', 'wevtutil.exe']),
    );
    expect(report.hunt.indicatorHits.filter((h: { value: string }) => tools.includes(h.value))).toEqual([]);
    // The actor addresses a VPN list holds stay actionable, with the list said.
    const addresses = report.advisories[0].indicators.filter((i: { type: string }) => i.type === 'ipv4');
    expect(addresses.every((i: { actionable: boolean }) => i.actionable)).toBe(true);
    expect(
      addresses.filter(
        (i: { confidence: string; reason: string }) => i.confidence === 'medium' && /vpn-ipv4/.test(i.reason),
      ).length,
    ).toBeGreaterThanOrEqual(18);
    const markdown = readFileSync(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('Windows binaries named');
    expect(markdown).toContain('## Backlog');
    expect(markdown).toContain('## Indicators');
    expect(JSON.parse(readFileSync(join(out, 'layer.json'), 'utf8')).versions.layer).toBe('4.5');

    const { page, problems } = await openReport(browser, join(out, 'report.html'));
    const tactics = await page.locator('.tactic h3').allTextContents();
    expect(tactics).toEqual([
      'Reconnaissance',
      'Resource Development',
      'Initial Access',
      'Execution',
      'Persistence',
      'Privilege Escalation',
      'Defense Evasion',
      'Credential Access',
      'Discovery',
      'Lateral Movement',
      'Collection',
      'Command and Control',
      'Exfiltration',
      'Impact',
    ]);
    // The heatmap as drawn: a cell of each state, photographed, has its state's colour.
    const states = await page
      .locator('.cell')
      .evaluateAll((cells) => [...new Set(cells.map((c) => c.getAttribute('data-state')))]);
    expect(states.length).toBeGreaterThanOrEqual(2);
    for (const state of states as (keyof typeof STATE_COLORS)[]) {
      const shot = PNG.sync.read(await page.locator(`.cell[data-state="${state}"]`).first().screenshot());
      const at = (shot.width * 2 + 2) * 4; // a pixel of the padding, not of the text
      const [r, g, b] = [shot.data[at]!, shot.data[at + 1]!, shot.data[at + 2]!];
      const hex = STATE_COLORS[state];
      const want = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
      expect(
        [r, g, b].every((v, i) => Math.abs(v - want[i]!) <= 8),
        `${state}: got rgb(${r},${g},${b}), want ${hex}`,
      ).toBe(true);
    }
    expect(problems).toEqual([]);
    await page.close();

    const layout = await checkReportLayout(browser, join(out, 'report.html'), 'hive', 64);
    console.log(`Report layout, Hive advisory on EVTX-ATTACK-SAMPLES:\n  ${layout.files.join('\n  ')}`);
    expect(layout.problems).toEqual([]);
    // One row per rule and host: the 15,000 px table of one row per detection is gone.
    const rows = await layout.page.locator('.groups summary').count();
    expect(rows).toBe(report.hunt.detectionGroups.length);
    expect(rows).toBeLessThan(report.hunt.inScopeTotal);
    const groups = (await layout.page.locator('.groups').boundingBox())!;
    expect(groups.height / rows).toBeLessThan(40);
    await layout.page.close();
  });

  it("gains an exposure section with --vulns: the advisory's CVEs on our assets first", async () => {
    const out = join(dir, 'exposure');
    const samples = join(import.meta.dirname, '..', 'vuln', 'samples');
    const result = vigil(
      [
        'assess',
        '--advisory',
        contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'),
        '--rules',
        contentPath('sigma', 'rules', 'windows', 'process_creation'),
        '--vulns',
        join(samples, 'scan.nessus'),
        join(samples, 'findings.csv'),
        '--assets',
        join(samples, 'assets.yml'),
        '--out',
        out,
      ],
      env,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /Exposure: 6 findings on 5 assets, \d+ act; 2 of the advisory's CVEs on our assets/,
    );
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.exposure.advisoryFindings.map((f: { cve: string }) => f.cve)).toEqual([
      'CVE-2021-34473',
      'CVE-2021-34523',
    ]);
    expect(report.exposure.top[0]).toMatchObject({
      asset: 'mail.example.org',
      decision: 'act',
      advisory: true,
    });
    const markdown = readFileSync(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('## Exposure');
    // Findings on different ports are told apart.
    expect(markdown).toContain('| mail.example.org:443 | CVE-2021-34473 |');
    const { page, problems } = await openReport(browser, join(out, 'report.html'));
    expect(await page.locator('h2', { hasText: 'Exposure' }).count()).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('assesses each host group of the inventory on its own, naming what it loses against the estate', async () => {
    const out = join(dir, 'groups');
    const inventory = join(dir, 'groups.yml');
    writeFileSync(
      inventory,
      [
        'name: Estate',
        'windows:',
        '  Security: all',
        '  Microsoft-Windows-Sysmon/Operational: all',
        '  Microsoft-Windows-PowerShell/Operational: all',
        'groups:',
        '  dmz:',
        '    windows: { Security: [4624, 4625] }',
        '  servers:',
        '    windows: { Security: all, Microsoft-Windows-Sysmon/Operational: all, Microsoft-Windows-PowerShell/Operational: all }',
        '',
      ].join('\n'),
    );
    const result = vigil(
      [
        'assess',
        '--advisory',
        contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'),
        '--rules',
        contentPath('sigma', 'rules', 'windows'),
        '--logsources',
        inventory,
        '--out',
        out,
      ],
      env,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /Host group dmz: maturity \d+\/100, \d+ covered; \d+ techniques covered elsewhere are not here/,
    );
    expect(result.stdout).toMatch(/Host group servers: maturity \d+\/100, \d+ covered\n/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const [dmz, servers] = report.hostGroups;
    expect([dmz.name, servers.name]).toEqual(['dmz', 'servers']);
    // Collecting what the estate collects, the servers lose nothing; the DMZ, with two event IDs, loses much.
    expect(servers.weaker).toEqual([]);
    expect(servers.counts).toEqual(report.coverage.counts);
    expect(report.coverage.counts.covered).toBeGreaterThan(0);
    expect(dmz.counts.covered).toBeLessThan(report.coverage.counts.covered);
    expect(dmz.weaker.length).toBe(report.coverage.counts.covered - dmz.counts.covered);
    expect(dmz.weaker.every((t: { state: string }) => t.state !== 'covered')).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/## Host groups[\s\S]*\| dmz \|/);
    const { page, problems } = await openReport(browser, join(out, 'report.html'));
    const section = page.locator('section', { has: page.locator('h2', { hasText: 'Host groups' }) });
    expect(await section.locator('tbody tr').count()).toBe(2);
    expect(await section.locator('tbody tr').first().textContent()).toContain(dmz.weaker[0].id);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('escapes hostile text from advisories, rules and logs: nothing runs', async () => {
    const payload = `<script>window.__pwned = 1; alert('xss')</script><img src=x onerror="window.__pwned=2">`;
    const advisory = join(dir, 'hostile.txt');
    writeFileSync(
      advisory,
      `Hostile ${payload} advisory\nThe actors ran PowerShell (T1059.001) from "javascript:alert(1)" and contacted evil-c2${'[.]'}net.\n${payload}\n`,
    );
    const rules = join(dir, 'rules');
    const logs = join(dir, 'logs');
    for (const [folder, name, text] of [
      [
        rules,
        'hostile.yml',
        `title: "Hostile <script>window.__pwned=3</script> rule"\nid: 22222222-2222-2222-2222-222222222222\nstatus: test\nlevel: high\ntags: [attack.t1059.001]\nlogsource: { product: windows, category: process_creation }\ndetection: { sel: { CommandLine|contains: '<script>' }, condition: sel }\n`,
      ],
      [
        logs,
        'events.jsonl',
        `${JSON.stringify({ Event: { System: { Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, Computer: '<script>window.__pwned=4</script>', TimeCreated: { '#attributes': { SystemTime: '2024-01-01T00:00:00Z' } }, EventRecordID: 1 }, EventData: { CommandLine: `powershell ${payload} evil-c2.net`, Image: 'javascript:alert(1)' } } })}\n`,
      ],
    ] as const) {
      rmSync(folder, { recursive: true, force: true });
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, name), text);
    }
    const out = join(dir, 'hostile-report');
    const result = vigil(
      ['assess', '--advisory', advisory, '--rules', rules, '--logs', logs, '--out', out],
      env,
    );
    expect(result.status, result.stderr).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('<script>window');
    expect(html).not.toContain('<img src=x');
    const { page, problems } = await openReport(browser, join(out, 'report.html'));
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    expect(await page.locator('script, img, iframe, object, embed').count()).toBe(0);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).toContain('<script>window.__pwned=3</script>');
    expect(text).toContain('evil-c2.net');
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('report layout', () => {
  let dir: string;
  let browser: Browser;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-layout-'));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fits a crowded matrix at 1280 px and on a landscape page, tiles and badges apart; the hunt one row per rule and host', async () => {
    const assessment = worstCaseAssessment();
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(assessment));
    const { problems, files, page } = await checkReportLayout(browser, file, 'worst-case', 100);
    console.log(`Report layout, worst case:\n  ${files.join('\n  ')}`);
    expect(problems).toEqual([]);
    expect(await page.locator('.tactic').count()).toBe(14);
    // A technique of four tactics is under each; a six-digit hit count is shortened, exact in its title.
    const shared = page.locator('.cell[data-technique="T9999.999"]');
    expect(await shared.count()).toBe(4);
    expect(await shared.first().locator('.hit').textContent()).toBe('123k');
    expect(await shared.first().locator('.hit').getAttribute('title')).toBe('123456 hunt detections');

    const rows = page.locator('.groups details');
    expect(await rows.count()).toBe(MAX_LISTED);
    expect(await page.locator('section', { hasText: 'by rule and host' }).textContent()).toContain(
      `from 600 pairs of rule and host; the ${MAX_LISTED} most severe are listed, ${600 - MAX_LISTED} more are not`,
    );
    const first = rows.first();
    expect(await first.locator('.level').textContent()).toBe('critical');
    expect(await first.locator('.num').textContent()).toBe('250');
    expect(await first.locator('table.events').isVisible()).toBe(false);
    await first.locator('summary').click();
    expect(await first.locator('table.events').isVisible()).toBe(true);
    expect(await first.locator('table.events tbody tr').count()).toBe(EVENTS_PER_GROUP);
    expect(await first.textContent()).toContain(
      `and ${250 - EVENTS_PER_GROUP} more of this rule on this host`,
    );
    expect(await first.textContent()).toContain(
      `00000000-0000-4000-8000-${String(CRITICAL_RULE).padStart(12, '0')}, by Test Author`,
    );
    await page.close();

    const markdown = renderMarkdown(assessment);
    expect(markdown).toContain(
      `600 pairs of rule and host, the most severe first (100 listed here, ${MAX_LISTED} in report.html and report.json)`,
    );
    const section = markdown.split('## Hunt detections')[1]!.split('\n## ')[0]!;
    expect(section.split('\n').filter((line) => line.startsWith('| critical |'))).toHaveLength(100);
  });
});
