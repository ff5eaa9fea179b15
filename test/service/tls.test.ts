import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { provision, type RunningService, startService } from '../helpers/serve.js';

/** A CA, a server certificate for 127.0.0.1 and a client (agent) certificate, made with openssl. */
function makeCertificates(dir: string): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Vigil test CA',
  ]);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn, ext] of [
    ['server', 'vigil', ['-extfile', 'server.ext']],
    ['agent', 'agent-1', []],
  ] as const) {
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    run([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...ext,
    ]);
  }
}

function get(
  url: string,
  token: string,
  tls: { ca: Buffer; cert?: Buffer; key?: Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/stats`,
      { headers: { authorization: `Bearer ${token}` }, ...tls },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A console request over HTTPS with the agent's certificate: the status and the cookies set. */
function consoleCall(
  url: string,
  tls: { ca: Buffer; cert: Buffer; key: Buffer },
  method: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...tls }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: text, cookies: res.headers['set-cookie'] ?? [] }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('vigil serve over TLS', () => {
  let dir: string;
  let service: RunningService;
  let tokens: Record<string, string>;
  const file = (name: string) => readFileSync(join(dir, name));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-tls-'));
    makeCertificates(dir);
    mkdirSync(join(dir, 'rules'));
    writeFileSync(
      join(dir, 'rules', 'r.yml'),
      "title: Sudo to root\nstatus: test\nlogsource: { product: linux }\ndetection: { keywords: ['COMMAND=/bin/bash'], condition: keywords }\nlevel: high\n",
    );
    tokens = await provision(join(dir, 'data'), 'acme', ['viewer']);
    service = await startService(
      join(dir, 'data'),
      [
        '--rules',
        join(dir, 'rules'),
        '--tls-cert',
        join(dir, 'server.pem'),
        '--tls-key',
        join(dir, 'server.key'),
        '--tls-client-ca',
        join(dir, 'ca.pem'),
        '--syslog-tls',
        '127.0.0.1:0',
        '--tenant',
        'acme',
      ],
      { VIGIL_HOME: join(dir, 'home') },
    );
  }, 60_000);
  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS to clients with a certificate of its CA only', async () => {
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = await get(service.url, tokens.viewer!, {
      ca: file('ca.pem'),
      cert: file('agent.pem'),
      key: file('agent.key'),
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ accepted: 0 });
    await expect(get(service.url, tokens.viewer!, { ca: file('ca.pem') })).rejects.toThrow();
  });

  it('marks the console cookies Secure over HTTPS', async () => {
    const tls = { ca: file('ca.pem'), cert: file('agent.pem'), key: file('agent.key') };
    const form = await consoleCall(`${service.url}/console/sign-in`, tls, 'GET');
    const nonce = /name="_signin" value="([^"]+)"/.exec(form.body)![1]!;
    expect(form.cookies[0]).toMatch(/^vigil_signin=[^;]+; Path=\/console; HttpOnly; SameSite=Strict; Secure/);
    const signedIn = await consoleCall(
      `${service.url}/console/sign-in`,
      tls,
      'POST',
      {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `vigil_signin=${nonce}`,
      },
      new URLSearchParams({ _signin: nonce, token: tokens.viewer! }).toString(),
    );
    expect(signedIn.status).toBe(303);
    const session = signedIn.cookies.find((c) => c.startsWith('vigil_session='));
    expect(session).toMatch(/; Path=\/console; HttpOnly; SameSite=Strict; Secure; Max-Age=\d+$/);
  });

  it('takes syslog over TLS (RFC 5425 octet counting) from an agent with a certificate', async () => {
    const port = Number(/syslog over TLS on 127\.0\.0\.1:(\d+)/.exec(service.log())![1]);
    const socket = connect({
      port,
      host: '127.0.0.1',
      ca: file('ca.pem'),
      cert: file('agent.pem'),
      key: file('agent.key'),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const message =
      '<86>1 2026-01-01T10:00:00Z bastion sudo - - - alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash';
    socket.end(`${Buffer.byteLength(message)} ${message}`);
    let detections = 0;
    for (let i = 0; i < 100 && detections === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      detections = JSON.parse(
        (
          await get(service.url, tokens.viewer!, {
            ca: file('ca.pem'),
            cert: file('agent.pem'),
            key: file('agent.key'),
          })
        ).body,
      ).detections;
    }
    expect(detections).toBe(1);
  });

  it('refuses to listen in clear off loopback unless told it may', () => {
    const refused = vigil([
      'serve',
      '--data',
      join(dir, 'other'),
      '--listen',
      '0.0.0.0:0',
      '--rules',
      join(dir, 'rules'),
    ]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/without TLS .*--allow-plaintext/);
    const syslog = vigil([
      'serve',
      '--data',
      join(dir, 'other'),
      '--rules',
      join(dir, 'rules'),
      '--syslog-udp',
      '5514',
      '--tenant',
      'acme',
    ]);
    expect(syslog.status).toBe(2);
    expect(syslog.stderr).toMatch(/syslog over UDP on 0\.0\.0\.0:5514 travels in clear/);
  });
});
