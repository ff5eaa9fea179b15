import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { CHROMIUM, launchBrowser } from '../helpers/browser.js';
import { vigil } from '../helpers/cli.js';
import { navigating, openSession, screenshot, signIn } from '../helpers/console.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';
import { failedLogons } from '../helpers/windows-events.js';

/**
 * The response steps on the console's alert page: an analyst approves one step and rejects another,
 * the approved message reaches the webhook, and a viewer sees the steps without the buttons. Then
 * an analyst runs, by hand, a playbook the alert does not trigger: a dry run shows its lookups, its
 * decision and the message it would send; the run sends it.
 */

const LOOK_AND_TELL = `name: look-and-tell
mode: auto
trigger: { levels: [critical] }
inputs:
  host: { type: host, from: [host] }
steps:
  - { name: asset, enrich: asset, with: { host: '{{ host }}' } }
  - { name: history, enrich: alerts, with: { host: '{{ host }}' } }
  - name: known
    decide: asset.found or history.count > 0
    then: [tell-known]
    else: [tell-new]
  - { name: tell-known, action: notify.message, with: { text: 'known host {{ host }}' } }
  - name: tell-new
    action: notify.message
    with: { text: 'new host {{ host }}: {{ history.count }} other alerts, criticality {{ asset.criticality }}' }
`;

