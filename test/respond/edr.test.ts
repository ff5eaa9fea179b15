import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertFacts,
  carryOut,
  parsePlaybooks,
  planFor,
  readConnectors,
  revert,
} from '../../src/respond/index.js';

/**
 * The EDR connectors against a local server that plays Defender for Endpoint and CrowdStrike Falcon
 * as their documentation describes them: it refuses any request whose method, path, headers, form or
 * body differ from the documented ones, and keeps the state of each host's isolation. (Not run
 * against the vendors here.)
 */

interface Seen {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

function vendor(): {
  server: Server;
  seen: Seen[];
  isolated: Set<string>;
  failNext: number[];
  url: () => string;
} {
  const seen: Seen[] = [];
  const isolated = new Set<string>();
  const failNext: number[] = [];
  const machines: Record<string, string> = { 'ws7.corp.example': 'a1b2c3', 'ws8.corp.example': 'd4e5f6' };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      seen.push({ method: req.method!, path: url.pathname + url.search, body, headers: req.headers });
      const answer = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const forced = failNext.shift();
      if (forced) return answer(forced, { error: 'busy' });
      const bearer = req.headers.authorization === 'Bearer tok-123';
      // Defender for Endpoint
      if (req.method === 'POST' && url.pathname === '/contoso-tenant/oauth2/v2.0/token') {
        const form = new URLSearchParams(body);
        const ok =
          req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') &&
          form.get('grant_type') === 'client_credentials' &&
          form.get('client_id') === 'app-1' &&
          form.get('client_secret') === 's3cret' &&
          form.get('scope') ===
            `http://127.0.0.1:${(server.address() as AddressInfo).port}/defender/.default`;
        return ok
          ? answer(200, { token_type: 'Bearer', expires_in: 3599, access_token: 'tok-123' })
          : answer(400, { error: 'invalid_request' });
      }
      if (url.pathname === '/defender/api/machines' && req.method === 'GET') {
        const filter = /^computerDnsName eq '(.*)'$/.exec(url.searchParams.get('$filter') ?? '');
        if (!bearer || !filter) return answer(400, { error: 'bad request' });
        const id = machines[filter[1]!];
        return answer(200, { value: id ? [{ id, computerDnsName: filter[1] }] : [] });
      }
      const machineAction = /^\/defender\/api\/machines\/([^/]+)\/(isolate|unisolate)$/.exec(url.pathname);
      if (machineAction && req.method === 'POST') {
        const json = JSON.parse(body || '{}');
        const shapeOk =
          bearer &&
          req.headers['content-type'] === 'application/json' &&
          typeof json.Comment === 'string' &&
          (machineAction[2] === 'unisolate' || ['Full', 'Selective'].includes(json.IsolationType));
        if (!shapeOk) return answer(400, { error: 'bad request' });
        if (machineAction[2] === 'isolate') isolated.add(machineAction[1]!);
        else isolated.delete(machineAction[1]!);
        return answer(201, {
          id: 'action-1',
          type: machineAction[2] === 'isolate' ? 'Isolate' : 'Unisolate',
          status: 'Pending',
        });
      }
      // CrowdStrike Falcon
      if (req.method === 'POST' && url.pathname === '/falcon/oauth2/token') {
        const form = new URLSearchParams(body);
        const ok = form.get('client_id') === 'app-1' && form.get('client_secret') === 's3cret';
        return ok
          ? answer(201, { access_token: 'tok-123', expires_in: 1799, token_type: 'bearer' })
          : answer(401, {});
      }
      if (url.pathname === '/falcon/devices/queries/devices/v1' && req.method === 'GET') {
        const filter = /^hostname:'(.*)'$/.exec(url.searchParams.get('filter') ?? '');
        if (!bearer || !filter) return answer(400, { errors: [{ message: 'bad filter' }] });
        const id = machines[filter[1]!];
        return answer(200, { resources: id ? [id] : [], errors: [] });
      }
      if (url.pathname === '/falcon/devices/entities/devices-actions/v2' && req.method === 'POST') {
        const action = url.searchParams.get('action_name');
        const json = JSON.parse(body || '{}');
        if (!bearer || !['contain', 'lift_containment'].includes(action ?? '') || !Array.isArray(json.ids))
          return answer(400, { errors: [{ message: 'bad request' }] });
        for (const id of json.ids) action === 'contain' ? isolated.add(id) : isolated.delete(id);
        return answer(202, { resources: json.ids.map((id: string) => ({ id })), errors: [] });
      }
      answer(404, { error: `no route ${req.method} ${url.pathname}` });
    });
  });
  return {
    server,
    seen,
    isolated,
    failNext,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
}

