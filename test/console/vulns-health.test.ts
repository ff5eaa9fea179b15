import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { vigil } from '../helpers/cli.js';
import { navigating, openSession, screenshot } from '../helpers/console.js';
import { contentWithEpssOf, hasContent } from '../helpers/content.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const SAMPLES = join(import.meta.dirname, '..', 'vuln', 'samples');

describe.skipIf(!hasContent)('the console vulnerabilities and health screens in Chromium', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let browser: Browser;
  let acme: Record<'ingest' | 'analyst' | 'viewer', string>;
  let globex: Record<'analyst', string>;
  let content: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-console-vulns-'));
    data = join(dir, 'data');
    acme = (await provision(data, 'acme', ['ingest', 'analyst', 'viewer'])) as typeof acme;
    globex = (await provision(data, 'globex', ['analyst'])) as typeof globex;
    // EPSS scores of the CVEs of the samples: the service reads the scores for each import.
    content = contentWithEpssOf(
      join(dir, 'content'),
      readdirSync(SAMPLES).map((file) => join(SAMPLES, file)),
    );
    [service, browser] = await Promise.all([
      startService(data, ['--rules', join(import.meta.dirname, '..', '..', 'rules', 'identity')], {
        VIGIL_HOME: join(dir, 'home'),
        VIGIL_CONTENT_DIR: content,
      }),
      launchBrowser(),
    ]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const session = (token: string) => openSession(browser, service.url, token);

  it("imports a scanner file into the tenant's own database and shows its findings, decided and ordered", async () => {
    const { context, page } = await session(acme.analyst);
    await navigating(page, () => page.click('nav a:text("Vulnerabilities")'));
    expect(await page.textContent('.empty')).toContain('No open finding');
    await page.setInputFiles('#scan-file', join(SAMPLES, 'scan.nessus'));
    await navigating(page, () => page.click('#scan-import'));
    expect(await page.textContent('#vulns-notice')).toMatch(/scan\.nessus \(nessus\): \d+ findings/);
    const rows = page.locator('#findings tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    expect(Number(await page.textContent('[data-count="open"] b'))).toBe(await rows.count());
    // Most urgent first: no row ranks below one with a weaker decision.
    const order = ['act', 'attend', 'track*', 'track'];
    const decisions = (await page.locator('#findings tbody .decision').allTextContents()).map((d) =>
      order.indexOf(d),
    );
    expect(decisions.every((d, i) => d >= 0 && (i === 0 || d >= decisions[i - 1]!))).toBe(true);
    expect(await page.textContent('#findings')).toMatch(/CVE-\d{4}-\d+/);
    await screenshot(page, 'vulns');

    // The same file again changes nothing; a file that is no scan is refused with why.
    await page.setInputFiles('#scan-file', join(SAMPLES, 'scan.nessus'));
    await navigating(page, () => page.click('#scan-import'));
    expect(await page.textContent('#vulns-notice')).toContain('imported before (as scan.nessus,');
    // The tenant's database is the one vigil vulns reads.
    const listed = vigil(['vulns', 'list', '--db', join(data, 'vulns', 'acme.db'), '--format', 'json'], {
      VIGIL_CONTENT_DIR: content,
    });
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout).length).toBe(await rows.count());
    await page.setInputFiles('#scan-file', {
      name: 'notes.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"x": 1}'),
    });
    await page.click('#scan-import');
    await page.waitForSelector('#vulns-upload .problem');
    expect(await page.textContent('#vulns-upload .problem')).toContain('notes.json');
    await context.close();

    // Another tenant's database is its own; a viewer reads but does not import.
    const other = await session(globex.analyst);
    await other.page.goto(`${service.url}/console/vulns`);
    expect(await other.page.locator('#findings').count()).toBe(0);
    await other.context.close();
    const viewer = await session(acme.viewer);
    await viewer.page.goto(`${service.url}/console/vulns`);
    expect(await viewer.page.locator('#findings tbody tr').count()).toBeGreaterThan(0);
    expect(await viewer.page.locator('#vulns-upload').count()).toBe(0);
    await viewer.context.close();
  });

  it('shows events per second per tenant and input, lag, rule errors and storage once events are sent', async () => {
    const lines = Array.from({ length: 25 }, (_, i) =>
      JSON.stringify({ EventID: 4625, Channel: 'Security', Computer: 'dc1', TargetUserName: `u${i}` }),
    );
    const sent = await api(
      service,
      acme.ingest,
      'POST',
      '/api/v1/events',
      lines.join('\n'),
      'application/x-ndjson',
    );
    expect(sent.body.rejected).toEqual([]);
    const { context, page } = await session(acme.analyst);
    await navigating(page, () => page.click('nav a:text("Health")'));
    const rate = page.locator('#rates .chart[data-series="acme/http"]');
    expect(await rate.locator('.total').textContent()).toBe('25');
    expect(await rate.locator('svg').count()).toBe(1);
    expect(await page.locator('#lag .chart[data-series="acme/waiting"]').count()).toBe(1);
    expect(await page.textContent('#storage tr[data-tenant="acme"] td')).toMatch(/\d+(\.\d)? (bytes|KiB)/);
    expect(await page.textContent('#health-counts')).toContain('global rules could not be used');
    await screenshot(page, 'health');
    await context.close();

    // A tenant sees its own figures only.
    const other = await session(globex.analyst);
    await other.page.goto(`${service.url}/console/health`);
    expect(await other.page.locator('[data-series^="acme/"]').count()).toBe(0);
    expect(await other.page.locator('#storage tr[data-tenant="acme"]').count()).toBe(0);
    await other.context.close();
  });
});
