import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogEvent, VigilError } from '../../src/core/index.js';
import { readEvents, sniffFormat, type TextFormat } from '../../src/logs/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

async function write(name: string, text: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-text-'));
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function readAll(file: string): Promise<{ events: LogEvent[]; errors: VigilError[] }> {
  const events: LogEvent[] = [];
  const errors: VigilError[] = [];
  for await (const event of readEvents(file, { onError: (e) => errors.push(e) })) events.push(event);
  return { events, errors };
}

describe('text formats are told by content, not by name', () => {
  const cases: [string, TextFormat | 'json' | undefined][] = [
    ['type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59', 'auditd'],
    ['node=web1 type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0="arp" a1="-a"', 'auditd'],
    ['Mar 27 13:06:56 ip-10-77-20-248 sshd[1291]: Server listening on 0.0.0.0 port 22.', 'syslog'],
    ['<34>1 2024-05-01T10:00:00Z host app - - - hi', 'syslog'],
    ['83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 203 "-" "curl/8"', 'access'],
    ['#Software: Microsoft Internet Information Services 10.0', 'w3c'],
    ['#separator \\x09', 'zeek-tsv'],
    [
      '1386543323.000      4 91.188.124.227 TCP_DENIED/403 4099 GET http://x/a.php - HIER_NONE/- text/html',
      'squid',
    ],
    ['2013-01-04 17:03:46 login authenticator failed for x ([192.168.2.33]) [24.106.174.74]: 535', 'exim'],
    ['#Software: Microsoft Exchange Server\n#Log-type: Message Tracking Log', 'message-tracking'],
    ['#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace', 'csv'],
    ['"Received","SenderAddress","RecipientAddress","Status"', 'csv'],
    ['  {"a": 1}', 'json'],
    ['just some words', undefined],
  ];
  it.each(cases)('%s', (line, format) => {
    expect(sniffFormat(Buffer.from(`\n${line}\nmore\n`))).toBe(format);
  });
});

describe('auditd', () => {
  it('joins the records of one serial, decodes hex values and joins split EXECVE arguments', async () => {
    const file = await write(
      'audit.log',
      [
        'type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes a0=558e251634a0 comm="arp" exe="/usr/sbin/arp" key=(null)',
        'type=EXECVE msg=audit(1604994496.155:92733): argc=3 a0="bash" a1="-c" a2_len=12 a2[0]=6563686F20 a2[1]="hi there"',
        'type=PATH msg=audit(1604994496.155:92733): item=0 name=2F746D702F6120622E7368 nametype=NORMAL',
        'type=PATH msg=audit(1604994496.155:92733): item=1 name="/lib64/ld-linux-x86-64.so.2" nametype=NORMAL',
        'type=PROCTITLE msg=audit(1604994496.155:92733): proctitle=62617368002D6300',
        'type=USER_LOGIN msg=audit(1492896301.818:19955): pid=12635 uid=0 msg=\'op=login acct=28696E76616C6964207573657229 exe="/usr/sbin/sshd" res=failed\'',
        'type=DAEMON_END msg=audit(1481078697.892:7799): auditd normal halt, sending auid=0 pid=1 res=success',
      ].join('\n'),
    );
    const { events, errors } = await readAll(file);
    expect(errors).toEqual([]);
    expect(events).toHaveLength(3);
    const [exec, login, daemon] = events.map((e) => e.fields);
    expect(exec).toMatchObject({
      type: ['SYSCALL', 'EXECVE', 'PATH', 'PATH', 'PROCTITLE'],
      msg: 'audit(1604994496.155:92733)',
      exe: '/usr/sbin/arp',
      a0: ['558e251634a0', 'bash'],
      a2: 'echo hi there',
      name: ['/tmp/a b.sh', '/lib64/ld-linux-x86-64.so.2'],
      proctitle: 'bash -c',
    });
    expect(events[0]!.time).toBe(1604994496155);
    expect(events[0]!.source.line).toBe(1);
    expect(login).toMatchObject({
      type: 'USER_LOGIN',
      acct: '(invalid user)',
      exe: '/usr/sbin/sshd',
      res: 'failed',
    });
    expect(daemon).toMatchObject({ type: 'DAEMON_END', text: 'auditd normal halt, sending', auid: '0' });
    expect(events[2]!.source.line).toBe(7);
  });
});

describe('web and proxy logs', () => {
  it('reads Combined and Common lines, unescaped quotes in the request included', async () => {
    const file = await write(
      'access',
      [
        '83.149.9.216 - bob [17/May/2015:10:05:03 +0200] "GET /a/b.php?x=1 HTTP/1.1" 200 203 "http://ref/" "Mozilla/5.0 \\"x\\""',
        '192.168.105.83 - - [11/Jul/2018:09:32:27 +0300] "GET /x?postdata="><script>foo</script> HTTP/1.1" 404 997',
      ].join('\n'),
    );
    const { events, errors } = await readAll(file);
    expect(errors).toEqual([]);
    expect(events[0]!.fields).toMatchObject({
      remote_host: '83.149.9.216',
      remote_user: 'bob',
      method: 'GET',
      uri: '/a/b.php?x=1',
      path: '/a/b.php',
      query: 'x=1',
      protocol: 'HTTP/1.1',
      status: 200,
      bytes: 203,
      referer: 'http://ref/',
      user_agent: 'Mozilla/5.0 "x"',
    });
    expect(events[0]!.time).toBe(Date.UTC(2015, 4, 17, 8, 5, 3));
    expect(events[1]!.fields.uri).toBe('/x?postdata="><script>foo</script>');
  });

  it('reads W3C extended logs by their #Fields header, and a header change mid-file', async () => {
    const file = await write(
      'u_ex.log',
      [
        '#Software: Microsoft Internet Information Services 10.0',
        '#Fields: date time cs-method cs-uri-stem cs-uri-query cs(User-Agent) sc-status',
        '2019-09-03 10:04:35 POST /owa/auth/x.aspx cmd=whoami Mozilla/5.0+(Windows) 200',
        '#Fields: date time cs-method cs-uri-stem',
        '2019-09-03 10:04:36 GET /',
        '2019-09-03 10:04:37 GET / too many',
      ].join('\r\n'),
    );
    const { events, errors } = await readAll(file);
    expect(events.map((e) => e.fields)).toMatchObject([
      {
        'cs-method': 'POST',
        'cs-uri-stem': '/owa/auth/x.aspx',
        'cs-uri-query': 'cmd=whoami',
        'cs-uri': '/owa/auth/x.aspx?cmd=whoami',
        'cs(User-Agent)': 'Mozilla/5.0+(Windows)',
        'sc-status': 200,
      },
      { 'cs-method': 'GET', 'cs-uri': '/' },
    ]);
    expect(events[0]!.time).toBe(Date.UTC(2019, 8, 3, 10, 4, 35));
    expect(errors.map((e) => [e.location.line, e.message])).toEqual([[6, '6 values where #Fields: names 4']]);
  });

  it('reads Squid native lines with the URL host and extension', async () => {
    const file = await write(
      'access.log',
      '1386543323.000      4 91.188.124.227 TCP_DENIED/403 4099 GET http://www.proxy-listen.de/azenv.php - HIER_NONE/- text/html\n',
    );
    const { events } = await readAll(file);
    expect(events[0]!.fields).toMatchObject({
      remotehost: '91.188.124.227',
      result_code: 'TCP_DENIED',
      status: 403,
      method: 'GET',
      url: 'http://www.proxy-listen.de/azenv.php',
      url_host: 'www.proxy-listen.de',
      url_extension: 'php',
      hierarchy_code: 'HIER_NONE',
    });
    expect(events[0]!.time).toBe(1386543323000);
    const other = await write(
      'access2.log',
      [
        '1386543500.000      5 175.44.0.184 NONE/405 3364 CONNECT error:method-not-allowed - HIER_NONE/- text/html',
        '1386543501.000      5 175.44.0.184 TCP_TUNNEL/200 3364 CONNECT example.com:443 - HIER_DIRECT/93.184.216.34 -',
      ].join('\n'),
    );
    expect((await readAll(other)).events.map((e) => e.fields.url_host)).toEqual([null, 'example.com']);
  });
});

describe('Zeek TSV', () => {
  it('types values by #types, leaves unset fields out and names the log by #path', async () => {
    const file = await write(
      'conn.log',
      [
        '#separator \\x09',
        '#set_separator\t,',
        '#empty_field\t(empty)',
        '#unset_field\t-',
        '#path\tconn',
        '#fields\tts\tuid\tid.orig_h\tid.resp_p\tservice\tlocal_orig\ttunnel_parents',
        '#types\ttime\tstring\taddr\tport\tstring\tbool\tset[string]',
        '1692161622.036086\tCnsu5\t192.168.1.41\t53\t-\tT\t(empty)',
        '1692161622.5\tCx\t10.0.0.1\t80\thttp\tF\ta,b',
        '#close\t2023-08-16-05-00-00',
      ].join('\n'),
    );
    const { events, errors } = await readAll(file);
    expect(errors).toEqual([]);
    expect(events.map((e) => e.fields)).toEqual([
      {
        _path: 'conn',
        ts: 1692161622.036086,
        uid: 'Cnsu5',
        'id.orig_h': '192.168.1.41',
        'id.resp_p': 53,
        local_orig: true,
        tunnel_parents: [],
      },
      {
        _path: 'conn',
        ts: 1692161622.5,
        uid: 'Cx',
        'id.orig_h': '10.0.0.1',
        'id.resp_p': 80,
        service: 'http',
        local_orig: false,
        tunnel_parents: ['a', 'b'],
      },
    ]);
    expect(events[0]!.time).toBe(1692161622036);
  });
});

describe('mail logs', () => {
  it('reads Exim mainlog lines, with or without the syslog header before them', async () => {
    const file = await write(
      'mainlog',
      [
        '2013-06-12 03:57:58 [1234] 1RlB3X-0004Ls-00 login authenticator failed for (ylmf-pc) [120.196.140.45]: 535',
        'mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed',
      ].join('\n'),
    );
    const { events, errors } = await readAll(file);
    expect(errors).toEqual([]);
    expect(events.map((e) => e.fields)).toMatchObject([
      { app: 'exim', pid: 1234, message_id: '1RlB3X-0004Ls-00', message: expect.stringMatching(/^login/) },
      { app: 'exim', message: 'plain_server authenticator failed' },
    ]);
    expect(events[0]!.time).toBe(Date.UTC(2013, 5, 12, 3, 57, 58));
  });

  it('reads syslog files with the programs and pids of their lines', async () => {
    const file = await write(
      'maillog',
      'Jan 29 08:11:45 mail postfix-incoming/smtpd[10752]: warning: unknown[1.1.1.1]: SASL LOGIN authentication failed\nnot a syslog line\n',
    );
    const { events, errors } = await readAll(file);
    expect(events.map((e) => e.fields)).toMatchObject([
      { host: 'mail', app: 'postfix-incoming/smtpd', pid: 10752 },
    ]);
    expect(errors.map((e) => [e.code, e.location.line])).toEqual([['LOG_RECORD', 2]]);
  });
});

describe('email traces', () => {
  const fixture = (name: string) => join(import.meta.dirname, '..', 'fixtures', 'logs', name);

  it('reads Exchange message tracking logs by their #Fields: header, quoted values included', async () => {
    const { events, errors } = await readAll(fixture('MSGTRK2024050110-1.LOG'));
    expect(errors).toEqual([]);
    expect(events.map((e) => e.fields['event-id'])).toEqual([
      'RECEIVE',
      'AGENTINFO',
      'DELIVER',
      'SEND',
      'FAIL',
    ]);
    expect(events[0]!.fields).toMatchObject({
      'client-ip': '203.0.113.7',
      'source-context': expect.stringContaining('[InternalId=1234, Hostname=EX01]'),
      'recipient-address': 'alice@contoso.com;bob@contoso.com',
      'message-subject': 'Invoice 4711, due "today"',
      'total-bytes': 48213,
      'recipient-count': 2,
    });
    expect(events[1]!.fields['client-ip']).toBeUndefined();
    expect(events[0]!.time).toBe(Date.parse('2024-05-01T10:00:01.123Z'));
  });

  it('reads a CSV export (Get-MessageTrace | Export-Csv) by its header, US dates as UTC', async () => {
    const { events, errors } = await readAll(fixture('message-trace.csv'));
    expect(errors).toEqual([]);
    expect(events).toHaveLength(4);
    expect(events[0]!.fields).toMatchObject({
      SenderAddress: 'mallory@fabrikam.example',
      RecipientAddress: 'alice@contoso.com',
      Subject: 'Invoice 4711, due "today"',
      Status: 'Delivered',
      FromIP: '203.0.113.7',
    });
    expect(events[0]!.fields.ToIP).toBeUndefined();
    expect(events.map((e) => e.time)).toEqual([
      Date.UTC(2024, 4, 1, 10, 0, 1),
      Date.UTC(2024, 4, 1, 10, 0, 1),
      Date.UTC(2024, 4, 1, 12, 5, 0),
      Date.UTC(2024, 4, 1, 0, 30, 0),
    ]);
  });

  it('reports a line whose values do not fit the header, an open quote, and a record before any header', async () => {
    const file = await write(
      'trace.csv',
      'Received,SenderAddress,RecipientAddress\n2024-05-01T10:00:00Z,a@x,b@y\n2024-05-01T10:00:00Z,a@x\n"open,b,c\n',
    );
    const { events, errors } = await readAll(file);
    expect(events).toHaveLength(1);
    expect(errors.map((e) => [e.code, e.location.line])).toEqual([
      ['LOG_RECORD', 3],
      ['LOG_RECORD', 4],
    ]);
    const headless = await write(
      'MSGTRK1.LOG',
      '#Software: Microsoft Exchange Server\n#Log-type: Message Tracking Log\n2024-05-01T10:00:00Z,a\n',
    );
    expect((await readAll(headless)).errors[0]!.message).toMatch(/before any #Fields: line/);
  });
});

describe.skipIf(!hasContent)('damaged lines of real logs (mutation fuzzing)', () => {
  const samples = [
    'linux-auditd/otrf_T1018_arp_cache_discovery.audit.log',
    'linux-auditd/go-libaudit_rhel7_record_types.audit.log',
    'linux-auth/elastic-examples_ec2_auth.log',
    'web-attack-evtx-samples/tomcat_web_attack_and_webshell.access.log',
    'web-attack-evtx-samples/iis_tunna_rdp_tunnel_webshell.w3c.log',
    'zeek-stratosphere-simda/dns.log',
    'proxy-squid-fail2ban/squid_access.log',
    'email-fail2ban/exim_mainlog.log',
  ];
  // Formats with no public sample: the hand-made files of test/fixtures/logs.
  const fixtures = ['MSGTRK2024050110-1.LOG', 'message-trace.csv'].map((name) =>
    join(import.meta.dirname, '..', 'fixtures', 'logs', name),
  );
  it.each([...samples, ...fixtures])('%s: reported and skipped, never a crash', async (sample) => {
    const path = sample.startsWith('/')
      ? sample
      : contentPath('..', 'datasets', 'logs-beyond-windows', sample);
    const lines = (await readFile(path)).toString('latin1').split('\n').slice(0, 300);
    let seed = 4242;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const dir = await mkdtemp(join(tmpdir(), 'vigil-text-fuzz-'));
    for (let round = 0; round < 12; round++) {
      const mutated = lines.map((line) => {
        if (random(4) !== 0 || line.length === 0) return line;
        const chars = [...line];
        const kind = random(4);
        const at = random(chars.length);
        if (kind === 0)
          chars.splice(at, random(40)); // a cut
        else if (kind === 1)
          chars[at] = String.fromCharCode(random(256)); // a flipped byte
        else if (kind === 2)
          chars.splice(at, 0, '"', '=', '[', '(', '#'); // stray syntax
        else return line.slice(0, at); // a truncated line
        return chars.join('');
      });
      // The first line keeps the file's format: a damaged header is another test (below).
      mutated[0] = lines[0]!;
      const file = join(dir, `${round}-${sample.split('/').slice(-2).join('_')}`);
      await writeFile(file, Buffer.from(mutated.join('\n'), 'latin1'));
      const { events, errors } = await readAll(file);
      const nonEmpty = mutated.filter((l) => l.trim() !== '').length;
      for (const error of errors) {
        expect(error.code).toBe('LOG_RECORD');
        expect(error.location).toMatchObject({ file, line: expect.any(Number) });
      }
      expect(events.length).toBeLessThanOrEqual(nonEmpty);
      expect(events.length + errors.length).toBeGreaterThan(0);
    }
  });

  it('random bytes in a file that starts like a log are reported line by line', async () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const noise = Buffer.alloc(20_000);
    for (let i = 0; i < noise.length; i++) noise[i] = random(256);
    const head = Buffer.from('Mar 27 13:06:56 host sshd[1]: ok\n');
    const file = await write('noise.log', Buffer.concat([head, noise]));
    const { events, errors } = await readAll(file);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === 'LOG_RECORD' && e.location.line! > 1)).toBe(true);
  });
});
