import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { navigating, openSession, screenshot } from '../helpers/console.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { api, everyTenantToken, provision, type RunningService, startService } from '../helpers/serve.js';

const GLOBAL_RULE = `title: Evil action
id: 5b0e1f7e-0000-4000-8000-00000000d001
status: test
logsource: { product: lab }
detection:
  selection: { action: evil }
  condition: selection
level: high
tags: [attack.execution, attack.t1059]
`;

const SNEAKY_RULE = `title: Sneaky action
id: 5b0e1f7e-0000-4000-8000-00000000d002
status: experimental
logsource: { product: lab }
detection:
  selection: { action: sneaky }
  condition: selection
level: medium
`;

/** A rule that only feeds a correlation (no `generate`): the correlation alone reports. */
const CORRELATION_RULES = `title: Lab failure
id: 5b0e1f7e-0000-4000-8000-00000000d010
status: test
logsource: { product: lab }
detection:
  selection: { action: fail }
  condition: selection
level: low
---
title: Repeated lab failures
id: 5b0e1f7e-0000-4000-8000-00000000d011
status: test
correlation:
  type: event_count
  rules: [5b0e1f7e-0000-4000-8000-00000000d010]
  group-by: [host]
  timespan: 10m
  condition: { gte: 3 }
level: high
`;

/** A rule whose texts are markup: the rules screen shows them as text. */
const HOSTILE_RULE = `title: '<img src=x onerror="window.__pwned = 1"><b>Hostile</b>'
id: 5b0e1f7e-0000-4000-8000-00000000d00f
status: test
logsource: { product: lab }
detection:
  selection: { action: '<svg onload="window.__pwned = 3">' }
  condition: selection
level: low
---
title: '<svg onload="window.__pwned = 5"><b>Hostile correlation</b>'
id: 5b0e1f7e-0000-4000-8000-00000000d01f
status: test
correlation:
  type: event_count
  rules: [5b0e1f7e-0000-4000-8000-00000000d00f]
  group-by: [host]
  timespan: 10m
  condition: { gte: 2 }
level: low
`;

/** Recent events: a backtest reads the last days only. */
function event(host: string, action: string, minutesAgo: number): string {
  return JSON.stringify({ host, action, time: new Date(Date.now() - minutesAgo * 60_000).toISOString() });
}

