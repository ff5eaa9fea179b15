import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { navigating, openSession, screenshot } from '../helpers/console.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { api, everyTenantToken, provision, type RunningService, startService } from '../helpers/serve.js';

/** A process-creation rule: covered once Sysmon's process events are seen in the tenant's events. */
const CMD_RULE = `title: Shell started by an office program
id: 5b0e1f7e-0000-4000-8000-00000000e001
status: test
logsource: { product: windows, category: process_creation }
detection:
  selection:
    Image|endswith: '\\cmd.exe'
    ParentImage|endswith: '\\winword.exe'
  condition: selection
level: high
tags: [attack.execution, attack.t1059.003]
`;

/** A CloudTrail rule: seen by a tenant whose events the pipelines recognize as AWS CloudTrail. */
const BUCKET_RULE = `title: Objects read from a bucket
id: 5b0e1f7e-0000-4000-8000-00000000e002
status: test
logsource: { product: aws, service: cloudtrail }
detection:
  selection: { eventSource: s3.amazonaws.com, eventName: GetObject }
  condition: selection
level: low
tags: [attack.collection, attack.t1530]
`;

const HOSTILE_TITLE = '<img src=x onerror="window.__pwned = 8">Hostile advisory';

function sysmonProcess(host: string, image: string, parent: string): string {
  return JSON.stringify({
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    EventID: 1,
    Computer: host,
    Image: image,
    ParentImage: parent,
    CommandLine: image,
    UtcTime: new Date().toISOString().replace('T', ' ').slice(0, 23),
  });
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port)),
  );
}

