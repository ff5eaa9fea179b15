import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { vigil } from '../helpers/cli.js';
import { navigating, openSession, screenshot } from '../helpers/console.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { api, everyTenantToken, provision, type RunningService, startService } from '../helpers/serve.js';

const EVIL_RULE = `title: Evil action
id: 5b0e1f7e-0000-4000-8000-00000000c011
status: test
description: An action the lab calls evil.
author: Vigil tests
references:
  - https://example.com/evil
logsource: { product: lab }
detection:
  selection: { action: evil }
  condition: selection
level: high
tags: [attack.execution, attack.t1059]
`;

/** A rule whose every text is markup or script, matching an event that is the same. */
const HOSTILE_RULE = `title: '<script>window.__pwned = 4</script><b>Hostile</b> "title" & <img src=x onerror="window.__pwned = 5">'
id: 5b0e1f7e-0000-4000-8000-00000000c012
status: test
description: '<img src=x onerror="alert(1)"><style>body { display: none }</style>'
author: '<a href="javascript:alert(1)">me</a>'
references:
  - 'javascript:window.__pwned = 6'
  - https://example.com/ok
logsource: { product: lab }
detection:
  selection:
    action: hostile
    big|startswith: AAAA
  condition: selection
level: critical
tags: [attack.t1204]
`;

const T0 = Date.parse('2026-03-01T09:00:00Z');

function event(host: string, action: string, minute: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    host,
    action,
    user: 'bob',
    time: new Date(T0 + minute * 60_000).toISOString(),
    ...extra,
  });
}

async function waitProcessed(service: RunningService, token: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const stats = await api(service, token, 'GET', '/api/v1/stats');
    if (stats.body.processed === stats.body.accepted) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('detection did not catch up');
}

async function send(service: RunningService, token: string, lines: string[]): Promise<void> {
  const sent = await api(service, token, 'POST', '/api/v1/events', lines.join('\n'), 'application/x-ndjson');
  expect(sent.body.rejected).toEqual([]);
}

