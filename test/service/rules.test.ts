import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const GLOBAL = `title: Evil action
id: 3f1c2d4e-0000-4000-8000-0000000000a1
status: test
logsource: { product: lab }
detection: { selection: { action: evil }, condition: selection }
level: high
`;

const event = (tenant: string, action: string, user: string, n: number) =>
  JSON.stringify({
    host: `${tenant}-web`,
    action,
    user,
    n,
    time: new Date(Date.UTC(2026, 0, 1, 10, 0, n)).toISOString(),
  });

async function titles(service: RunningService, token: string): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const stats = await api(service, token, 'GET', '/api/v1/stats');
    if (stats.body.processed === stats.body.accepted) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const list = await api(service, token, 'GET', '/api/v1/detections?limit=100');
  return list.body.detections
    .map((d: { rule: { title: string }; record: number }) => `${d.record}:${d.rule.title}`)
    .sort();
}

describe("vigil serve: global rules, a tenant's own rules and filters, reloads", () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let acme: Record<string, string>;
  let globex: Record<string, string>;
  const send = (tokens: Record<string, string>, lines: string[]) =>
    api(service, tokens.ingest, 'POST', '/api/v1/events', `${lines.join('\n')}\n`, 'application/x-ndjson');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-serve-rules-'));
    data = join(dir, 'data');
    mkdirSync(join(dir, 'global'));
    writeFileSync(join(dir, 'global', 'evil.yml'), GLOBAL);
    acme = await provision(data, 'acme', ['ingest', 'viewer', 'admin']);
    globex = await provision(data, 'globex', ['ingest', 'viewer']);
    // acme's own rule, and its filter: the global rule does not fire for acme's service account.
    mkdirSync(join(data, 'rules', 'acme'), { recursive: true });
    writeFileSync(
      join(data, 'rules', 'acme', 'own.yml'),
      `title: Odd action
status: test
logsource: { product: lab }
detection: { selection: { action: odd }, condition: selection }
level: medium
---
title: Not the backup account
filter:
  rules: [3f1c2d4e-0000-4000-8000-0000000000a1]
  selection: { user: svc-backup }
  condition: not selection
logsource: { product: lab }
`,
    );
    service = await startService(data, ['--rules', join(dir, 'global')], { VIGIL_HOME: join(dir, 'home') });
  }, 60_000);
  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the global rules for every tenant, and a tenant's own rules and filters on its events only", async () => {
    const lines = (tenant: string) => [
      event(tenant, 'evil', 'alice', 1),
      event(tenant, 'evil', 'svc-backup', 2),
      event(tenant, 'odd', 'alice', 3),
    ];
    await send(acme, lines('acme'));
    await send(globex, lines('globex'));
    expect(await titles(service, acme.viewer!)).toEqual(['1:Evil action', '3:Odd action']);
    expect(await titles(service, globex.viewer!)).toEqual(['1:Evil action', '2:Evil action']);
    const rules = await api(service, acme.viewer, 'GET', '/api/v1/rules');
    expect(rules.body).toMatchObject({
      global: { rules: 1, failed: [] },
      tenants: { acme: { rules: 2, failed: [] } },
    });
  });

  it('loads rules again when their files change, and a broken rule is reported without stopping the others', async () => {
    writeFileSync(
      join(data, 'rules', 'acme', 'new.yml'),
      'title: Strange action\nstatus: test\nlogsource: { product: lab }\ndetection: { selection: { action: strange }, condition: selection }\nlevel: low\n',
    );
    writeFileSync(
      join(data, 'rules', 'acme', 'broken.yml'),
      'title: Broken\nlogsource: { product: lab }\ndetection: { condition: nothing }\n',
    );
    let status = (await api(service, acme.viewer, 'GET', '/api/v1/rules')).body;
    for (let i = 0; i < 100 && status.tenants.acme.failed.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await api(service, acme.viewer, 'GET', '/api/v1/rules')).body;
    }
    expect(status.tenants.acme.failed).toEqual([
      expect.objectContaining({ file: expect.stringContaining('broken.yml'), line: expect.any(Number) }),
    ]);
    // The log line travels through a pipe: it may come a moment after the API shows the reload.
    for (let i = 0; i < 50 && !/rule skipped: tenant acme: .*broken\.yml/.test(service.log()); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(service.log()).toMatch(/rule skipped: tenant acme: .*broken\.yml/);
    await send(acme, [event('acme', 'strange', 'alice', 4), event('acme', 'evil', 'alice', 5)]);
    expect(await titles(service, acme.viewer!)).toEqual([
      '1:Evil action',
      '3:Odd action',
      '4:Strange action',
      '5:Evil action',
    ]);
    // And by hand: vigil admin rules reload asks the running service, which logs the outcome.
    const asked = vigil(['admin', '--data', data, 'rules', 'reload']);
    expect(asked.status, asked.stderr).toBe(0);
    for (let i = 0; i < 50 && !/SIGHUP: reloading rules/.test(service.log()); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(service.log()).toMatch(/SIGHUP: reloading rules/);
  }, 60_000);

  it('refuses a second service on the same data folder', () => {
    const second = vigil([
      'serve',
      '--data',
      data,
      '--rules',
      join(dir, 'global'),
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(second.status).toBe(2);
    expect(second.stderr).toMatch(/another vigil serve \(process \d+\) is using this data folder/);
  });
});