describe.skipIf(!hasContent)('the console coverage and assessment screens in Chromium', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let browser: Browser;
  let acme: Record<'ingest' | 'analyst' | 'viewer', string>;
  let globex: Record<'ingest' | 'viewer', string>;
  let root: string;
  let advisoryServer: Server;
  let redirector: Server;
  let advisoryUrl: string;
  let redirectUrl: string;
  let advisoryAsked = 0;
  /** The address of the assessment of an uploaded advisory, once made. */
  let uploaded = '';
  const start = () =>
    startService(data, ['--rules', join(dir, 'rules')], {
      VIGIL_HOME: join(dir, 'home'),
      VIGIL_CONTENT_DIR: contentPath(),
    });
  const advisoryFile = () => contentPath('..', 'datasets', 'advisories', 'cisa-aa21-076a.txt');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-console-coverage-'));
    data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'cmd.yml'), CMD_RULE);
    writeFileSync(join(dir, 'rules', 'bucket.yml'), BUCKET_RULE);
    acme = (await provision(data, 'acme', ['ingest', 'analyst', 'viewer'])) as typeof acme;
    globex = (await provision(data, 'globex', ['ingest', 'viewer'])) as typeof globex;
    root = await everyTenantToken(data, 'admin', 'mssp');
    // An advisory on this machine (loopback: refused), and a host an admin allowed that redirects there.
    advisoryServer = createServer((_request, response) => {
      advisoryAsked++;
      response.writeHead(200, { 'content-type': 'text/plain' }).end(readFileSync(advisoryFile()));
    });
    const advisoryPort = await listen(advisoryServer, '127.0.0.1');
    advisoryUrl = `http://127.0.0.1:${advisoryPort}/advisory.txt`;
    redirector = createServer((_request, response) => {
      response.writeHead(302, { location: advisoryUrl }).end();
    });
    const redirectPort = await listen(redirector, '127.0.0.2');
    redirectUrl = `http://127.0.0.2:${redirectPort}/advisory.txt`;
    writeFileSync(join(data, 'config.yml'), 'fetch:\n  allow_hosts: [127.0.0.2]\n');
    [service, browser] = await Promise.all([start(), launchBrowser()]);
    const sent = await api(
      service,
      acme.ingest,
      'POST',
      '/api/v1/events',
      [
        sysmonProcess('ws1', 'C:\\Windows\\System32\\cmd.exe', 'C:\\Program Files\\Office\\winword.exe'),
        sysmonProcess('ws1', 'C:\\Windows\\notepad.exe', 'C:\\Windows\\explorer.exe'),
      ].join('\n'),
      'application/x-ndjson',
    );
    expect(sent.body.rejected).toEqual([]);
    // Globex sends no Windows events: AWS CloudTrail and Zeek, real samples as shippers send them.
    const beyond = (...path: string[]) =>
      readFileSync(contentPath('..', 'datasets', 'logs-beyond-windows', ...path), 'utf8');
    for (const text of [
      beyond('aws-cloudtrail-otrf', 'ec2_proxy_s3_exfiltration.ndjson'),
      beyond('zeek-otrf-lsass', 'all.converted.ndjson'),
    ]) {
      const taken = await api(service, globex.ingest, 'POST', '/api/v1/events', text, 'application/x-ndjson');
      expect(taken.body.rejected).toEqual([]);
    }
    for (let i = 0; i < 300; i++) {
      const stats = await api(service, root, 'GET', '/api/v1/stats');
      if (stats.body.processed === stats.body.accepted && stats.body.alerts > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    service?.process.kill('SIGTERM');
    await service?.exited;
    advisoryServer?.close();
    redirector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const session = (token: string) => openSession(browser, service.url, token);

  it('shows the ATT&CK matrix of the tenant: covered where a deployed rule meets the logs its events show', async () => {
    const { context, page } = await session(acme.viewer);
    await navigating(page, () => page.click('nav a:text("Coverage")'));
    expect(page.url()).toMatch(/\/console\/coverage$/);
    expect(await page.locator('#matrix .tactic').count()).toBeGreaterThan(10);
    expect(Number(await page.textContent('[data-count-state="covered"] b'))).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('.summary-line')).toContain('newest stored events of acme');
    // T1059 is shown with its covered sub-technique; the sub-technique's own page says covered.
    expect(await page.textContent('#matrix [data-technique="T1059"]')).toContain('1/');
    await screenshot(page, 'coverage');
    await navigating(page, () => page.click('#matrix [data-technique="T1059"]'));
    await navigating(page, () => page.click('#technique a:text("T1059.003")'));
    expect(await page.textContent('#technique-state')).toBe('covered');
    expect(await page.textContent('#technique')).toContain('Shell started by an office program');
    expect(await page.textContent('#backlog')).toBeTruthy();
    await context.close();
  });

  it("counts what a tenant's non-Windows events show as collected: its cloud rule covered, another tenant's blind", async () => {
    const { context, page } = await session(globex.viewer);
    await page.goto(`${service.url}/console/coverage`);
    const seen = await page.textContent('#collected-sources');
    expect(seen).toContain('0 Windows channels');
    expect(seen).toContain('aws/cloudtrail');
    expect(seen).toMatch(/zeek\/(conn|dns)/);
    await page.goto(`${service.url}/console/coverage?technique=T1530`);
    expect(await page.textContent('#technique-state')).toBe('covered');
    expect(await page.textContent('#technique')).toContain('Objects read from a bucket');
    // The backlog does not ask globex to collect what it sends.
    expect(await page.textContent('#backlog')).not.toMatch(/cloudtrail/i);
    await context.close();

    // Acme's events are Windows only: the same rule is blind there, and nothing of globex's shows.
    const other = await session(acme.viewer);
    await other.page.goto(`${service.url}/console/coverage?technique=T1530`);
    expect(await other.page.textContent('#technique-state')).toBe('blind');
    expect(await other.page.textContent('#collected-sources')).not.toContain('aws');
    await other.context.close();
  });

  it("goes from an alert's technique to the coverage of that technique", async () => {
    const { context, page } = await session(acme.analyst);
    await page.goto(`${service.url}/console/alerts?host=ws1`);
    await navigating(page, () => page.click('#queue tbody td.title a'));
    await navigating(page, () => page.click('.techniques-list a:text("T1059.003")'));
    expect(page.url()).toMatch(/\/console\/coverage\?technique=T1059\.003#technique$/);
    expect(await page.textContent('#technique-state')).toBe('covered');
    await context.close();
  });

  it('assesses an uploaded advisory for the tenant and shows the report, sandboxed', async () => {
    const { context, page } = await session(acme.analyst);
    await navigating(page, () => page.click('nav a:text("Assessment")'));
    await page.setInputFiles('#advisory-file', advisoryFile());
    await navigating(page, () => page.click('#assess-upload-submit'));
    expect(page.url()).toMatch(/\/console\/assess\/[\w-]+$/);
    await page.waitForSelector('#assess-status[data-status="done"]', { timeout: 60_000 });
    const frame = page.frameLocator('#report');
    await expect(frame.locator('h1').textContent()).resolves.toBe('Vigil assessment');
    expect(await frame.locator('body').textContent()).toContain('T1');
    expect(await page.getAttribute('#report', 'sandbox')).toBe('');
    const report = await context.request.get(`${page.url()}/report`);
    expect(report.headers()['content-security-policy']).toContain('sandbox');
    expect(report.headers()['content-security-policy']).not.toContain('script-src');
    await screenshot(page, 'assessment');
    uploaded = page.url();
    await context.close();
  });

  it('refuses an advisory URL on a loopback address, and one that redirects there, with a clear message', async () => {
    const { context, page } = await session(acme.analyst);
    for (const url of [advisoryUrl, redirectUrl]) {
      await page.goto(`${service.url}/console/assess`);
      await page.fill('#advisory-url', url);
      await navigating(page, () => page.click('#assess-url-submit'));
      await page.waitForSelector('#assess-status[data-status="failed"]', { timeout: 30_000 });
      const error = await page.textContent('#assess-error');
      expect(error).toContain('127.0.0.1');
      expect(error).toContain('loopback');
      expect(error).toContain('not fetched');
      if (url === redirectUrl) expect(error).toContain('redirected to');
    }
    await screenshot(page, 'assessment-refused');
    // The loopback server was never asked for the advisory.
    expect(advisoryAsked).toBe(0);
    await context.close();
  });

  it("keeps a tenant's assessments across a restart, out of another tenant's reach; one the stop cut short is failed", async () => {
    expect(uploaded).not.toBe('');
    const path = new URL(uploaded).pathname;
    // What a stop in the middle of an assessment leaves in the data folder.
    const cut = 'cutShortByTheStop-000001';
    writeFileSync(
      join(data, 'assessments', 'acme', `${cut}.json`),
      JSON.stringify({
        id: cut,
        tenant: 'acme',
        requestedBy: 'analyst',
        source: 'advisory.pdf',
        status: 'running',
        startedAt: new Date().toISOString(),
      }),
    );
    // An advisory whose title is markup: its assessment is listed and shown as text, before and after the restart.
    const hostileFile = join(dir, 'hostile-advisory.txt');
    writeFileSync(
      hostileFile,
      `${HOSTILE_TITLE}\n\nThe actors used PowerShell (T1059.001) and scheduled tasks (T1053.005).\n`,
    );
    const before = await session(acme.analyst);
    await before.page.goto(`${service.url}/console/assess`);
    await before.page.setInputFiles('#advisory-file', hostileFile);
    await navigating(before.page, () => before.page.click('#assess-upload-submit'));
    await before.page.waitForSelector('#assess-status[data-status="done"]', { timeout: 60_000 });
    const hostilePath = new URL(before.page.url()).pathname;
    await before.context.close();

    service.process.kill('SIGTERM');
    await service.exited;
    service = await start();

    const { context, page } = await session(acme.analyst);
    await page.goto(`${service.url}/console/assess`);
    const listed = await page
      .locator('#assessments a')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href')));
    // The two uploads, the two refused URLs, and the one cut short.
    expect(listed).toHaveLength(5);
    expect(listed).toContain(path);
    expect(await page.textContent('#assessments')).toContain(HOSTILE_TITLE);
    await page.goto(`${service.url}${hostilePath}`);
    expect(await page.textContent('h1')).toBe(HOSTILE_TITLE);
    expect(await page.locator('#assessments img, h1 *, .crumbs img').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await page.goto(`${service.url}${path}`);
    expect(await page.getAttribute('#assess-status', 'data-status')).toBe('done');
    await expect(page.frameLocator('#report').locator('h1').textContent()).resolves.toBe('Vigil assessment');
    await page.goto(`${service.url}/console/assess/${cut}`);
    expect(await page.getAttribute('#assess-status', 'data-status')).toBe('failed');
    expect(await page.textContent('#assess-error')).toContain('the service stopped during the assessment');
    await context.close();

    // Another tenant's analyst lists none of them and reaches none by its address.
    const other = await session(globex.viewer);
    await other.page.goto(`${service.url}/console/assess`);
    expect(await other.page.locator('#assessments a').count()).toBe(0);
    for (const address of [path, `${path}/report`, `/console/assess/${cut}`]) {
      const response = await other.page.goto(`${service.url}${address}`);
      expect(response?.status()).toBe(404);
    }
    await other.context.close();
  });
});
