import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_COLORS } from '../../src/coverage/index.js';
import { escapeHtml, mdText } from '../../src/report/index.js';
import { launchBrowser } from '../helpers/browser.js';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';

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
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Exposure');
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
