import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carryOut, type Plan, readConnectors } from '../../src/respond/index.js';

/**
 * The mail connector against a local SMTP server written for the test (RFC 5321: greeting, EHLO,
 * STARTTLS with a certificate made by openssl, AUTH PLAIN, MAIL, RCPT, DATA, QUIT), which keeps each
 * message it accepts and can be told to answer a command with an error.
 */

interface Mail {
  from: string;
  to: string[];
  data: string;
  auth?: string;
  secure: boolean;
}

function smtpServer(tls: { key: Buffer; cert: Buffer }) {
  const mails: Mail[] = [];
  const refuse = new Map<string, string>();
  const server: Server = createServer((raw) => {
    let socket: Socket | TLSSocket = raw;
    let mail: Partial<Mail> = { to: [], secure: false };
    let data: string | undefined;
    let buffer = '';
    const say = (line: string) => socket.write(`${line}\r\n`);
    const onLine = (line: string) => {
      if (data !== undefined) {
        if (line === '.') {
          mails.push({ ...(mail as Mail), data });
          data = undefined;
          mail = { to: [], secure: mail.secure, auth: mail.auth };
          return say('250 2.0.0 queued as T1');
        }
        data += `${line}\r\n`;
        return;
      }
      const verb = line.split(/[ :]/)[0]!.toUpperCase();
      const refusal = refuse.get(verb);
      if (refusal) {
        refuse.delete(verb);
        return say(refusal);
      }
      if (verb === 'EHLO')
        return say(
          `250-test.smtp greets you\r\n250-AUTH PLAIN${mail.secure ? '' : '\r\n250-STARTTLS'}\r\n250 8BITMIME`,
        );
      if (verb === 'STARTTLS') {
        say('220 2.0.0 ready');
        raw.removeAllListeners('data');
        const secure = new TLSSocket(raw, { isServer: true, key: tls.key, cert: tls.cert });
        socket = secure;
        mail.secure = true;
        listen(secure);
        return;
      }
      if (verb === 'AUTH') {
        mail.auth = Buffer.from(line.split(' ')[2]!, 'base64').toString();
        return say('235 2.7.0 accepted');
      }
      if (verb === 'MAIL') {
        mail.from = /<(.*)>/.exec(line)![1]!;
        return say('250 2.1.0 ok');
      }
      if (verb === 'RCPT') {
        mail.to!.push(/<(.*)>/.exec(line)![1]!);
        return say('250 2.1.5 ok');
      }
      if (verb === 'DATA') {
        data = '';
        return say('354 go ahead');
      }
      if (verb === 'QUIT') {
        say('221 bye');
        return socket.end();
      }
      say('502 5.5.2 unknown command');
    };
    const listen = (s: Socket | TLSSocket) =>
      s.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          onLine(line);
        }
      });
    listen(raw);
    say('220 test.smtp ESMTP');
  });
  return { server, mails, refuse, port: () => (server.address() as AddressInfo).port };
}

const plan = (subject: string, text: string): Plan => ({
  playbook: 'mail-critical',
  alert: { id: 3, tenant: 'acme', rule: 'r', level: 'critical', host: 'h' },
  inputs: {},
  steps: [
    {
      name: 'mail',
      kind: 'action',
      action: 'email.message',
      mode: 'auto',
      params: { subject, text },
      key: 'acme:3:mail-critical:mail',
    },
  ],
});

describe('mail connector (SMTP)', () => {
  let dir: string;
  let smtp: ReturnType<typeof smtpServer>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-smtp-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    smtp = smtpServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
    await new Promise<void>((resolve) => smtp.server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => smtp.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const connectors = (extra = '') =>
    readConnectors(
      `email:\n  type: smtp\n  host: localhost\n  port: ${smtp.port()}\n  from: vigil@corp.example\n  to: [soc@corp.example, oncall@corp.example]\n  ca: ${join(dir, 'cert.pem')}\n${extra}`,
      'connectors.yml',
      { SMTP_PW: 'pw' },
    );

  it('sends over STARTTLS with AUTH PLAIN to every recipient; the text is dot-stuffed and the subject encoded', async () => {
    const [sent] = await carryOut(
      plan('Critical: Ransomware on ws7 — ßig', 'first line\n.hidden dot\nlast'),
      {
        connectors: connectors('  username: vigil\n  password_env: SMTP_PW\n'),
      },
    );
    expect(sent).toMatchObject({
      state: 'done',
      result: expect.stringContaining('mail sent to soc@corp.example, oncall@corp.example'),
    });
    const mail = smtp.mails.at(-1)!;
    expect(mail).toMatchObject({
      from: 'vigil@corp.example',
      to: ['soc@corp.example', 'oncall@corp.example'],
      secure: true,
      auth: '\0vigil\0pw',
    });
    expect(mail.data).toMatch(/^Subject: =\?UTF-8\?B\?.+\?=\r$/m);
    expect(mail.data).toContain('Content-Type: text/plain; charset=utf-8');
    // The server sees the stuffed line; a reader removes the extra dot (RFC 5321 4.5.2).
    expect(mail.data).toContain('\r\n\r\nfirst line\r\n..hidden dot\r\nlast\r\n');
  });

  it('retries a temporary refusal (4xx) and gives up at once on a permanent one (5xx)', async () => {
    smtp.refuse.set('MAIL', '451 4.3.0 try again later');
    const [retried] = await carryOut(plan('s', 't'), { connectors: connectors(), backoffMs: 10 });
    expect(retried).toMatchObject({ state: 'done', attempts: 2 });
    smtp.refuse.set('RCPT', '550 5.1.1 no such mailbox');
    const [refused] = await carryOut(plan('s', 't'), { connectors: connectors(), backoffMs: 10 });
    expect(refused).toMatchObject({
      state: 'failed',
      attempts: 1,
      error: expect.stringContaining('550 5.1.1'),
    });
  });

  it('refuses a relay it cannot trust, and a recipient that is not an address', async () => {
    const untrusted = readConnectors(
      `email:\n  type: smtp\n  host: localhost\n  port: ${smtp.port()}\n  from: vigil@corp.example\n  to: [soc@corp.example]\n`,
      'c.yml',
    );
    const [failed] = await carryOut(plan('s', 't'), { connectors: untrusted, backoffMs: 10 });
    expect(failed!.state).toBe('failed');
    expect(failed!.error).toMatch(/certificate/i);
    expect(() =>
      readConnectors(
        'email:\n  type: smtp\n  host: x\n  from: a@b.c\n  to: ["soc@corp.example>\\r\\nRCPT TO:<x@y.z"]\n',
        'c.yml',
      ),
    ).toThrow(/mail address/);
  });
});
