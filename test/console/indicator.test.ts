import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchBrowser } from '../helpers/browser.js';
import { openSession } from '../helpers/console.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const RULE = `title: Never fires
id: 5b0e1f7e-0000-4000-8000-00000000e413
logsource: { product: lab }
detection:
  selection: { action: never }
  condition: selection
level: low
`;

describe.skipIf(!CHROMIUM)('console: the alert of an indicator match', () => {
  let dir: string;
  let service: RunningService;
  let browser: Browser;
  let acme: Record<'ingest' | 'viewer', string>;
  let globex: Record<'viewer', string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-console-ioc-'));
    const data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'never.yml'), RULE);
    // The comment of a list entry is the indicator's note: markup here must stay text.
    writeFileSync(
      join(dir, 'acme.txt'),
      '198.51.100.7 # <b onmouseover="window.__pwned = 1">seen at acme</b>\n',
    );
    acme = (await provision(data, 'acme', ['ingest', 'viewer'])) as typeof acme;
    globex = (await provision(data, 'globex', ['viewer'])) as typeof globex;
    writeFileSync(
      join(data, 'config.yml'),
      `indicators:\n  tenants:\n    acme: [${join(dir, 'acme.txt')}]\n`,
    );
    [service, browser] = await Promise.all([
      startService(data, ['--rules', join(dir, 'rules')], { VIGIL_HOME: join(dir, 'home') }),
      launchBrowser(),
    ]);
    const sent = await api(
      service,
      acme.ingest,
      'POST',
      '/api/v1/events',
      JSON.stringify({ host: 'ws7', time: '2026-01-01T10:00:00Z', DestinationIp: '198.51.100.7' }),
      'application/x-ndjson',
    );
    expect(sent.body.rejected).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the indicator matched, its source, confidence and note, as text; another tenant cannot open it', async () => {
    let id: number | undefined;
    for (let i = 0; i < 300 && id === undefined; i++) {
      id = (await api(service, acme.viewer, 'GET', '/api/v1/alerts?host=ws7')).body.alerts[0]?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(id).toBeTypeOf('number');
    const { context, page } = await openSession(browser, service.url, acme.viewer);
    await page.goto(`${service.url}/console/alerts/${id}`);
    const facts = (await page.textContent('#indicator')) ?? '';
    expect(facts).toContain('198.51.100.7');
    expect(facts).toContain('in DestinationIp');
    expect(facts).toContain('acme.txt');
    expect(facts).toMatch(/Confidence\s*\d+\/100/);
    expect(facts).toContain('<b onmouseover="window.__pwned = 1">seen at acme</b>');
    expect(await page.locator('#indicator b').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    await context.close();

    const other = await openSession(browser, service.url, globex.viewer);
    expect((await other.page.goto(`${service.url}/console/alerts/${id}`))?.status()).toBe(404);
    await other.context.close();
  });
});