describe.skipIf(!hasContent)('the console rules screen in Chromium', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let browser: Browser;
  let acme: Record<'ingest' | 'admin' | 'analyst', string>;
  let globex: Record<'ingest' | 'admin', string>;
  let root: string;

  async function stats(token: string) {
    return (await api(service, token, 'GET', '/api/v1/stats')).body;
  }

  async function waitProcessed(token: string): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const s = await stats(token);
      expect(s.accepted).toBeTypeOf('number');
      if (s.processed === s.accepted) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('detection did not catch up');
  }

  async function reloads(): Promise<number> {
    // Reloads are the service's, audited under no tenant: a service-wide admin sees them.
    const audit = await api(service, root, 'GET', '/api/v1/audit?limit=1000');
    return audit.body.entries.filter((e: { action: string }) => e.action === 'rules.reload').length;
  }

  /** Waits for the reloads after a change to have taken effect (the audit tells once the new rules run). */
  async function reloadedBeyond(count: number): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if ((await reloads()) > count) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the rules were not reloaded');
  }

  async function send(token: string, lines: string[]): Promise<void> {
    const sent = await api(
      service,
      token,
      'POST',
      '/api/v1/events',
      lines.join('\n'),
      'application/x-ndjson',
    );
    expect(sent.body.rejected).toEqual([]);
    await waitProcessed(root);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-console-rules-'));
    data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'evil.yml'), GLOBAL_RULE);
    writeFileSync(join(dir, 'rules', 'failures.yml'), CORRELATION_RULES);
    writeFileSync(join(dir, 'rules', '<i>hostile.yml'), HOSTILE_RULE);
    writeFileSync(
      join(dir, 'rules', 'broken.yml'),
      'title: Broken\nlogsource: { product: lab }\ndetection:\n  selection: { action: x }\n',
    );
    acme = (await provision(data, 'acme', ['ingest', 'admin', 'analyst'])) as typeof acme;
    globex = (await provision(data, 'globex', ['ingest', 'admin'])) as typeof globex;
    // A short lateness: a quiet stream lets correlation windows go on within the test.
    writeFileSync(join(data, 'config.yml'), 'lateness: 2s\n');
    root = await everyTenantToken(data, 'admin', 'mssp');
    [service, browser] = await Promise.all([
      startService(data, ['--rules', join(dir, 'rules')], {
        VIGIL_HOME: join(dir, 'home'),
        VIGIL_CONTENT_DIR: contentPath(),
      }),
      launchBrowser(),
    ]);
    await send(acme.ingest, [
      event('web1', 'evil', 30),
      event('web1', 'sneaky', 20),
      event('web2', 'evil', 10),
    ]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const session = (token: string) => openSession(browser, service.url, token);

  it('lists the rules with their state, hits per day and the loader failures with file and line', async () => {
    const { context, page } = await session(acme.admin);
    await navigating(page, () => page.click('nav a:text("Rules")'));
    expect(page.url()).toMatch(/\/console\/rules$/);
    const row = page.locator('#rules tr[data-rule="5b0e1f7e-0000-4000-8000-00000000d001"]');
    expect(await row.locator('.title').textContent()).toContain('Evil action');
    expect(await row.locator('.rule-state').textContent()).toBe('loaded');
    expect(await row.locator('.hits .num').textContent()).toBe('2');
    expect(await row.locator('.hits svg rect.bar').count()).toBe(1);
    const failures = await page.textContent('#rule-failures');
    expect(failures).toContain('broken.yml');
    expect(failures).toMatch(/line \d+/);
    expect(failures).not.toContain(dir);
    // The hostile rule's title, id and file name are text: nothing of them became markup or ran.
    expect(await page.textContent('#rules')).toContain(
      '<img src=x onerror="window.__pwned = 1"><b>Hostile</b>',
    );
    expect(await page.textContent('#rules')).toContain('<i>hostile.yml');
    expect(await page.locator('#rules img, #rules svg:not(.spark), #rules i, #rules td b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await screenshot(page, 'rules');
    await context.close();
  });

  it('checks a rule as it is typed, refuses to save it with errors, then saves it; the service loads it', async () => {
    const { context, page } = await session(acme.admin);
    await page.goto(`${service.url}/console/rules/edit`);
    await page.fill('#rule-file', 'sneaky.yml');
    // Typed as a person would: the check runs once typing pauses.
    await page
      .locator('#rule-text')
      .pressSequentially(SNEAKY_RULE.replace('condition: selection', 'condition: selektion'), { delay: 0 });
    await page.waitForSelector('#validation-errors');
    const errors = await page.textContent('#validation-errors');
    expect(errors).toContain('sneaky.yml');
    expect(errors).toMatch(/line \d+/);
    expect(errors).toContain('selektion');

    const refused = page.waitForResponse((r) => r.url().endsWith('/console/rules/save'));
    await page.click('#rule-save');
    expect((await refused).status()).toBe(400);
    await page.waitForSelector('#validation-errors');
    expect(await page.inputValue('#rule-text')).toContain('selektion');

    await page.fill('#rule-text', SNEAKY_RULE);
    await page.waitForSelector('#validation-ok:text("Valid: 1 rule")');
    await screenshot(page, 'rule-editor');
    const before = await reloads();
    await navigating(page, () => page.click('#rule-save'));
    expect(page.url()).toMatch(/\/console\/rules\?saved=1$/);
    await reloadedBeyond(before);
    await page.reload();
    const row = page.locator('#rules tr[data-rule="5b0e1f7e-0000-4000-8000-00000000d002"]');
    expect(await row.locator('.file a').textContent()).toBe('sneaky.yml');

    // Live: a new sneaky event now opens an alert of the tenant's rule.
    await send(acme.ingest, [event('web3', 'sneaky', 1)]);
    const alerts = await api(service, acme.admin, 'GET', '/api/v1/alerts?host=web3');
    expect(alerts.body.alerts.map((a: { rule: { title: string } }) => a.rule.title)).toEqual([
      'Sneaky action',
    ]);
    const audit = await api(service, acme.admin, 'GET', '/api/v1/audit?limit=1000');
    expect(
      audit.body.entries.some(
        (e: { action: string; target: string }) => e.action === 'rule.save' && e.target === 'sneaky.yml',
      ),
    ).toBe(true);
    await context.close();
  });

  it('backtests a rule against the stored events and shows the matches, opening no alert', async () => {
    const { context, page } = await session(acme.analyst);
    await page.goto(`${service.url}/console/rules/edit`);
    await page.fill(
      '#rule-text',
      SNEAKY_RULE.replace('title: Sneaky action', 'title: Sneaky backtest').replace(
        '00000000d002',
        '00000000d003',
      ),
    );
    await navigating(page, () => page.click('#rule-backtest'));
    expect(page.url()).toMatch(/\/console\/rules\/backtests\/\d+$/);
    await page.waitForSelector('#backtest-status[data-status="done"]', { timeout: 30_000 });
    const hosts = await page.locator('#backtest-matches td.host').allTextContents();
    expect(hosts.sort()).toEqual(['web1', 'web3']);
    expect(await page.textContent('#backtest-matches')).toContain('sneaky');
    await screenshot(page, 'backtest');
    const alerts = await api(service, acme.admin, 'GET', '/api/v1/alerts');
    expect(
      alerts.body.alerts.some((a: { rule: { title: string } }) => a.rule.title === 'Sneaky backtest'),
    ).toBe(false);
    // An analyst may backtest, not save.
    await page.goto(`${service.url}/console/rules/edit`);
    expect(await page.locator('#rule-save').count()).toBe(0);
    await context.close();
  });

  it('disables a global rule for one tenant only (audited, applied at the reload), and enables it again', async () => {
    const { context, page } = await session(acme.admin);
    await page.goto(`${service.url}/console/rules`);
    const row = () => page.locator('#rules tr[data-rule="5b0e1f7e-0000-4000-8000-00000000d001"]');
    const before = await reloads();
    await navigating(page, () => row().locator('button:text("Disable")').click());
    expect(await page.textContent('#rules-notice')).toContain('disabled for acme');
    expect(await row().locator('.rule-state').textContent()).toBe('disabled');
    await reloadedBeyond(before);

    const acmeBefore = (await stats(acme.admin)).detections;
    const globexBefore = (await stats(globex.admin)).detections;
    await send(acme.ingest, [event('web4', 'evil', 1)]);
    await send(globex.ingest, [event('g1', 'evil', 1)]);
    expect((await stats(acme.admin)).detections).toBe(acmeBefore);
    expect((await stats(globex.admin)).detections).toBe(globexBefore + 1);
    const audit = await api(service, acme.admin, 'GET', '/api/v1/audit?limit=1000');
    expect(
      audit.body.entries.some(
        (e: { action: string; tenant: string }) => e.action === 'rule.disable' && e.tenant === 'acme',
      ),
    ).toBe(true);

    // A retro-hunt of the deployed rules leaves the disabled one out too, as live detection does.
    const hunt = await api(service, acme.admin, 'POST', '/api/v1/hunts', {});
    expect(hunt.status).toBe(202);
    let results: { rule: { title: string } }[] = [];
    for (let i = 0; i < 300; i++) {
      const found = await api(service, acme.admin, 'GET', `/api/v1/hunts/${hunt.body.id}`);
      if (found.body.status !== 'running') {
        expect(found.body.status).toBe('done');
        results = found.body.results;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(results.map((d) => d.rule.title)).toContain('Sneaky action');
    expect(results.map((d) => d.rule.title)).not.toContain('Evil action');

    const again = await reloads();
    await page.goto(`${service.url}/console/rules`);
    await navigating(page, () => row().locator('button:text("Enable")').click());
    expect(await row().locator('.rule-state').textContent()).toBe('loaded');
    await reloadedBeyond(again);
    await send(acme.ingest, [event('web5', 'evil', 1)]);
    expect((await stats(acme.admin)).detections).toBe(acmeBefore + 1);
    await context.close();
  });

  it('disables a correlation for one tenant: it stops firing, the rule it reads stays quiet, and it fires again once enabled', async () => {
    const CORRELATION = 'Repeated lab failures';
    const alertsOf = async (token: string, title: string) =>
      (await api(service, token, 'GET', `/api/v1/alerts?rule=${encodeURIComponent(title)}`)).body.alerts as {
        host: string;
      }[];
    const failures = (host: string) => [5, 4, 3].map((minutes) => event(host, 'fail', minutes));
    async function firedFor(token: string, host: string): Promise<void> {
      for (let i = 0; i < 300; i++) {
        if ((await alertsOf(token, CORRELATION)).some((a) => a.host === host)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no correlation alert for ${host}\n${service.log()}`);
    }

    const { context, page } = await session(acme.admin);
    await page.goto(`${service.url}/console/rules?q=failures`);
    const row = () => page.locator('#rules tr[data-rule="5b0e1f7e-0000-4000-8000-00000000d011"]');
    expect(await row().locator('.level').textContent()).toBe('correlation');
    const before = await reloads();
    await navigating(page, () => row().locator('button:text("Disable")').click());
    expect(await page.textContent('#rules-notice')).toContain('disabled for acme');
    expect(await row().locator('.rule-state').textContent()).toBe('disabled');
    await reloadedBeyond(before);

    // Acme's failures first; then globex's, whose correlation still runs: once it has fired,
    // acme's (older, and judged first) would have too.
    await send(acme.ingest, failures('c1'));
    await send(globex.ingest, failures('g1'));
    await firedFor(globex.admin, 'g1');
    expect(await alertsOf(acme.admin, CORRELATION)).toEqual([]);
    // The rule only the correlation read did not start alerting on its own.
    expect(await alertsOf(acme.admin, 'Lab failure')).toEqual([]);
    const audit = await api(service, acme.admin, 'GET', '/api/v1/audit?limit=1000');
    expect(
      audit.body.entries.some(
        (e: { action: string; target: string }) =>
          e.action === 'rule.disable' && e.target === '5b0e1f7e-0000-4000-8000-00000000d011',
      ),
    ).toBe(true);

    const again = await reloads();
    await navigating(page, () => row().locator('button:text("Enable")').click());
    expect(await row().locator('.rule-state').textContent()).toBe('loaded');
    await reloadedBeyond(again);
    await send(acme.ingest, failures('c2'));
    await firedFor(acme.admin, 'c2');
    // What came while it was off stays unjudged; the rule it reads is still quiet.
    expect((await alertsOf(acme.admin, CORRELATION)).map((a) => a.host)).toEqual(['c2']);
    expect(await alertsOf(acme.admin, 'Lab failure')).toEqual([]);

    // A correlation whose title is markup: its row, its button and the notice after show it as text.
    await page.goto(`${service.url}/console/rules?q=hostile`);
    const hostile = page.locator('#rules tr[data-rule="5b0e1f7e-0000-4000-8000-00000000d01f"]');
    await navigating(page, () => hostile.locator('button:text("Disable")').click());
    expect(await page.textContent('#rules-notice')).toContain(
      '<svg onload="window.__pwned = 5"><b>Hostile correlation</b>: disabled for acme',
    );
    expect(await page.locator('#rules-notice *, #rules td.title svg, #rules td.title b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await context.close();
  });

  it("keeps a tenant out of another's rule files and backtests", async () => {
    const { context, page } = await session(globex.admin);
    await page.goto(`${service.url}/console/rules`);
    expect(await page.locator('#rules tr[data-rule="5b0e1f7e-0000-4000-8000-00000000d002"]').count()).toBe(0);
    const edit = await page.goto(`${service.url}/console/rules/edit?file=sneaky.yml`);
    expect(edit?.status()).toBe(404);
    const hunts = await api(service, acme.admin, 'GET', '/api/v1/hunts');
    const backtest = await page.goto(`${service.url}/console/rules/backtests/${hunts.body.hunts[0].id}`);
    expect(backtest?.status()).toBe(404);
    const traversal = await page.goto(
      `${service.url}/console/rules/edit?file=${encodeURIComponent('../acme/sneaky.yml')}`,
    );
    expect(traversal?.status()).toBe(404);

    // Globex's admin cannot turn off a rule of acme's own folder: the form names its own tenant's rules only.
    await page.goto(`${service.url}/console/rules`);
    const csrf = await page.getAttribute('form.rule-toggle input[name=_csrf]', 'value');
    const refused = await page.evaluate<number>(
      `fetch('/console/rules/state', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'rule=5b0e1f7e-0000-4000-8000-00000000d002&enabled=0&_csrf=' + encodeURIComponent(${JSON.stringify(csrf)}) }).then((r) => r.status)`,
    );
    expect(refused).toBe(404);
    const audit = await api(service, root, 'GET', '/api/v1/audit?limit=1000');
    expect(
      audit.body.entries.filter(
        (e: { action: string; target: string }) =>
          e.action === 'rule.disable' && e.target === '5b0e1f7e-0000-4000-8000-00000000d002',
      ),
    ).toEqual([]);
    await context.close();
  });
});
