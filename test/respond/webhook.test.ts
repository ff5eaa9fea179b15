import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carryOut, type Plan, readConnectors, webhookSignature } from '../../src/respond/index.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A webhook receiver that answers each request with the next status of a script (then 200). */
function receiver(): { server: Server; received: Received[]; script: number[]; url: () => string } {
  const received: Received[] = [];
  const script: number[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = script.shift() ?? 200;
      res.end();
    });
  });
  return {
    server,
    received,
    script,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/SECRET`,
  };
}

const plan = (text: string): Plan => ({
  playbook: 'notify-critical',
  alert: { id: 1, tenant: 'acme', rule: 'r', level: 'critical', host: 'h' },
  inputs: {},
  steps: [
    {
      name: 'page',
      kind: 'action',
      action: 'notify.message',
      mode: 'auto',
      params: { title: 'Critical', text },
      key: 'acme:1:notify-critical:page',
    },
  ],
});

describe('webhook connector', () => {
  const hook = receiver();
  beforeAll(() => new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => new Promise<void>((resolve) => hook.server.close(() => resolve())));

  it('signs the body with HMAC-SHA256 over timestamp and body, in Slack format; the secret URL is never described', async () => {
    const connectors = readConnectors(
      `notify:\n  type: webhook\n  url_env: HOOK_URL\n  format: slack\n  hmac_secret_env: HOOK_KEY\n`,
      'connectors.yml',
      { HOOK_URL: hook.url(), HOOK_KEY: 'k3y' },
    );
    const [outcome] = await carryOut(plan('on dc1'), { connectors });
    expect(outcome).toMatchObject({ state: 'done', attempts: 1 });
    expect(outcome!.request).not.toContain('SECRET');
    const got = hook.received.at(-1)!;
    expect(JSON.parse(got.body)).toEqual({ text: '*Critical*\non dc1' });
    const timestamp = String(got.headers['x-vigil-timestamp']);
    expect(got.headers['x-vigil-signature']).toBe(webhookSignature('k3y', timestamp, got.body));
    expect(webhookSignature('other', timestamp, got.body)).not.toBe(got.headers['x-vigil-signature']);
  });

  it('retries a 503 with back-off and stops at a 400, saying so', async () => {
    const connectors = readConnectors(
      `notify:\n  type: webhook\n  url: ${hook.url()}\n  format: teams\n`,
      'c.yml',
    );
    hook.script.push(503, 503);
    const [retried] = await carryOut(plan('x'), { connectors, backoffMs: 10 });
    expect(retried).toMatchObject({ state: 'done', attempts: 3 });
    expect(JSON.parse(hook.received.at(-1)!.body)).toMatchObject({
      '@type': 'MessageCard',
      title: 'Critical',
      text: 'x',
    });

    hook.script.push(400);
    const [refused] = await carryOut(plan('x'), { connectors, backoffMs: 10 });
    expect(refused).toMatchObject({
      state: 'failed',
      attempts: 1,
      error: expect.stringContaining('HTTP 400'),
    });

    hook.script.push(503, 503, 503);
    const [gaveUp] = await carryOut(plan('x'), { connectors, backoffMs: 10 });
    expect(gaveUp).toMatchObject({
      state: 'failed',
      attempts: 3,
      error: expect.stringContaining('HTTP 503'),
    });
  });

  it('refuses a secret file others can read, and a missing secret variable, naming the field', () => {
    expect(() =>
      readConnectors(
        `notify:\n  type: webhook\n  url: http://x.example/\n  hmac_secret_env: NOPE\n`,
        'c.yml',
        {},
      ),
    ).toThrow(/NOPE is not set/);
    expect(() =>
      readConnectors(
        `notify:\n  type: webhook\n  url: http://x.example/\n  hmac_secret_file: /etc/hostname\n`,
        'c.yml',
      ),
    ).toThrow(/can be read by others than its owner/);
    expect(() =>
      readConnectors(
        `notify:\n  type: webhook\n  url: https://x.example/\n  tls: { ca: /nowhere/ca.pem }\n`,
        'c.yml',
      ),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('cannot read /nowhere/ca.pem'),
        location: expect.objectContaining({ field: 'notify.tls.ca' }),
      }),
    );
    expect(() => readConnectors(`firewall:\n  type: iptables\n`, 'c.yml')).toThrow(
      expect.objectContaining({ location: expect.objectContaining({ line: 2, field: 'firewall.type' }) }),
    );
  });
});
