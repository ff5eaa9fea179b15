import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillAlerts } from '../../bench/alert-fill.js';
import { launchBrowser } from '../helpers/browser.js';
import { navigating, screenshot, signIn } from '../helpers/console.js';
import { provision, type RunningService, startService } from '../helpers/serve.js';

const ALERTS = 100_000;

describe('the alert queue of a tenant with 100,000 alerts', () => {
  let dir: string;
  let service: RunningService;
  let browser: Browser;
  let analyst: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-console-scale-'));
    const data = join(dir, 'data');
    analyst = (await provision(data, 'big', ['analyst'])).analyst!;
    mkdirSync(join(dir, 'rules'));
    [service, browser] = await Promise.all([
      startService(data, ['--rules', join(dir, 'rules')], { VIGIL_HOME: join(dir, 'home') }),
      launchBrowser(),
    ]);
    fillAlerts(join(data, 'vigil.db'), 'big', ALERTS);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers filter changes from indexes and pages by keyset (times printed, not asserted)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await signIn(page, service.url, analyst);
    const total = await page.$$eval('[data-count-status] b', (bs) =>
      bs.reduce((sum, b) => sum + Number(b.textContent?.replace(/,/g, '')), 0),
    );
    expect(total).toBe(ALERTS);
    expect(await page.locator('#queue tbody tr').count()).toBe(50);

    const timings: [string, number][] = [];
    const measure = async (name: string, action: () => Promise<unknown>) => {
      const start = performance.now();
      await navigating(page, action);
      timings.push([name, performance.now() - start]);
    };
    await page.fill('#filter-host', 'host-43');
    await measure('host filter', () => page.press('#filter-host', 'Enter'));
    const hosts = new Set(await page.locator('#queue tbody td.host').allTextContents());
    expect([...hosts]).toEqual(['host-43']);
    await measure('status filter', () => page.check('input[name=status][value=acknowledged]'));
    expect(new Set(await page.locator('#queue tbody .status').allTextContents())).toEqual(
      new Set(['acknowledged']),
    );
    await page.goto(`${service.url}/console/alerts`);
    await measure('level filter', () => page.check('input[name=level][value=critical]'));
    await measure('sort by detections', () => page.selectOption('#filter-sort', 'count'));
    await measure('next page', () => page.click('#next-page'));
    await page.fill('#filter-technique', 'T1059.004');
    await measure('technique filter', () => page.press('#filter-technique', 'Enter'));
    await measure('group by rule', () => page.selectOption('#filter-group', 'rule'));
    expect(await page.locator('#groups tbody tr').count()).toBeGreaterThan(0);
    await screenshot(page, 'queue-100k');
    console.log(
      `console queue, ${ALERTS.toLocaleString('en')} alerts, filter change to loaded page:\n${timings
        .map(([name, ms]) => `  ${name.padEnd(20)} ${ms.toFixed(0)} ms`)
        .join('\n')}`,
    );
    await context.close();
  });
});