describe.skipIf(!CHROMIUM)('console: response steps on the alert page', () => {
  let dir: string;
  let service: RunningService;
  let tokens: Record<string, string>;
  let browser: Browser;
  let hook: Server;
  const messages: string[] = [];
  let alertId: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-console-response-'));
    const data = join(dir, 'data');
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        messages.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    tokens = await provision(data, 'acme', ['ingest', 'viewer', 'analyst']);
    writeFileSync(join(data, 'config.yml'), 'lateness: 2s\n');
    writeFileSync(
      join(data, 'connectors.yml'),
      `notify:\n  type: webhook\n  url: http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook\n`,
    );
    mkdirSync(join(data, 'playbooks'));
    for (const name of ['tell-soc', 'tell-management'])
      writeFileSync(
        join(data, 'playbooks', `${name}.yml`),
        `name: ${name}\nmode: approval\ntrigger: { techniques: [T1110] }\nsteps:\n  - { name: tell, action: notify.message, with: { text: '${name}: {{ alert.rule }} on {{ alert.host }}' } }\n`,
      );
    writeFileSync(join(data, 'playbooks', 'look-and-tell.yml'), LOOK_AND_TELL);
    service = await startService(data, ['--rules', join(VIGIL_RULES_DIR, 'identity')], {
      VIGIL_HOME: join(dir, 'home'),
    });
    const lines = failedLogons(12, { ip: '203.0.113.50', firstRecord: 700 });
    await api(
      service,
      tokens.ingest,
      'POST',
      '/api/v1/events',
      `${lines.join('\n')}\n`,
      'application/x-ndjson',
    );
    for (let i = 0; ; i++) {
      const alerts = (await api(service, tokens.viewer, 'GET', '/api/v1/alerts')).body.alerts;
      if (alerts?.length) {
        alertId = alerts[0].id;
        const steps = (await api(service, tokens.viewer, 'GET', `/api/v1/alerts/${alertId}/responses`)).body
          .responses;
        if (steps.length === 2) break;
      }
      if (i > 300) throw new Error(`no alert with its steps:\n${service.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    service?.process.kill('SIGTERM');
    await service?.exited;
    await new Promise<void>((resolve) => hook.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('an analyst approves one step and rejects the other; a viewer sees them without buttons', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, service.url, tokens.analyst!);
    await page.goto(`${service.url}/console/alerts/${alertId}`);
    const steps = page.locator('#responses li');
    await expect.poll(() => steps.count()).toBe(2);
    expect(await page.locator('#responses').textContent()).toContain('Awaiting approval');
    const approve = page.locator('#responses li', { hasText: 'tell-soc' }).locator('button.approve');
    await navigating(page, () => approve.click());
    expect(await page.locator('#responses li', { hasText: 'tell-soc' }).textContent()).toMatch(
      /Done[\s\S]*message sent/,
    );
    expect(messages.some((m) => m.includes('tell-soc: Brute Force'))).toBe(true);
    const reject = page.locator('#responses li', { hasText: 'tell-management' }).locator('button.reject');
    await navigating(page, () => reject.click());
    expect(await page.locator('#responses li', { hasText: 'tell-management' }).textContent()).toContain(
      'Rejected',
    );
    expect(messages.some((m) => m.includes('tell-management'))).toBe(false);
    await screenshot(page, 'response', true);
    await context.close();

    const viewing = await browser.newContext();
    const viewer = await viewing.newPage();
    await signIn(viewer, service.url, tokens.viewer!);
    await viewer.goto(`${service.url}/console/alerts/${alertId}`);
    expect(await viewer.locator('#responses li').count()).toBe(2);
    expect(await viewer.locator('#responses button').count()).toBe(0);
    await viewing.close();
  });

  it('an analyst runs a playbook by hand from the alert page: a dry run shows the lookups, a run acts', async () => {
    const { context, page } = await openSession(browser, service.url, tokens.analyst!);
    await page.goto(`${service.url}/console/alerts/${alertId}`);
    const choice = page.locator('#run-playbook-name option', { hasText: 'look-and-tell' });
    expect(await choice.textContent()).toContain(
      'would not trigger: it is for levels critical, and the alert is medium',
    );
    await page.selectOption('#run-playbook-name', 'look-and-tell');
    await navigating(page, () => page.click('#run-playbook-dry'));
    expect(await page.textContent('.notice')).toContain('nothing was sent');
    const step = (name: string) => page.locator('#responses li', { hasText: `look-and-tell · ${name} ·` });
    expect(await step('asset').textContent()).toMatch(/enrich\.asset[\s\S]*Done[\s\S]*found[\s\S]*no/);
    expect(await step('history').textContent()).toMatch(/count\s*0/);
    expect(await step('known').textContent()).toContain('asset.found or history.count > 0: does not hold');
    expect(await step('tell-known').textContent()).toContain('Skipped');
    expect(await step('tell-new').textContent()).toMatch(/Planned \(dry run\)/);
    expect(messages.some((m) => m.includes('new host'))).toBe(false);
    await screenshot(page, 'response-run', true);

    // A form sent without the page's token is refused, and runs nothing.
    const forged = await page.request.post(`${service.url}/console/alerts/${alertId}/respond`, {
      form: { playbook: 'look-and-tell', run: 'run' },
    });
    expect(forged.status()).toBe(403);
    expect(messages.some((m) => m.includes('new host'))).toBe(false);

    await page.selectOption('#run-playbook-name', 'look-and-tell');
    await navigating(page, () => page.click('#run-playbook-run'));
    expect(await step('tell-new').textContent()).toMatch(/Done[\s\S]*message sent/);
    expect(
      messages.some((m) => m.includes('new host dc1.corp.example: 0 other alerts, criticality unknown')),
    ).toBe(true);
    await context.close();

    const audit = vigil(['admin', '--data', join(dir, 'data'), 'audit', 'verify']);
    expect(audit.status).toBe(0);

    // A viewer sees what ran, and no way to run anything.
    const viewing = await openSession(browser, service.url, tokens.viewer!);
    await viewing.page.goto(`${service.url}/console/alerts/${alertId}`);
    expect(await viewing.page.locator('#run-playbook').count()).toBe(0);
    expect(await viewing.page.locator('#responses li', { hasText: 'tell-new' }).count()).toBe(1);
    // Even with its session's own token (the sign-out form's), a viewer's run is refused.
    const csrf = await viewing.page.locator('input[name=_csrf]').first().getAttribute('value');
    const refused = await viewing.page.request.post(`${service.url}/console/alerts/${alertId}/respond`, {
      form: { _csrf: csrf!, playbook: 'look-and-tell', run: 'run' },
    });
    expect(await refused.text()).toContain('may not run playbooks');
    expect(refused.status()).toBe(403);
    await viewing.context.close();
  });
});