const alert: AlertFacts = {
  id: 9,
  tenant: 'acme',
  rule: { id: null, title: 'Ransomware Behaviour', level: 'critical' },
  host: 'ws7.corp.example',
  techniques: ['T1486'],
  tactics: ['impact'],
  fields: {},
};
const [playbook] = parsePlaybooks(
  `name: contain-host
mode: approval
trigger: { techniques: [T1486] }
inputs:
  host: { type: host, from: [host] }
steps:
  - name: isolate
    action: edr.isolate_host
    with: { host: '{{ host }}' }
`,
  'contain.yml',
).playbooks;

describe('EDR connectors (documented API shapes)', () => {
  const api = vendor();
  beforeAll(() => new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => api.server.close(() => resolve())));

  it('Defender for Endpoint: token by client credentials, machine by DNS name, isolate then unisolate', async () => {
    const c = readConnectors(
      `edr:\n  type: defender\n  tenant_id: contoso-tenant\n  client_id: app-1\n  client_secret_env: EDR_SECRET\n  api_url: ${api.url()}/defender\n  login_url: ${api.url()}\n`,
      'connectors.yml',
      { EDR_SECRET: 's3cret' },
    );
    const [done] = await carryOut(planFor(playbook!, alert), { connectors: c, approval: true });
    expect(done).toMatchObject({
      state: 'done',
      result: expect.stringContaining('ws7.corp.example (a1b2c3) isolated'),
    });
    expect(api.isolated.has('a1b2c3')).toBe(true);
    expect(api.seen.map((s) => `${s.method} ${s.path.split('?')[0]}`)).toEqual([
      'POST /contoso-tenant/oauth2/v2.0/token',
      'GET /defender/api/machines',
      'POST /defender/api/machines/a1b2c3/isolate',
    ]);
    expect(await revert(done!, { connectors: c })).toMatchObject({
      result: expect.stringContaining('released'),
    });
    expect(api.isolated.has('a1b2c3')).toBe(false);
    // The token is reused while it is valid.
    expect(api.seen.filter((s) => s.path.includes('oauth2')).length).toBe(1);
  });

  it('CrowdStrike Falcon: contain and lift_containment of the device found by hostname; 503 is retried', async () => {
    api.seen.length = 0;
    const c = readConnectors(
      `edr:\n  type: crowdstrike\n  client_id: app-1\n  client_secret_env: EDR_SECRET\n  api_url: ${api.url()}/falcon\n  login_url: ${api.url()}/falcon\n`,
      'connectors.yml',
      { EDR_SECRET: 's3cret' },
    );
    api.failNext.push(503);
    const [done] = await carryOut(planFor(playbook!, alert), {
      connectors: c,
      approval: true,
      backoffMs: 10,
    });
    expect(done).toMatchObject({ state: 'done', attempts: 2 });
    expect(api.isolated.has('a1b2c3')).toBe(true);
    expect(api.seen.at(-1)!.path).toBe('/falcon/devices/entities/devices-actions/v2?action_name=contain');
    expect(JSON.parse(api.seen.at(-1)!.body)).toEqual({ ids: ['a1b2c3'] });
    await revert(done!, { connectors: c });
    expect(api.seen.at(-1)!.path).toBe(
      '/falcon/devices/entities/devices-actions/v2?action_name=lift_containment',
    );
    expect(api.isolated.has('a1b2c3')).toBe(false);
  });

  it('an unknown host, or a wrong secret, fails without retrying and says why', async () => {
    const c = (secret: string) =>
      readConnectors(
        `edr:\n  type: crowdstrike\n  client_id: app-1\n  client_secret_env: EDR_SECRET\n  api_url: ${api.url()}/falcon\n  login_url: ${api.url()}/falcon\n`,
        'connectors.yml',
        { EDR_SECRET: secret },
      );
    const [unknown] = await carryOut(planFor(playbook!, { ...alert, host: 'nowhere.corp.example' }), {
      connectors: c('s3cret'),
      approval: true,
    });
    expect(unknown).toMatchObject({
      state: 'failed',
      attempts: 1,
      error: expect.stringContaining("no host named 'nowhere.corp.example'"),
    });
    const [refused] = await carryOut(planFor(playbook!, alert), { connectors: c('wrong'), approval: true });
    expect(refused).toMatchObject({
      state: 'failed',
      attempts: 1,
      error: expect.stringContaining('HTTP 401'),
    });
  });
});
