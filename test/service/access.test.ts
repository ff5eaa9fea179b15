import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const RULE = `title: Evil action
id: 5b0e1f7e-0000-4000-8000-00000000e411
status: test
logsource: { product: lab }
detection:
  selection: { action: evil }
  condition: selection
level: high
tags: [attack.execution, attack.t1059]
`;

function events(host: string, n: number, start = Date.parse('2026-01-01T10:00:00Z')): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ host, action: 'evil', user: `u${i}`, time: new Date(start + i * 60_000).toISOString() }),
  ).join('\n');
}

/** Signs in to the console with a token as a browser would; the session cookie's value. */
async function consoleSession(service: RunningService, token: string): Promise<string> {
  const form = await fetch(`${service.url}/console/sign-in`);
  const nonce = /name="_signin" value="([^"]+)"/.exec(await form.text())![1]!;
  const answer = await fetch(`${service.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `vigil_signin=${nonce}` },
    body: new URLSearchParams({ _signin: nonce, token }).toString(),
  });
  return /vigil_session=([^;]+)/.exec(answer.headers.getSetCookie().join('\n'))![1]!;
}

async function waitProcessed(service: RunningService, token: string) {
  for (let i = 0; i < 300; i++) {
    const stats = await api(service, token, 'GET', '/api/v1/stats');
    if (stats.body.processed === stats.body.accepted) return stats.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('detection did not catch up');
}

describe('vigil serve: tokens, roles, tenants and the audit log', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let acme: Record<string, string>;
  let globex: Record<string, string>;
  let root: string;
  let rootViewer: string;
  let acmeAlert: number;
  let globexAlert: number;
  let globexToken: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-access-'));
    data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'evil.yml'), RULE);
    acme = await provision(data, 'acme', ['ingest', 'viewer', 'analyst', 'admin']);
    // Globex is made as an operator would, with the command (the other tests provision in-process).
    const token = (args: string[]) => vigil(['admin', '--data', data, 'token', 'add', ...args]).stdout.trim();
    expect(vigil(['admin', '--data', data, 'tenant', 'add', 'globex']).stdout).toBe('tenant globex added\n');
    globex = {};
    for (const role of ['ingest', 'viewer', 'analyst', 'admin'])
      globex[role] = token(['--role', role, '--tenant', 'globex']);
    root = token(['--role', 'admin', '--name', 'mssp-admin']);
    rootViewer = token(['--role', 'viewer', '--name', 'noc']);
    // Every alert asks for an approval, so that each tenant has response steps of its own.
    mkdirSync(join(data, 'playbooks'));
    writeFileSync(
      join(data, 'playbooks', 'ask.yml'),
      "name: ask\nmode: approval\ntrigger: {}\nsteps:\n  - { name: tell, action: notify.message, with: { text: '{{ alert.rule }}' } }\n",
    );
    service = await startService(data, ['--rules', join(dir, 'rules')], { VIGIL_HOME: join(dir, 'home') });
    for (const [tokens, host] of [
      [acme, 'acme-web'],
      [globex, 'globex-db'],
    ] as const) {
      const sent = await api(
        service,
        tokens.ingest,
        'POST',
        '/api/v1/events',
        events(host, 3),
        'application/x-ndjson',
      );
      expect(sent.body).toEqual({ accepted: 3, rejected: [] });
    }
    await waitProcessed(service, rootViewer);
    acmeAlert = (await api(service, acme.viewer, 'GET', '/api/v1/alerts')).body.alerts[0].id;
    globexAlert = (await api(service, globex.viewer, 'GET', '/api/v1/alerts')).body.alerts[0].id;
    globexToken = (await api(service, globex.admin, 'GET', '/api/v1/tokens')).body.tokens[0].id;
  }, 120_000);

  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('groups detections of one rule and host into one alert, per tenant', async () => {
    const list = await api(service, acme.viewer, 'GET', '/api/v1/alerts');
    expect(list.body.alerts).toHaveLength(1);
    expect(list.body.alerts[0]).toMatchObject({
      tenant: 'acme',
      host: 'acme-web',
      count: 3,
      status: 'open',
      techniques: ['T1059'],
      rule: { title: 'Evil action', level: 'high' },
      first_seen: '2026-01-01T10:00:00.000Z',
      last_seen: '2026-01-01T10:02:00.000Z',
    });
    const detail = await api(service, acme.viewer, 'GET', `/api/v1/alerts/${acmeAlert}`);
    expect(detail.body.detections).toHaveLength(3);
    expect(detail.body.detections[0].event).toMatchObject({ host: 'acme-web', action: 'evil' });
    const all = await api(service, rootViewer, 'GET', '/api/v1/alerts');
    expect(all.body.alerts.map((a: { tenant: string }) => a.tenant).sort()).toEqual(['acme', 'globex']);
  });

  it('answers 401 without a valid token and 403 to a role that may not, on every route', async () => {
    const openapi = await api(service, root, 'GET', '/api/v1/openapi.json');
    expect(openapi.status).toBe(200);
    const routes: [string, string, string | null][] = [];
    for (const [path, operations] of Object.entries(
      openapi.body.paths as Record<string, Record<string, { 'x-vigil-permission': string | null }>>,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        routes.push([
          method.toUpperCase(),
          path.replace('{id}', String(acmeAlert)),
          operation['x-vigil-permission'],
        ]);
      }
    }
    expect(routes.length).toBeGreaterThanOrEqual(20);
    const byPermission: Record<string, string[]> = {
      ingest: ['ingest'],
      read: ['viewer', 'analyst', 'admin'],
      triage: ['analyst', 'admin'],
      manage: ['admin'],
    };
    for (const [method, path, permission] of routes) {
      const what = `${method} ${path}`;
      expect(
        (await api(service, undefined, method, path, method === 'GET' ? undefined : {})).status,
        what,
      ).toBe(401);
      expect(
        (await api(service, 'vgl_wrong', method, path, method === 'GET' ? undefined : {})).status,
        what,
      ).toBe(401);
      for (const role of ['ingest', 'viewer', 'analyst', 'admin']) {
        if (byPermission[permission!]!.includes(role)) continue;
        const answer = await api(service, acme[role], method, path, method === 'GET' ? undefined : {});
        expect(answer.status, `${what} as ${role}`).toBe(403);
        expect(JSON.stringify(answer.body)).not.toContain('globex');
      }
    }
  });

  it("never shows or changes another tenant's data, route by route", async () => {
    const asAcme = (role: string, method: string, path: string, body?: unknown) =>
      api(service, acme[role], method, path, body);
    const checked = new Set<string>();
    const check = async (route: string, run: () => Promise<void>) => {
      checked.add(route);
      await run();
    };
    await check('POST /api/v1/events', async () => {
      await api(
        service,
        acme.ingest,
        'POST',
        '/api/v1/events',
        events('acme-web', 1, Date.parse('2026-01-01T10:03:00Z')),
        'application/x-ndjson',
      );
      await waitProcessed(service, rootViewer);
      const g = await api(service, globex.viewer, 'GET', '/api/v1/stats');
      expect(g.body.accepted).toBe(3);
    });
    await check('POST /v1/logs', async () => {
      const body = JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              { logRecords: [{ body: { stringValue: 'hello' }, timeUnixNano: '1767261600000000000' }] },
            ],
          },
        ],
      });
      expect((await api(service, acme.ingest, 'POST', '/v1/logs', body)).status).toBe(200);
      await waitProcessed(service, rootViewer);
      expect((await api(service, globex.viewer, 'GET', '/api/v1/stats')).body.accepted).toBe(3);
    });
    await check('GET /api/v1/alerts', async () => {
      const own = await asAcme('viewer', 'GET', '/api/v1/alerts');
      expect(own.body.alerts.every((a: { tenant: string }) => a.tenant === 'acme')).toBe(true);
      expect((await asAcme('viewer', 'GET', '/api/v1/alerts?tenant=globex')).status).toBe(403);
    });
    await check('GET /api/v1/alerts/{id}', async () => {
      expect((await asAcme('viewer', 'GET', `/api/v1/alerts/${globexAlert}`)).status).toBe(404);
      expect((await asAcme('viewer', 'GET', `/api/v1/alerts/${acmeAlert}`)).status).toBe(200);
    });
    await check('PATCH /api/v1/alerts/{id}', async () => {
      const answer = await asAcme('analyst', 'PATCH', `/api/v1/alerts/${globexAlert}`, {
        status: 'acknowledged',
      });
      expect(answer.status).toBe(404);
      const after = await api(service, globex.viewer, 'GET', `/api/v1/alerts/${globexAlert}`);
      expect(after.body.status).toBe('open');
    });
    await check('GET /api/v1/detections', async () => {
      const own = await asAcme('viewer', 'GET', '/api/v1/detections');
      expect(own.body.detections.length).toBe(4);
      expect(own.body.detections.every((d: { tenant: string }) => d.tenant === 'acme')).toBe(true);
      expect((await asAcme('viewer', 'GET', '/api/v1/detections?tenant=globex')).status).toBe(403);
    });
    await check('GET /api/v1/stats', async () => {
      expect((await asAcme('viewer', 'GET', '/api/v1/stats')).body).toMatchObject({
        accepted: 5,
        processed: 5,
        detections: 4,
      });
      expect((await asAcme('viewer', 'GET', '/api/v1/stats?tenant=globex')).status).toBe(403);
    });
    let globexSuppression = 0;
    await check('POST /api/v1/suppressions', async () => {
      const until = new Date(Date.now() + 3600_000).toISOString();
      expect(
        (
          await asAcme('analyst', 'POST', '/api/v1/suppressions', {
            tenant: 'globex',
            host: 'x',
            until,
            reason: 'r',
          })
        ).status,
      ).toBe(403);
      const made = await api(service, globex.analyst, 'POST', '/api/v1/suppressions', {
        host: 'globex-db',
        until,
        reason: 'maintenance',
      });
      expect(made.status).toBe(201);
      globexSuppression = made.body.id;
    });
    await check('GET /api/v1/suppressions', async () => {
      const own = await asAcme('viewer', 'GET', '/api/v1/suppressions');
      expect(own.body.suppressions.some((s: { tenant: string }) => s.tenant === 'globex')).toBe(false);
    });
    await check('DELETE /api/v1/suppressions/{id}', async () => {
      expect((await asAcme('analyst', 'DELETE', `/api/v1/suppressions/${globexSuppression}`)).status).toBe(
        404,
      );
    });
    let globexHunt = 0;
    await check('POST /api/v1/hunts', async () => {
      expect((await asAcme('analyst', 'POST', '/api/v1/hunts', { tenant: 'globex' })).status).toBe(403);
      const bad = await asAcme('analyst', 'POST', '/api/v1/hunts', { rules: ['title: x\nlogsource: {}\n'] });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/rules\[0\]/);
      const theirs = await api(service, globex.analyst, 'POST', '/api/v1/hunts', { rules: [RULE] });
      expect(theirs.status).toBe(202);
      globexHunt = theirs.body.id;
      let hunt = theirs.body;
      for (let i = 0; i < 300 && hunt.status === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        hunt = (await api(service, globex.viewer, 'GET', `/api/v1/hunts/${globexHunt}`)).body;
      }
      expect(hunt).toMatchObject({ status: 'done', tenant: 'globex', events: 3, detections: 3 });
      expect(hunt.results.every((d: { host: string }) => d.host === 'globex-db')).toBe(true);
    });
    await check('GET /api/v1/hunts', async () => {
      expect((await asAcme('viewer', 'GET', '/api/v1/hunts')).body.hunts).toEqual([]);
    });
    await check('GET /api/v1/hunts/{id}', async () => {
      expect((await asAcme('viewer', 'GET', `/api/v1/hunts/${globexHunt}`)).status).toBe(404);
    });
    await check('POST /api/v1/indicators', async () => {
      const indicators = [{ type: 'domain', value: 'acme-only.example.net' }];
      expect(
        (await asAcme('admin', 'POST', '/api/v1/indicators', { tenant: 'globex', indicators })).status,
      ).toBe(403);
      const own = await asAcme('admin', 'POST', '/api/v1/indicators', { indicators });
      expect(own.status).toBe(202);
      expect(own.body).toMatchObject({ tenant: 'acme', added: 1 });
      expect(own.body.hunts.map((h: { tenant: string }) => h.tenant)).toEqual(['acme']);
    });
    await check('GET /api/v1/indicators', async () => {
      expect((await asAcme('viewer', 'GET', '/api/v1/indicators')).body).toEqual({
        global: 0,
        tenants: { acme: 1 },
      });
      expect((await api(service, globex.viewer, 'GET', '/api/v1/indicators')).body).toEqual({
        global: 0,
        tenants: {},
      });
    });
    const stepsOf = async (tokens: Record<string, string>, alert: number) => {
      for (let i = 0; i < 100; i++) {
        const got = await api(service, tokens.viewer, 'GET', `/api/v1/alerts/${alert}/responses`);
        if (got.body.responses?.length) return got.body.responses;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no response steps for alert ${alert}`);
    };
    const [globexStep] = await stepsOf(globex, globexAlert);
    await check('GET /api/v1/alerts/{id}/responses', async () => {
      expect((await asAcme('viewer', 'GET', `/api/v1/alerts/${globexAlert}/responses`)).status).toBe(404);
      const own = await stepsOf(acme, acmeAlert);
      expect(own.every((r: { tenant: string }) => r.tenant === 'acme')).toBe(true);
    });
    for (const verb of ['approve', 'reject', 'release'])
      await check(`POST /api/v1/responses/{id}/${verb}`, async () => {
        expect((await asAcme('analyst', 'POST', `/api/v1/responses/${globexStep.id}/${verb}`)).status).toBe(
          404,
        );
      });
    await check('GET /api/v1/alerts/{id}/playbooks', async () => {
      expect((await asAcme('viewer', 'GET', `/api/v1/alerts/${globexAlert}/playbooks`)).status).toBe(404);
      expect((await asAcme('viewer', 'GET', `/api/v1/alerts/${acmeAlert}/playbooks`)).body.playbooks).toEqual(
        [expect.objectContaining({ name: 'ask', applies: true })],
      );
    });
    await check('POST /api/v1/alerts/{id}/respond', async () => {
      const run = { playbook: 'ask', dry_run: true };
      expect((await asAcme('analyst', 'POST', `/api/v1/alerts/${globexAlert}/respond`, run)).status).toBe(
        404,
      );
    });
    expect((await stepsOf(globex, globexAlert))[0].state).toBe('awaiting-approval');
    await check('GET /api/v1/tenants', async () => {
      expect(
        (await asAcme('admin', 'GET', '/api/v1/tenants')).body.tenants.map((t: { name: string }) => t.name),
      ).toEqual(['acme']);
    });
    await check('POST /api/v1/tenants', async () => {
      expect((await asAcme('admin', 'POST', '/api/v1/tenants', { name: 'initech' })).status).toBe(403);
    });
    await check('GET /api/v1/tokens', async () => {
      const own = await asAcme('admin', 'GET', '/api/v1/tokens');
      expect(own.body.tokens.length).toBe(4);
      expect(own.body.tokens.every((t: { tenant: string }) => t.tenant === 'acme')).toBe(true);
      expect(JSON.stringify(own.body)).not.toContain('vgl_');
    });
    await check('POST /api/v1/tokens', async () => {
      expect(
        (await asAcme('admin', 'POST', '/api/v1/tokens', { role: 'admin', tenant: 'globex' })).status,
      ).toBe(403);
      const own = await asAcme('admin', 'POST', '/api/v1/tokens', { role: 'viewer', label: 'soc' });
      expect(own.status).toBe(201);
      expect(own.body.tenant).toBe('acme');
    });
    await check('DELETE /api/v1/tokens/{id}', async () => {
      expect((await asAcme('admin', 'DELETE', `/api/v1/tokens/${globexToken}`)).status).toBe(404);
      expect((await api(service, globex.ingest, 'GET', '/api/v1/stats')).status).toBe(403); // still valid, just not a reader
    });
    await check('GET /api/v1/sessions', async () => {
      await consoleSession(service, acme.viewer!);
      await consoleSession(service, globex.viewer!);
      const own = await asAcme('admin', 'GET', '/api/v1/sessions');
      expect(own.body.sessions.length).toBe(1);
      expect(JSON.stringify(own.body)).not.toContain('globex');
    });
    await check('DELETE /api/v1/sessions/{id}', async () => {
      const cookie = await consoleSession(service, globex.viewer!);
      const theirs = (await api(service, globex.admin, 'GET', '/api/v1/sessions')).body.sessions.at(-1).id;
      expect((await asAcme('admin', 'DELETE', `/api/v1/sessions/${theirs}`)).status).toBe(404);
      const alive = await fetch(`${service.url}/console/alerts`, {
        headers: { cookie: `vigil_session=${cookie}` },
      });
      expect(alive.status).toBe(200);
      expect((await api(service, globex.admin, 'DELETE', `/api/v1/sessions/${theirs}`)).status).toBe(204);
      const ended = await fetch(`${service.url}/console/alerts`, {
        headers: { cookie: `vigil_session=${cookie}` },
        redirect: 'manual',
      });
      expect(ended.status).toBe(303);
    });
    await check('GET /api/v1/rules', async () => {
      expect((await asAcme('viewer', 'GET', '/api/v1/rules?tenant=globex')).status).toBe(403);
      expect(Object.keys((await asAcme('viewer', 'GET', '/api/v1/rules')).body.tenants)).not.toContain(
        'globex',
      );
    });
    await check('PUT /api/v1/rules/tenant/{file}', async () => {
      const text =
        'title: acme own rule\nlogsource: { product: windows }\ndetection:\n  s: { EventID: 1 }\n  condition: s\n';
      const path = '/api/v1/rules/tenant/own.yml';
      expect((await asAcme('admin', 'PUT', path, { tenant: 'globex', text })).status).toBe(403);
      expect((await asAcme('analyst', 'PUT', path, { text })).status).toBe(403);
      const own = await asAcme('admin', 'PUT', path, { text });
      expect(own.body).toEqual({ tenant: 'acme', file: 'own.yml', rules: ['acme own rule'] });
      expect(
        (await asAcme('admin', 'PUT', '/api/v1/rules/tenant/..%2Fglobex%2Fx.yml', { text })).status,
      ).toBe(400);
    });
    await check('POST /api/v1/rules/reload', async () => {
      expect((await asAcme('admin', 'POST', '/api/v1/rules/reload')).status).toBe(200);
    });
    await check('GET /api/v1/audit', async () => {
      const own = await asAcme('admin', 'GET', '/api/v1/audit');
      expect(own.body.entries.length).toBeGreaterThan(0);
      expect(own.body.entries.every((e: { tenant: string }) => e.tenant === 'acme')).toBe(true);
    });
    await check('GET /api/v1/audit/verify', async () => {
      expect((await asAcme('admin', 'GET', '/api/v1/audit/verify')).status).toBe(403);
      expect((await api(service, root, 'GET', '/api/v1/audit/verify')).body).toMatchObject({ intact: true });
    });
    await check('GET /metrics', async () => {
      const text = (await asAcme('viewer', 'GET', '/metrics')).body as string;
      expect(text).toContain('vigil_events_accepted_total{tenant="acme",source="http"}');
      expect(text).not.toContain('globex');
    });
    for (const route of ['GET /api/v1/health', 'GET /api/v1/openapi.json']) {
      await check(route, async () => {
        const answer = await asAcme('viewer', 'GET', route.split(' ')[1]!);
        expect(answer.status).toBe(200);
        expect(JSON.stringify(answer.body)).not.toContain('globex');
      });
    }
    // Every route the service documents is covered above: a new one must say how it keeps tenants apart.
    const openapi = await api(service, root, 'GET', '/api/v1/openapi.json');
    const documented = Object.entries(openapi.body.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect([...checked].sort()).toEqual(documented.sort());
  });

  it('records triage with its history, and suppressions keep detections out of alerts', async () => {
    const close = await api(service, acme.analyst, 'PATCH', `/api/v1/alerts/${acmeAlert}`, {
      status: 'closed',
    });
    expect(close.status).toBe(400);
    const closed = await api(service, acme.analyst, 'PATCH', `/api/v1/alerts/${acmeAlert}`, {
      status: 'closed',
      close_reason: 'benign_true_positive',
      assignee: 'dana',
      note: 'admin test script',
    });
    expect(closed.body).toMatchObject({
      status: 'closed',
      close_reason: 'benign_true_positive',
      assignee: 'dana',
    });
    const detail = await api(service, acme.viewer, 'GET', `/api/v1/alerts/${acmeAlert}`);
    expect(detail.body.history.at(-1).change).toMatchObject({
      status: { from: 'open', to: 'closed' },
      note: 'admin test script',
    });
    // The globex host is suppressed (see above): its new detections are kept, in no alert.
    await api(
      service,
      globex.ingest,
      'POST',
      '/api/v1/events',
      events('globex-db', 2, Date.parse('2026-01-01T10:05:00Z')),
      'application/x-ndjson',
    );
    await waitProcessed(service, rootViewer);
    const detections = (await api(service, globex.viewer, 'GET', '/api/v1/detections')).body.detections;
    expect(detections.filter((d: { suppressed_by: number | null }) => d.suppressed_by !== null)).toHaveLength(
      2,
    );
    const alert = await api(service, globex.viewer, 'GET', `/api/v1/alerts/${globexAlert}`);
    expect(alert.body.count).toBe(3);
  });

  it('keeps an audit chain that vigil admin audit verify checks, and finds a change made behind its back', async () => {
    const verified = vigil(['admin', '--data', data, 'audit', 'verify']);
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/intact: \d+ entries/);
    const db = new Database(join(data, 'vigil.db'));
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare('UPDATE audit SET details = \'{"role":"viewer"}\' WHERE seq = 3').run();
    db.close();
    const broken = vigil(['admin', '--data', data, 'audit', 'verify']);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/broken: entry 3 its content was changed after it was written/);
  });
});
