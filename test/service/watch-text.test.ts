import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const FAILED = (n: number) =>
  `Mar 27 13:06:${String(10 + n).padStart(2, '0')} web1 sshd[${1000 + n}]: Failed password for root from 203.0.113.${n} port 4242 ssh2\n`;

const ZEEK_HEADER = [
  '#separator \\x09',
  '#set_separator\t,',
  '#empty_field\t(empty)',
  '#unset_field\t-',
  '#path\tconn',
  '#open\t2024-05-01-10-00-00',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tenum',
].join('\n');
const CONN = (n: number, port: number) =>
  `1714557600.${n}\tC${n}\t10.0.0.${n}\t5${n}000\t10.0.1.1\t${port}\ttcp\n`;

/** One audit event: SYSCALL and EXECVE records, and EOE unless `open` (its end then unknown). */
const AUDIT = (serial: number, open = false) =>
  [
    `type=SYSCALL msg=audit(1714557600.100:${serial}): arch=c000003e syscall=59 success=yes exit=0 a0=55 a1=56 a2=57 a3=0 items=2 ppid=1 pid=${serial} auid=1000 uid=1000 comm="arp" exe="/usr/sbin/arp" key="recon"`,
    `type=EXECVE msg=audit(1714557600.100:${serial}): argc=2 a0="arp" a1="-a"`,
    ...(open ? [] : [`type=EOE msg=audit(1714557600.100:${serial}): `]),
    '',
  ].join('\n');

const W3C = (path: string) => `2024-05-01 10:00:00 GET ${path} 200\n`;

const RULES: Record<string, string> = {
  'ssh.yml':
    "title: Failed password for root\nlogsource: { product: linux, service: sshd }\ndetection: { keywords: ['Failed password for root'], condition: keywords }\n",
  'rdp.yml':
    'title: RDP connection\nlogsource: { product: zeek, service: conn }\ndetection: { selection: { id.resp_p: 3389 }, condition: selection }\n',
  'arp.yml':
    'title: arp run\nlogsource: { product: linux, service: auditd }\ndetection: { selection: { type: EXECVE, a0: arp }, condition: selection }\n',
  'exfil.yml':
    "title: Mail to the drop\nlogsource: { product: exchange, service: message_tracking }\ndetection: { selection: { event-id: SEND, recipient-address|endswith: '@exfil.example' }, condition: selection }\n",
  'shell.yml':
    "title: Web shell request\nlogsource: { category: webserver }\ndetection: { selection: { cs-uri-stem|endswith: '/cmd.aspx' }, condition: selection }\n",
};

async function settled(service: RunningService, token: string, want: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 200; i++) {
    last = (await api(service, token, 'GET', '/api/v1/stats')).body.accepted;
    if (last === want) {
      // Stays there: nothing read twice.
      await new Promise((r) => setTimeout(r, 2500));
      return (await api(service, token, 'GET', '/api/v1/stats')).body.accepted;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('vigil serve --watch takes text logs of every format', () => {
  let dir: string;
  let service: RunningService | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-watch-text-'));
  });
  afterAll(() => {
    if (service && service.process.exitCode === null) service.process.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads each as it grows, headers and positions kept across a restart, audit events whole', async () => {
    const data = join(dir, 'data');
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    mkdirSync(join(dir, 'rules'));
    for (const [name, text] of Object.entries(RULES))
      writeFileSync(join(dir, 'rules', name), `${text}status: test\nlevel: medium\n`);
    const tokens = await provision(data, 'acme', ['viewer']);
    writeFileSync(join(drop, 'auth.log'), `${FAILED(1)}${FAILED(2)}not a syslog line\n`);
    writeFileSync(join(drop, 'conn.log'), `${ZEEK_HEADER}\n${CONN(1, 443)}${CONN(2, 3389)}`);
    // The second event's end is not written yet: it is taken once the file has held still.
    writeFileSync(join(drop, 'audit.log'), `${AUDIT(101)}${AUDIT(102, true)}`);
    copyFileSync(
      join(import.meta.dirname, '..', 'fixtures', 'logs', 'MSGTRK2024050110-1.LOG'),
      join(drop, 'MSGTRK2024050110-1.LOG'),
    );
    writeFileSync(
      join(drop, 'u_ex240501.log'),
      `#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-method cs-uri-stem sc-status\n${W3C('/index.html')}`,
    );
    writeFileSync(join(drop, 'notes'), 'just some words\n');
    // Zeek's JSON logs keep the .log name: taken line by line as JSON.
    writeFileSync(
      join(drop, 'dns.log'),
      `${JSON.stringify({ _path: 'dns', ts: 1714557600.1, uid: 'D1', query: 'example.com', qtype_name: 'A' })}\n`,
    );
    const start = () =>
      startService(data, ['--rules', join(dir, 'rules'), '--watch', drop, '--tenant', 'acme'], {
        VIGIL_HOME: join(dir, 'home'),
      });
    service = await start();
    // auth.log 2, conn.log 2, audit.log 2 events, message tracking 5, W3C 1, Zeek JSON 1.
    expect(await settled(service, tokens.viewer!, 13)).toBe(13);
    appendFileSync(join(drop, 'auth.log'), FAILED(3));
    expect(await settled(service, tokens.viewer!, 14)).toBe(14);
    expect(service.log()).toMatch(/auth\.log: the record at byte \d+: not a syslog line/);
    expect(service.log()).toMatch(/notes: a log of no known format; not taken/);
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(0);

    // After a restart: the headers are read again from each file's start, nothing is taken twice.
    appendFileSync(join(drop, 'conn.log'), CONN(3, 3389));
    appendFileSync(join(drop, 'audit.log'), AUDIT(103));
    appendFileSync(join(drop, 'u_ex240501.log'), W3C('/uploads/cmd.aspx'));
    service = await start();
    expect(await settled(service, tokens.viewer!, 17)).toBe(17);
    const fired = async (rule: string) =>
      (
        await api(
          service!,
          tokens.viewer,
          'GET',
          `/api/v1/detections?rule=${encodeURIComponent(rule)}&limit=20`,
        )
      ).body.detections as { event: Record<string, unknown> }[];
    expect(await fired('Failed password for root')).toHaveLength(3);
    expect((await fired('RDP connection')).map((d) => d.event.uid).sort()).toEqual(['C2', 'C3']);
    const arp = await fired('arp run');
    expect(arp.map((d) => d.event.pid).sort()).toEqual(['101', '102', '103']);
    expect(arp[0]!.event.type).toEqual(expect.arrayContaining(['SYSCALL', 'EXECVE']));
    expect(await fired('Mail to the drop')).toHaveLength(1);
    expect((await fired('Web shell request')).map((d) => d.event['cs-uri-stem'])).toEqual([
      '/uploads/cmd.aspx',
    ]);
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  }, 120_000);
});