describe.skipIf(!hasContent)('the operator console in Chromium', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let browser: Browser;
  let acme: Record<'ingest' | 'viewer' | 'analyst', string>;
  let globex: Record<'ingest' | 'analyst', string>;
  let root: string;
  /** Alert ids by host. */
  const alertOf: Record<string, number> = {};
  const idOf = (host: string) => {
    const id = alertOf[host];
    if (id === undefined) throw new Error(`no alert for ${host}`);
    return id;
  };

  const alertsOf = async (token: string, query = '') =>
    (await api(service, token, 'GET', `/api/v1/alerts${query}`)).body.alerts as {
      id: number;
      host: string;
      status: string;
      tenant: string;
    }[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-console-'));
    data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'evil.yml'), EVIL_RULE);
    writeFileSync(join(dir, 'rules', 'hostile.yml'), HOSTILE_RULE);
    acme = (await provision(data, 'acme', ['ingest', 'viewer', 'analyst'])) as typeof acme;
    globex = (await provision(data, 'globex', ['ingest', 'analyst'])) as typeof globex;
    root = await everyTenantToken(data, 'admin', 'mssp');
    [service, browser] = await Promise.all([
      startService(data, ['--rules', join(dir, 'rules')], {
        VIGIL_HOME: join(dir, 'home'),
        VIGIL_CONTENT_DIR: contentPath(),
      }),
      launchBrowser(),
    ]);
    await send(service, acme.ingest, [
      event('web1', 'evil', 0),
      event('web1', 'fine', 1),
      event('web1', 'evil', 2),
      event('web2', 'evil', 3),
      event('db1', 'evil', 4, { user: 'carol' }),
      event('hx', 'hostile', 5, {
        payload: '<script>window.__pwned = 1</script>',
        picture: '<img src=x onerror="window.__pwned = 2">',
        link: 'javascript:window.__pwned = 3',
        '<b>field</b>': '<iframe src="javascript:alert(1)"></iframe>',
        big: 'A'.repeat(1_000_000),
      }),
    ]);
    await send(service, globex.ingest, [event('globex-db', 'evil', 0)]);
    await waitProcessed(service, root);
    for (const alert of await alertsOf(root)) alertOf[alert.host] = alert.id;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const session = (token: string) => openSession(browser, service.url, token);

  it('signs in with a token for an HttpOnly, SameSite=Strict cookie, and refuses a bad token', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 700 } });
    const page = await context.newPage();
    await page.goto(`${service.url}/console/alerts`);
    expect(page.url()).toMatch(/\/console\/sign-in$/);
    await screenshot(page, 'sign-in');
    await page.fill('#token', 'vgl_not-a-token');
    const refused = page.waitForResponse((r) => r.request().method() === 'POST');
    await page.click('#sign-in button[type=submit]');
    expect((await refused).status()).toBe(401);
    await expect(page.textContent('#sign-in-problem')).resolves.toContain('unknown or revoked');
    await page.fill('#token', acme.ingest);
    await page.click('#sign-in button[type=submit]');
    await expect(page.textContent('#sign-in-problem')).resolves.toContain('cannot read alerts');
    expect((await context.cookies()).some((c) => c.name === 'vigil_session')).toBe(false);

    await page.fill('#token', acme.analyst);
    await navigating(page, () => page.click('#sign-in button[type=submit]'));
    expect(page.url()).toMatch(/\/console\/alerts$/);
    const cookie = (await context.cookies()).find((c) => c.name === 'vigil_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/console' });
    expect(await page.evaluate('document.cookie')).toBe('');
    const audit = await api(service, root, 'GET', '/api/v1/audit?limit=1000');
    expect(audit.body.entries.some((e: { action: string }) => e.action === 'session.start')).toBe(true);
    await context.close();
  });

  it('filters the queue, and triages with the keyboard (j, x, a), audited like the API', async () => {
    const { context, page } = await session(acme.analyst);
    expect(await page.locator('#queue tbody tr').count()).toBe(4);
    expect(await page.textContent('[data-count-status="open"] b')).toBe('4');
    expect(await page.textContent('[data-count-level="high"] b')).toBe('3');
    await screenshot(page, 'queue');

    await page.fill('#filter-host', 'WEB2');
    await navigating(page, () => page.press('#filter-host', 'Enter'));
    expect(page.url()).toContain('host=WEB2');
    expect(await page.locator('#queue tbody tr').allTextContents()).toEqual([
      expect.stringContaining('web2'),
    ]);

    await page.keyboard.press('?');
    expect(await page.isVisible('#help')).toBe(true);
    await page.keyboard.press('Escape');
    expect(await page.isVisible('#help')).toBe(false);
    await page.keyboard.press('j');
    expect(await page.evaluate('document.activeElement.dataset.id')).toBe(String(idOf('web2')));
    await page.keyboard.press('x');
    expect(await page.isChecked('#queue tbody tr input[type=checkbox]')).toBe(true);
    await navigating(page, () => page.keyboard.press('a'));
    expect(page.url()).toContain('triaged=1');
    expect(await page.textContent('#queue tbody tr .status')).toBe('acknowledged');
    const [changed] = await alertsOf(acme.viewer, '?host=web2');
    expect(changed!.status).toBe('acknowledged');
    const detail = await api(service, acme.viewer, 'GET', `/api/v1/alerts/${idOf('web2')}`);
    expect(detail.body.history[0]).toMatchObject({
      actor: expect.stringMatching(/^token:\d+/),
      change: { status: { from: 'open', to: 'acknowledged' } },
    });

    // Status filter by its check box: applied as it changes.
    await page.goto(`${service.url}/console/alerts`);
    await navigating(page, () => page.check('input[name=status][value=open]'));
    const hosts = await page.locator('#queue tbody td.host').allTextContents();
    expect(hosts.sort()).toEqual(['db1', 'hx', 'web1']);

    // Grouped by host: one line per host with its count; a group leads to its alerts.
    await navigating(page, () => page.selectOption('#filter-group', 'host'));
    expect(await page.locator('#groups tbody tr').count()).toBe(3);
    await navigating(page, () => page.click('#groups a:text("web1")'));
    expect(await page.locator('#queue tbody td.host').allTextContents()).toEqual(['web1']);

    // Bulk close needs a reason; with one, every selected alert is closed.
    await page.goto(`${service.url}/console/alerts?host=db1`);
    await page.check('#queue tbody input[type=checkbox]');
    await page.selectOption('#bulk-action', 'close');
    await navigating(page, () => page.click('#bulk-apply'));
    expect(await page.textContent('.problem')).toContain('close reason');
    await page.goto(`${service.url}/console/alerts?host=db1`);
    await page.check('#queue tbody input[type=checkbox]');
    await page.selectOption('#bulk-action', 'close');
    await page.selectOption('#bulk-reason', 'false_positive');
    await page.fill('#bulk-note', 'lab noise');
    await navigating(page, () => page.click('#bulk-apply'));
    expect(await page.textContent('#queue tbody tr .status')).toBe('closed');
    await context.close();
  });

  it('opens an alert with Enter: the rule, its YAML, the matched field highlighted, the timeline, triage', async () => {
    const { context, page } = await session(acme.analyst);
    await page.goto(`${service.url}/console/alerts?host=web1`);
    await page.keyboard.press('j');
    await navigating(page, () => page.keyboard.press('Enter'));
    expect(page.url()).toMatch(new RegExp(`/console/alerts/${idOf('web1')}$`));
    expect(await page.textContent('.rule-name')).toBe('Evil action');
    expect(await page.textContent('#rule-yaml')).toContain('selection: { action: evil }');
    expect(await page.locator('#detections-title ~ details.detection').count()).toBe(2);
    const marked = page.locator('details.detection[open] table.fields:not(.why) tr.match');
    expect(await marked.locator('th').allTextContents()).toEqual(['action']);
    expect(await marked.locator('mark').textContent()).toBe('evil');
    // The timeline, from the event log: the host's three events, the two detections marked.
    expect(await page.locator('#timeline tbody tr').count()).toBe(3);
    expect(await page.locator('#timeline tbody tr.fired').count()).toBe(2);
    // The ATT&CK names load once the service listens.
    for (let i = 0; i < 60 && !(await page.textContent('.techniques-list'))?.includes('Command'); i++) {
      await new Promise((r) => setTimeout(r, 500));
      await page.reload();
    }
    expect(await page.textContent('.techniques-list')).toContain('T1059 Command and Scripting Interpreter');
    await screenshot(page, 'alert');
    await screenshot(page, 'alert-full', true);

    await page.selectOption('#triage-status', 'closed');
    await navigating(page, () => page.click('#triage-save'));
    expect(await page.textContent('.problem')).toContain('close_reason');
    await page.selectOption('#triage-status', 'closed');
    await page.selectOption('#triage-reason', 'true_positive');
    await page.fill('#triage-assignee', 'ana');
    await page.fill('#triage-note', 'confirmed with the owner');
    await navigating(page, () => page.click('#triage-save'));
    expect(await page.textContent('.notice')).toBe('Saved.');
    expect(await page.textContent('#alert-assignee')).toBe('ana');
    expect(await page.textContent('#history')).toContain('confirmed with the owner');
    expect(await page.textContent('#history')).toContain('status: open → closed');
    await context.close();
  });

  it('shows a new alert without a reload, from the live stream', async () => {
    const { context, page } = await session(acme.analyst);
    await page.waitForSelector('body[data-live-ready]');
    await page.evaluate('window.stayed = true');
    await send(service, acme.ingest, [event('web9', 'evil', 30)]);
    await page.waitForSelector('#queue tbody tr.alert-row.new >> text=web9', { timeout: 30_000 });
    expect(await page.evaluate('window.stayed')).toBe(true);
    expect(await page.textContent('#live-status')).toContain('1 new alert');
    await screenshot(page, 'queue-live');
    await context.close();
  });

  it('refuses a forged POST: without the CSRF token, with a wrong one, and from another site', async () => {
    const { context, page } = await session(acme.analyst);
    const target = idOf('web1');
    const statusBefore = (await api(service, acme.viewer, 'GET', `/api/v1/alerts/${target}`)).body.status;
    const post = (body: string) =>
      page.evaluate<number>(
        `fetch('/console/alerts/triage', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: ${JSON.stringify(body)}, redirect: 'manual' }).then((r) => r.status)`,
      );
    expect(await post(`id=${target}&action=reopen`)).toBe(403);
    expect(await post(`id=${target}&action=reopen&_csrf=forged`)).toBe(403);

    // A page of another site posting the same form: the browser sends no session cookie with it.
    const evil: Server = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        `<form method="post" action="${service.url}/console/alerts/triage"><input name="id" value="${target}"><input name="action" value="reopen"><input name="_csrf" value="guess"><button id="go">go</button></form>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, 'localhost', resolve));
    const port = (evil.address() as { port: number }).port;
    await page.goto(`http://localhost:${port}/`);
    const answer = page.waitForResponse((r) => r.url().endsWith('/console/alerts/triage'));
    await page.click('#go');
    expect([401, 403]).toContain((await answer).status());
    evil.close();
    expect((await api(service, acme.viewer, 'GET', `/api/v1/alerts/${target}`)).body.status).toBe(
      statusBefore,
    );
    await context.close();
  });

  it('shows hostile events and rules as text: nothing runs, links stay inert, the page keeps its width', async () => {
    const { context, page } = await session(acme.analyst);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await context.addInitScript(
      "window.violations = []; document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.effectiveDirective));",
    );
    for (const path of ['/console/alerts', `/console/alerts?host=hx`, `/console/alerts/${idOf('hx')}`]) {
      await page.goto(service.url + path);
      await page.evaluate("for (const details of document.querySelectorAll('details')) details.open = true");
      const state = await page.evaluate<{
        pwned?: number;
        violations: string[];
        wide: number;
        viewport: number;
        scriptLinks: number;
        scripts: string[];
      }>(`({
        pwned: window.__pwned,
        violations: window.violations,
        wide: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        scriptLinks: document.querySelectorAll('a[href^="javascript"], iframe, img[src="x"]').length,
        scripts: [...document.scripts].map((s) => s.getAttribute('src')),
      })`);
      expect(state.pwned, path).toBeUndefined();
      expect(state.violations, path).toEqual([]);
      expect(state.scriptLinks, path).toBe(0);
      expect(state.scripts, path).toEqual(['/console/assets/console.js']);
      expect(state.wide, path).toBeLessThanOrEqual(state.viewport);
    }
    expect(await page.textContent('.alert-title')).toContain(
      '<script>window.__pwned = 4</script><b>Hostile</b>',
    );
    const eventText = (await page.textContent('table.fields:not(.why)')) ?? '';
    expect(eventText.includes('<img src=x onerror="window.__pwned = 2">')).toBe(true);
    expect(eventText.includes('<b>field</b>')).toBe(true);
    expect(eventText.includes('1,000,000 characters in all')).toBe(true);
    expect(await page.locator('.references a').count()).toBe(1);
    await screenshot(page, 'hostile');
    // The policy is in force: a script put into the page by other means is refused too.
    await page.evaluate(
      "const script = document.createElement('script'); script.textContent = 'window.__pwned = 7'; document.body.append(script);",
    );
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.evaluate('window.violations')).toContain('script-src-elem');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it("keeps a tenant's user to the tenant: another's alerts, rows, triage and live stream give nothing", async () => {
    const { context, page } = await session(acme.analyst);
    const foreign = idOf('globex-db');
    const response = await page.goto(`${service.url}/console/alerts/${foreign}`);
    expect(response!.status()).toBe(404);
    expect(await page.content()).not.toContain('globex');
    const rows = await page.evaluate<string>("fetch('/console/alerts/rows?after=0').then((r) => r.text())");
    expect(rows).toContain('web1');
    expect(rows).not.toContain('globex');

    await page.goto(`${service.url}/console/alerts`);
    const csrf = await page.getAttribute('#bulk input[name=_csrf]', 'value');
    const postForm = (path: string, body: string) =>
      page.evaluate<{ status: number; url: string }>(
        `fetch(${JSON.stringify(path)}, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: ${JSON.stringify(body)} }).then((r) => ({ status: r.status, url: r.url }))`,
      );
    const triage = (
      await postForm(
        '/console/alerts/triage',
        `id=${foreign}&action=acknowledge&_csrf=${encodeURIComponent(csrf!)}`,
      )
    ).url;
    expect(triage).toContain('triaged=0&refused=1');
    expect((await api(service, globex.analyst, 'GET', `/api/v1/alerts/${foreign}`)).body.status).toBe('open');
    const picked = (await postForm('/console/tenant', `tenant=globex&_csrf=${encodeURIComponent(csrf!)}`))
      .status;
    expect(picked).toBe(403);

    // The live stream tells of the tenant's own alerts only.
    await page.evaluate(
      "window.heard = []; new EventSource('/console/alerts/live').addEventListener('alert', (e) => window.heard.push(JSON.parse(e.data).id));",
    );
    await send(service, globex.ingest, [event('globex-web', 'evil', 40)]);
    await waitProcessed(service, root);
    await send(service, acme.ingest, [event('web10', 'evil', 41)]);
    await waitProcessed(service, root);
    const globexNew = (await alertsOf(globex.analyst, '?host=globex-web'))[0]!.id;
    const acmeNew = (await alertsOf(acme.viewer, '?host=web10'))[0]!.id;
    await page.waitForFunction(`window.heard.includes(${acmeNew})`);
    const heard = await page.evaluate<number[]>('window.heard');
    expect(heard).not.toContain(globexNew);
    await context.close();
  });

  it('gives a service-wide admin a tenant picker', async () => {
    const { context, page } = await session(root);
    const tenants = await page.locator('#queue tbody td:nth-child(5)').allTextContents();
    expect(new Set(tenants)).toEqual(new Set(['acme', 'globex']));
    await navigating(page, () => page.selectOption('#tenant-picker', 'globex'));
    const hosts = await page.locator('#queue tbody td.host').allTextContents();
    expect(hosts.sort()).toEqual(['globex-db', 'globex-web']);
    await screenshot(page, 'tenant-picker');
    await context.close();
  });

  it('signs out: the session is dead afterwards, even for a copy of its cookie', async () => {
    const { context, page } = await session(acme.viewer);
    expect(await page.locator('#bulk').count()).toBe(0);
    const cookie = (await context.cookies()).find((c) => c.name === 'vigil_session')!;
    await navigating(page, () => page.click('#sign-out'));
    expect(page.url()).toMatch(/\/console\/sign-in$/);
    expect((await context.cookies()).some((c) => c.name === 'vigil_session')).toBe(false);
    const replay = (path: string) =>
      fetch(service.url + path, { headers: { cookie: `vigil_session=${cookie.value}` }, redirect: 'manual' });
    const queue = await replay('/console/alerts');
    expect(queue.status).toBe(303);
    expect(queue.headers.get('location')).toBe('/console/sign-in');
    expect((await replay('/console/alerts/rows?after=0')).status).toBe(401);
    expect((await replay('/console/alerts/live')).status).toBe(401);
    const audit = await api(service, root, 'GET', '/api/v1/audit?limit=1000');
    expect(
      audit.body.entries.some(
        (e: { action: string; details: { reason?: string } }) =>
          e.action === 'session.end' && e.details.reason === 'sign-out',
      ),
    ).toBe(true);
    await context.close();
  });

  it('ends a session an admin revokes with vigil admin session revoke', async () => {
    const { context, page } = await session(acme.viewer);
    const listed = vigil(['admin', '--data', data, 'session', 'list']).stdout;
    const live = [...listed.matchAll(/│ (\d+)\s+│[^\n]*│\s+│\n/g)].map((m) => Number(m[1]));
    const newest = Math.max(...live);
    expect(vigil(['admin', '--data', data, 'session', 'revoke', String(newest)]).stdout).toBe(
      `session ${newest} ended\n`,
    );
    await page.reload();
    expect(page.url()).toMatch(/\/console\/sign-in$/);
    await context.close();
  });

  // Last: it stops the service the tests above share.
  it('stops on SIGTERM while a console keeps its live stream open', async () => {
    const { context, page } = await session(acme.viewer);
    await page.waitForSelector('body[data-live-ready]');
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(service.log()).toContain('stopped');
    await context.close();
  });
});
