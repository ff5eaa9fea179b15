import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/index.js';
import {
  decodeOtlpLogsJson,
  parseCef,
  parseKeyValues,
  parseSyslog,
  SyslogError,
  syslogEvent,
  toLogEvent,
} from '../../src/logs/index.js';
import { compileDetection, MatchContext, parseRuleText } from '../../src/sigma/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

/** 2024-04-01T00:00:00Z: when the RFC 3164 test messages are "received". */
const APRIL = Date.UTC(2024, 3, 1);

function fields(text: string, options = {}) {
  const parsed = parseSyslog(text, { receivedAt: APRIL, ...options });
  expect(parsed.error, parsed.error?.message).toBeUndefined();
  return parsed.fields;
}

describe('RFC 5424', () => {
  it('reads every header part, a time with fractions and an offset, and the message after a BOM', () => {
    const parsed = parseSyslog(
      '<86>1 2023-11-07T08:09:10.123456-05:00 bastion.corp.example sshd 4242 AUTHFAIL - \uFEFFFailed password for root',
    );
    expect(parsed.format).toBe('rfc5424');
    expect(parsed.error).toBeUndefined();
    expect(parsed.time).toBe(Date.UTC(2023, 10, 7, 13, 9, 10, 123));
    expect({ ...parsed.fields }).toEqual({
      facility: 10,
      facility_name: 'authpriv',
      severity: 6,
      severity_name: 'info',
      version: 1,
      timestamp: '2023-11-07T08:09:10.123456-05:00',
      host: 'bastion.corp.example',
      app: 'sshd',
      pid: 4242,
      msgid: 'AUTHFAIL',
      message: 'Failed password for root',
    });
  });

  it('leaves out NILVALUE parts, keeps a procid that is not a number as text, and takes no MSG', () => {
    const parsed = parseSyslog('<0>1 - - - worker-7 - -');
    expect(parsed.error).toBeUndefined();
    expect(parsed.time).toBeUndefined();
    expect({ ...parsed.fields }).toEqual({
      facility: 0,
      facility_name: 'kern',
      severity: 0,
      severity_name: 'emerg',
      version: 1,
      pid: 'worker-7',
    });
  });

  it('reads several SD elements, repeated parameters and the escapes \\" \\\\ \\]', () => {
    const f = fields(
      '<14>1 2024-01-02T03:04:05Z fw01 auditd - - [origin ip="192.0.2.7" ip="198.51.100.9" software="x"]' +
        '[rule@32473 name="say \\"hi\\" \\\\ [a\\]" other="\\n stays"] the message',
    );
    expect(f['sd.origin.ip']).toEqual(['192.0.2.7', '198.51.100.9']);
    expect(f['sd.origin.software']).toBe('x');
    expect(f['sd.rule@32473.name']).toBe('say "hi" \\ [a]');
    expect(f['sd.rule@32473.other']).toBe('\\n stays');
    expect(f.message).toBe('the message');
  });

  it('takes a quoted ] inside a PARAM-VALUE and a leap second', () => {
    const parsed = parseSyslog('<14>1 2016-12-31T23:59:60Z h a - - [x y="a]b"] m');
    expect(parsed.fields['sd.x.y']).toBe('a]b');
    expect(parsed.time).toBe(Date.UTC(2016, 11, 31, 23, 59, 59, 999));
  });

  it('reports a broken header or structured data, keeping what it read and the rest as message', () => {
    const sd = parseSyslog('<14>1 2024-01-02T03:04:05Z host app - - [bad x="1" y=2] msg');
    expect(sd.error).toBeInstanceOf(SyslogError);
    expect(sd.error?.code).toBe('SYSLOG_SD');
    expect(sd.error?.location.column).toBe(54); // where the quote of y's value should be
    expect(sd.fields.host).toBe('host');
    expect(sd.fields.message).toBe('[bad x="1" y=2] msg');

    const unclosed = parseSyslog('<14>1 2024-01-02T03:04:05Z host app - - [bad x="1');
    expect(unclosed.error?.code).toBe('SYSLOG_SD');

    const short = parseSyslog('<14>1 2024-01-02T03:04:05Z host app');
    expect(short.error?.code).toBe('SYSLOG_HEADER');
    expect(short.error?.location.field).toBe('PROCID');
    expect(short.time).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));

    const day = parseSyslog('<14>1 2023-02-29T00:00:00Z host app - - - text');
    expect(day.error?.code).toBe('SYSLOG_TIMESTAMP');
    expect(day.fields.message).toBe('2023-02-29T00:00:00Z host app - - - text');
  });
});

describe('RFC 3164 and what devices send', () => {
  it('reads PRI, a BSD timestamp, host and tag[pid], in the year before the reception', () => {
    const parsed = parseSyslog('<38>Nov 30 23:58:01 web-03 sshd[913]: Accepted publickey for deploy', {
      receivedAt: APRIL,
    });
    expect(parsed.format).toBe('rfc3164');
    expect(parsed.time).toBe(Date.UTC(2023, 10, 30, 23, 58, 1));
    expect({ ...parsed.fields }).toEqual({
      facility: 4,
      facility_name: 'auth',
      severity: 6,
      severity_name: 'info',
      timestamp: 'Nov 30 23:58:01',
      host: 'web-03',
      app: 'sshd',
      pid: 913,
      message: 'Accepted publickey for deploy',
    });
  });

  it('infers the year around new year both ways, and February 29th', () => {
    const jan2 = Date.UTC(2025, 0, 2, 12);
    expect(parseSyslog('<13>Dec 31 23:59:59 h a: m', { receivedAt: jan2 }).time).toBe(
      Date.UTC(2024, 11, 31, 23, 59, 59),
    );
    // A sender whose clock runs a little ahead of ours, across new year.
    const dec31 = Date.UTC(2024, 11, 31, 23, 59);
    expect(parseSyslog('<13>Jan  1 00:00:30 h a: m', { receivedAt: dec31 }).time).toBe(
      Date.UTC(2025, 0, 1, 0, 0, 30),
    );
    // More than a day ahead is last year's.
    expect(parseSyslog('<13>Apr  3 00:00:00 h a: m', { receivedAt: APRIL }).time).toBe(Date.UTC(2023, 3, 3));
    expect(parseSyslog('<13>Apr  1 20:00:00 h a: m', { receivedAt: APRIL }).time).toBe(
      Date.UTC(2024, 3, 1, 20),
    );
    expect(parseSyslog('<13>Feb 29 10:00:00 h a: m', { receivedAt: Date.UTC(2027, 5, 1) }).time).toBe(
      Date.UTC(2024, 1, 29, 10),
    );
    const impossible = parseSyslog('<13>Feb 30 10:00:00 h a: m', { receivedAt: APRIL });
    expect(impossible.error?.code).toBe('SYSLOG_TIMESTAMP');
    expect(impossible.fields.host).toBe('h');
  });

  it('reads local times in the zone given: fixed offsets and IANA zones with their summer time', () => {
    expect(parseSyslog('<13>Jan 15 12:00:00 h a: m', { receivedAt: APRIL, timeZone: '+05:30' }).time).toBe(
      Date.UTC(2024, 0, 15, 6, 30),
    );
    expect(
      parseSyslog('<13>Jan 15 12:00:00 h a: m', { receivedAt: APRIL, timeZone: 'Europe/Paris' }).time,
    ).toBe(Date.UTC(2024, 0, 15, 11));
    expect(
      parseSyslog('<13>Jul 15 12:00:00 h a: m', { receivedAt: APRIL, timeZone: 'Europe/Paris' }).time,
    ).toBe(Date.UTC(2023, 6, 15, 10));
    expect(() => parseSyslog('<13>Jul 15 12:00:00 h a: m', { timeZone: 'Mars/Olympus' })).toThrow(
      SyslogError,
    );
    // A timestamp that says its offset is read with it, whatever the zone option.
    expect(
      parseSyslog('<13>2024-07-15T12:00:00+02:00 h a: m', { receivedAt: APRIL, timeZone: 'America/New_York' })
        .time,
    ).toBe(Date.UTC(2024, 6, 15, 10));
  });

  it('reads a message without hostname, without PRI, and with no timestamp at all', () => {
    expect({
      ...fields('<13>Mar  4 05:06:07 CRON[2211]: (root) CMD (run-parts /etc/cron.hourly)'),
    }).toMatchObject({
      app: 'CRON',
      pid: 2211,
      message: '(root) CMD (run-parts /etc/cron.hourly)',
    });
    expect(fields('<13>Mar  4 05:06:07 CRON[2211]: x').host).toBeUndefined();
    const noPri = fields('Mar  4 05:06:07 mail-1 postfix/smtpd[8738]: NOQUEUE: reject: RCPT from unknown');
    expect(noPri.facility).toBeUndefined();
    expect(noPri.host).toBe('mail-1');
    expect(noPri.app).toBe('postfix/smtpd');
    expect(noPri.message).toBe('NOQUEUE: reject: RCPT from unknown');
    const bare = parseSyslog('<13>kernel: [ 12.5] eth0: link up');
    expect(bare.time).toBeUndefined();
    expect({ ...bare.fields }).toMatchObject({ app: 'kernel', message: '[ 12.5] eth0: link up' });
    expect(fields('<13>just some words').message).toBe('just some words');
    const spaced = parseSyslog('<13> Mar  4 05:06:07 h app: m', { receivedAt: APRIL });
    expect(spaced.time).toBe(Date.UTC(2024, 2, 4, 5, 6, 7));
    expect(spaced.fields.host).toBe('h');
  });

  it('reads RFC 3339 timestamps in the BSD place, with and without an offset', () => {
    const rsyslog = parseSyslog('<30>2024-03-05T10:00:00.123456+01:00 db-1 mysqld[77]: ready');
    expect(rsyslog.time).toBe(Date.UTC(2024, 2, 5, 9, 0, 0, 123));
    expect(rsyslog.fields.host).toBe('db-1');
    expect(rsyslog.fields.app).toBe('mysqld');
    expect(parseSyslog('<30>2024-03-05 10:00:00 db-1 mysqld: ready', { timeZone: '-01:00' }).time).toBe(
      Date.UTC(2024, 2, 5, 11),
    );
  });

  it('reads Cisco IOS sequence numbers and unsynchronised clocks, and Cisco ASA headers', () => {
    const ios = fields(
      '<189>2041: *Mar  2 01:02:03.456: %SYS-5-CONFIG_I: Configured from console by admin on vty0',
    );
    expect({ ...ios }).toMatchObject({
      sequence: 2041,
      timestamp: '*Mar  2 01:02:03.456',
      app: '%SYS-5-CONFIG_I',
      message: 'Configured from console by admin on vty0',
    });
    const asa = parseSyslog(
      '<166>Jan 05 2024 10:20:30 edge-asa : %ASA-6-302013: Built outbound TCP connection 1',
    );
    expect(asa.time).toBe(Date.UTC(2024, 0, 5, 10, 20, 30));
    expect({ ...asa.fields }).toMatchObject({
      host: 'edge-asa',
      app: '%ASA-6-302013',
      message: 'Built outbound TCP connection 1',
    });
  });

  it('keeps garbage as the message, with the problem said, and strips line ends and NULs', () => {
    const pri = parseSyslog('<200>hello');
    expect(pri.error?.code).toBe('SYSLOG_PRI');
    expect(pri.fields.message).toBe('<200>hello');
    expect(parseSyslog('').error?.code).toBe('SYSLOG_EMPTY');
    expect(parseSyslog('\n\0').error?.code).toBe('SYSLOG_EMPTY');
    expect(fields('<13>Mar  4 05:06:07 h a: m\r\n\0').message).toBe('m');
    const binary = parseSyslog('\u0001\u0002\uFFFD<<>>');
    expect(binary.fields.message).toBe('\u0001\u0002\uFFFD<<>>');
  });

  it('gives an event with the text as raw and the header time', () => {
    const { event, error } = syslogEvent('<13>1 2024-01-02T03:04:05Z h a - - - m', {
      file: 'udp:514',
      record: 9,
    });
    expect(error).toBeUndefined();
    expect(event.raw).toBe('<13>1 2024-01-02T03:04:05Z h a - - - m');
    expect(event.source).toEqual({ file: 'udp:514', record: 9 });
    expect(event.time).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(event.fields.message).toBe('m');
  });
});

describe('CEF bodies', () => {
  it('reads the header by the specification names and the extension with spaces and escapes', () => {
    const f = fields(
      '<134>Feb 10 10:10:10 sensor-2 CEF:0|Acme\\|Labs|Net Guard|4.2|intrusion:17|Port scan from outside|7|' +
        'src=203.0.113.5 dst=10.1.2.3 dpt=22 msg=scan of 1000 ports\\, path C:\\\\tmp a\\=b\\nline2 cs1Label=Policy cs1=Block all',
    );
    expect({ ...f }).toMatchObject({
      host: 'sensor-2',
      CEFVersion: 0,
      DeviceVendor: 'Acme|Labs',
      DeviceProduct: 'Net Guard',
      DeviceVersion: '4.2',
      DeviceEventClassID: 'intrusion:17',
      Name: 'Port scan from outside',
      Severity: 7,
      src: '203.0.113.5',
      dst: '10.1.2.3',
      dpt: '22',
      msg: 'scan of 1000 ports\\, path C:\\tmp a=b\nline2',
      cs1Label: 'Policy',
      cs1: 'Block all',
    });
    expect(f.message).toMatch(/^CEF:0\|/);
  });

  it('keeps a text severity, an empty extension, a URL with = in a value, and a CEF in RFC 5424', () => {
    const cef = parseCef('CEF:1|V|P|1|id|N|Very-High|request=https://x.example/?a=b&c=d suser=bob ');
    expect(cef).not.toBeInstanceOf(SyslogError);
    expect({ ...(cef as object) }).toMatchObject({
      CEFVersion: 1,
      Severity: 'Very-High',
      request: 'https://x.example/?a=b&c=d',
      suser: 'bob',
    });
    expect(parseCef('CEF:0|V|P|1|id|N|3|')).toMatchObject({ Severity: 3 });
    const f = fields('<14>1 2024-01-02T03:04:05Z h app - - - CEF:0|V|P|1|id|N|3|act=blocked');
    expect(f.act).toBe('blocked');
    expect(f.DeviceVendor).toBe('V');
  });

  it('reports a header with too few fields and keeps the message', () => {
    const parsed = parseSyslog('<134>Feb 10 10:10:10 h CEF:0|only|three|parts');
    expect(parsed.error?.code).toBe('SYSLOG_CEF');
    expect(parsed.error?.location.column).toBe(24);
    expect(parsed.fields.message).toBe('CEF:0|only|three|parts');
    expect(parsed.fields.host).toBe('h');
  });
});

describe('key=value bodies', () => {
  it('reads FortiGate-style bodies: quoted values with spaces and escapes, unquoted values', () => {
    const f = fields(
      '<189>date=2024-05-10 time=11:37:47 devname="FGT-HQ" logid="0100032102" type="event" subtype="system" ' +
        'level="alert" user="admin" action="Add" cfgpath="user.local" msg="Add user.local \\"eve\\"" ' +
        'severity="high" host="www.example.com"',
    );
    expect({ ...f }).toMatchObject({
      facility: 23,
      date: '2024-05-10',
      time: '11:37:47',
      devname: 'FGT-HQ',
      action: 'Add',
      cfgpath: 'user.local',
      msg: 'Add user.local "eve"',
      level: 'alert',
    });
    // Names the syslog header uses stay the header's; the body's go under body.
    expect(f.severity).toBe(5);
    expect(f['body.severity']).toBe('high');
    expect(f['body.host']).toBe('www.example.com');
    expect(f.host).toBeUndefined();
  });

  it('reads values with spaces up to the next key, repeated keys as lists, and empty values', () => {
    expect({ ...parseKeyValues('msg=user admin logged in src=10.0.0.1 tag=a tag=b empty= x=""') }).toEqual({
      msg: 'user admin logged in',
      src: '10.0.0.1',
      tag: ['a', 'b'],
      empty: '',
      x: '',
    });
    // A quote that is not followed by a key or the end is text.
    expect(parseKeyValues('a="x" y z=1')).toMatchObject({ a: '"x" y', z: '1' });
    expect(parseKeyValues('type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2')).toEqual({
      type: 'SYSCALL',
      msg: 'audit(1364481363.243:24287):',
      arch: 'c000003e',
      syscall: '2',
    });
  });

  it('leaves free text alone: one pair only, or text before the first key', () => {
    expect(parseKeyValues('user=root logged in')).toBeUndefined();
    expect(parseKeyValues('new user: name=eve, UID=0, GID=0')).toBeUndefined();
    const f = fields(
      '<13>Mar  4 05:06:07 h sudo:   ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/bin/su',
    );
    expect(f.TTY).toBeUndefined();
    expect(f.message).toBe('ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/bin/su');
  });

  it('gives the event time from the body when the header has none', () => {
    const at = (text: string) => parseSyslog(text, { receivedAt: APRIL, timeZone: '+01:00' }).time;
    expect(at('<189>date=2024-05-10 time=11:37:47 devname="FGT" tz="-0700" type="event"')).toBe(
      Date.UTC(2024, 4, 10, 18, 37, 47),
    );
    expect(at('<189>date=2024-05-10 time=11:37:47 devname="FGT"')).toBe(Date.UTC(2024, 4, 10, 10, 37, 47));
    expect(at('<189>date=2024-05-10 time=11:37:47 eventtime=1715341067123456789 devname="FGT"')).toBe(
      1715341067123,
    );
    expect(at('<134>CEF:0|V|P|1|id|N|3|rt=1700000000123 act=x')).toBe(1700000000123);
    expect(at('<134>CEF:0|V|P|1|id|N|3|rt=Nov 14 2023 22:13:20 act=x')).toBe(
      Date.UTC(2023, 10, 14, 21, 13, 20),
    );
    // The header's time, when there is one, is the event's.
    expect(at('<134>Feb 10 10:10:10 h CEF:0|V|P|1|id|N|3|rt=1700000000123')).toBe(
      Date.UTC(2024, 1, 10, 9, 10, 10),
    );
    expect(at('<189>a=1 b=2')).toBeUndefined();
  });

  it('can be turned off', () => {
    expect(fields('<13>a=1 b=2', { parseBody: false }).a).toBeUndefined();
  });
});

describe.skipIf(!hasContent)('real syslog files', () => {
  const dataset = (...parts: string[]) => contentPath('..', 'datasets', 'logs-beyond-windows', ...parts);
  const lines = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '');

  it('reads every line of an EC2 auth.log with its host, program and pid', () => {
    const all = lines(dataset('linux-auth', 'elastic-examples_ec2_auth.log'));
    expect(all).toHaveLength(7121);
    const apps = new Map<string, number>();
    for (const line of all) {
      const parsed = parseSyslog(line, { receivedAt: Date.UTC(2017, 4, 1) });
      expect(parsed.error, line).toBeUndefined();
      expect(parsed.fields.host).toBe('ip-10-77-20-248');
      expect(parsed.time).toBeGreaterThanOrEqual(Date.UTC(2017, 2, 27));
      expect(parsed.time).toBeLessThan(Date.UTC(2017, 3, 21));
      apps.set(String(parsed.fields.app), (apps.get(String(parsed.fields.app)) ?? 0) + 1);
    }
    // Line counts per program, as the dataset's SOURCE.md and `grep` count them.
    expect(apps.get('sshd')).toBe(4095);
    expect(apps.get('sudo')).toBe(557);
    expect(apps.get('useradd')).toBe(50);
    const failed = all
      .map((line) => parseSyslog(line, { receivedAt: Date.UTC(2017, 4, 1) }).fields)
      .filter((f) => f.app === 'sshd' && String(f.message).includes('Failed password'));
    expect(failed).toHaveLength(713); // 85 of them in 'message repeated 5 times: [ Failed password …]'
  });

  it('reads Postfix and Sendmail lines with their host and program, priorities written out too', () => {
    for (const [file, app] of [
      ['postfix_maillog.log', /^postfix/],
      ['sendmail_maillog.log', /^(sm-|sendmail$)/],
    ] as const) {
      for (const line of lines(dataset('email-fail2ban', file))) {
        const parsed = parseSyslog(line, { receivedAt: APRIL });
        expect(parsed.error, line).toBeUndefined();
        expect(parsed.fields.host, line).toBeTypeOf('string');
        expect(parsed.fields.app, line).toMatch(app);
      }
    }
    const written = parseSyslog(
      'Jun 17 14:37:39 <mail.notice> mx-1 sm-mta[2794]: 55HIbcGI002794: User unknown',
    );
    expect({ ...written.fields }).toMatchObject({ facility: 2, severity: 5, host: 'mx-1', app: 'sm-mta' });
  });

  it('reads Sysmon for Linux events sent over syslog as XML into the Sigma fields of the derived sample', () => {
    const rows = lines(dataset('linux-sysmon', 'otrf_log4shell_sysmon_for_linux.sentinel_syslog.ndjson')).map(
      (line) => JSON.parse(line) as { SyslogMessage: string; EventTime: string },
    );
    const derived = lines(dataset('linux-sysmon', 'otrf_log4shell_sysmon_for_linux.eventdata.ndjson')).map(
      (line) => JSON.parse(line) as Record<string, string | number | boolean>,
    );
    expect(rows).toHaveLength(93);
    const events = rows.map((row, i) => {
      // As rsyslog forwards them: a 5424 header from the Sentinel row, the XML as MSG.
      const { event, error } = syslogEvent(
        `<14>1 ${row.EventTime} UBUNTU5 sysmon - - - ${row.SyslogMessage}`,
        {
          file: 'tcp',
          record: i + 1,
        },
      );
      expect(error?.code, `row ${i}`).toBe(derived[i]!._truncated ? 'SYSLOG_BODY' : undefined);
      expect(event.fields).toMatchObject({ host: 'UBUNTU5', app: 'sysmon' });
      for (const [name, value] of Object.entries(derived[i]!)) {
        if (name !== '_truncated') expect(String(event.fields[name]), `row ${i} ${name}`).toBe(String(value));
      }
      // The value the cut-off row ends in is left out, as in the derived sample.
      if (derived[i]!._truncated) expect(event.fields.ParentCommandLine).toBeUndefined();
      return event;
    });
    // The same SigmaHQ Linux process-creation rules fire as on the derived sample, the reverse shell among them.
    const dir = contentPath('sigma', 'rules', 'linux', 'process_creation');
    const detections = readdirSync(dir).flatMap((name) => {
      const { rules } = parseRuleText(readFileSync(join(dir, name), 'utf8'), name);
      return rules.flatMap((rule) =>
        rule.kind === 'detection' ? [{ id: rule.id, m: compileDetection(rule.detection) }] : [],
      );
    });
    const fired = (all: LogEvent[]) =>
      all.flatMap((event) => detections.filter((d) => d.m.matches(new MatchContext(event))).map((d) => d.id));
    const expected = fired(
      derived.map((fields, i) => ({ fields, source: { file: 'derived', record: i + 1 } })),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(fired(events)).toEqual(expected);
  });

  it("lets SigmaHQ's Linux keyword rules match the message: privileged user creation", () => {
    const path = contentPath('sigma', 'rules', 'linux', 'builtin', 'lnx_privileged_user_creation.yml');
    const { rules } = parseRuleText(readFileSync(path, 'utf8'), path);
    const rule = rules[0]!;
    if (rule.kind !== 'detection') throw new Error('expected a detection rule');
    const detection = compileDetection(rule.detection);
    const fires = (line: string) => {
      const { event } = syslogEvent(line, { file: 'test', record: 1 }, { receivedAt: APRIL });
      return detection.matches(new MatchContext(event));
    };
    expect(
      fires('<86>Mar  4 05:06:07 db-2 useradd[1337]: new user: name=svc, UID=0, GID=0, home=/root'),
    ).toBe(true);
    // The sample's scripted accounts are ordinary users: none of its 50 useradd lines fires.
    const sample = lines(dataset('linux-auth', 'elastic-examples_ec2_auth.log')).filter((l) =>
      l.includes('useradd'),
    );
    expect(sample.filter(fires)).toEqual([]);
  });
});

describe('sshd authentication fields, whatever carried the message', () => {
  const failed = 'Failed password for invalid user admin from 203.0.113.5 port 52144 ssh2';
  const expected = {
    'event.action': 'failed-password',
    'event.outcome': 'failure',
    'user.name': 'admin',
    'user.known': false,
    'source.ip': '203.0.113.5',
    'source.port': 52144,
  };
  const identity = (f: Record<string, unknown>) =>
    Object.fromEntries(Object.keys(expected).map((name) => [name, f[name]]));

  it('a syslog line, a journal entry, a Sentinel Syslog row and an OpenTelemetry record give the same fields', () => {
    const syslog = fields(`<38>Apr  1 10:00:00 web1 sshd[913]: ${failed}`);
    const journal = toLogEvent(
      {
        __REALTIME_TIMESTAMP: '1711965600000000',
        _HOSTNAME: 'web1',
        SYSLOG_IDENTIFIER: 'sshd',
        _PID: '913',
        MESSAGE: failed,
      },
      'journal.json',
      1,
    ).fields;
    const sentinel = toLogEvent(
      {
        TimeGenerated: '2024-04-01T10:00:00Z',
        Computer: 'web1',
        ProcessName: 'sshd',
        SyslogMessage: failed,
        SourceSystem: 'Linux',
        Type: 'Syslog',
      },
      'syslog.json',
      1,
    ).fields;
    const otlp = decodeOtlpLogsJson(
      JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'sshd' } }] },
            scopeLogs: [
              { logRecords: [{ timeUnixNano: '1711965600000000000', body: { stringValue: failed } }] },
            ],
          },
        ],
      }),
    );
    expect(otlp.rejected).toEqual([]);
    for (const form of [syslog, journal, sentinel, otlp.events[0]!.fields])
      expect(identity(form)).toEqual(expected);
    // Another program's message with the same text is left alone.
    const other = toLogEvent({ SYSLOG_IDENTIFIER: 'myapp', MESSAGE: failed }, 'journal.json', 2).fields;
    expect(other['user.name']).toBeUndefined();
  });
});

describe("pam_unix's messages", () => {
  it('a refusal names the account asked for, who asked and the remote host; sshd gets no outcome', () => {
    const su = fields(
      '<86>Apr  1 10:00:00 web1 su[77]: pam_unix(su:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=root',
    );
    expect(su).toMatchObject({
      'pam.service': 'su',
      'event.action': 'pam-authentication-failure',
      'event.outcome': 'failure',
      'user.name': 'root',
      'source.user.name': 'bob',
    });
    expect(su['source.ip']).toBeUndefined();
    const login = toLogEvent(
      {
        SYSLOG_IDENTIFIER: 'login',
        MESSAGE:
          'pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=tty1 ruser= rhost=198.51.100.4  user=alice',
      },
      'journal.json',
      1,
    ).fields;
    expect(login).toMatchObject({
      'user.name': 'alice',
      'source.user.name': 'LOGIN',
      'source.ip': '198.51.100.4',
    });
    const sshd = fields(
      '<86>Apr  1 10:00:00 web1 sshd[913]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root',
    );
    expect(sshd).toMatchObject({ 'pam.service': 'sshd', 'user.name': 'root', 'source.ip': '203.0.113.9' });
    expect(sshd['event.outcome']).toBeUndefined();
  });

  it('a session opened as another account names both', () => {
    expect(
      fields(
        '<86>Apr  1 10:00:00 web1 su[78]: pam_unix(su:session): session opened for user root(uid=0) by bob(uid=1000)',
      ),
    ).toMatchObject({
      'event.action': 'pam-session-opened',
      'event.outcome': 'success',
      'user.name': 'root',
      'source.user.name': 'bob',
    });
  });
});

describe('firewall and VPN products', () => {
  it('reads PAN-OS CSV by its log type, quoted values with commas, extra columns kept', () => {
    const f = fields(
      '<14>May  1 10:00:00 PA-VM 1,2024/05/01 10:00:00,013201001234,GLOBALPROTECT,0,2817,2024/05/01 10:00:00,vsys1,gateway-auth,login,LDAP,,alice,US,LAPTOP-7,203.0.113.5,,0.0.0.0,,,,6.2.1,Windows,"Microsoft Windows 11 Pro , 64-bit",1,,"Authentication failed: ""bad"" password",,failure,Paris,0,on-demand,0,GP-Portal,7000001,0x8000000000000000,2024-05-01T10:00:00.000+00:00,,,,,,0,0,0,0,,PA-VM,1,,new-column',
    );
    expect(f).toMatchObject({
      host: 'PA-VM',
      type: 'GLOBALPROTECT',
      eventid: 'gateway-auth',
      srcuser: 'alice',
      public_ip: '203.0.113.5',
      client_os_ver: 'Microsoft Windows 11 Pro , 64-bit',
      error: 'Authentication failed: "bad" password',
      status: 'failure',
      portal: 'GP-Portal',
      device_name: 'PA-VM',
      column51: 'new-column',
    });
    // An older release's SYSTEM event of GlobalProtect: user and address from its description.
    const system = fields(
      '<14>May  1 10:00:00 PA-VM 1,2024/05/01 10:00:00,013201001234,SYSTEM,globalprotect,0,2024/05/01 10:00:00,,globalprotectgateway-auth-fail,GP-Gateway-N,0,0,general,informational,"GlobalProtect gateway user authentication failed. Login from: 203.0.113.5, Source region: US, User name: alice, Reason: Authentication failed",7000002,0x0',
    );
    expect(system).toMatchObject({
      eventid: 'globalprotectgateway-auth-fail',
      srcuser: 'alice',
      public_ip: '203.0.113.5',
      'body.severity': 'informational',
    });
    // Text that only starts like PAN-OS stays a message.
    expect(fields('<14>May  1 10:00:00 PA-VM 1,2024/05/01 10:00:00,0132,NOTATYPE,x').type).toBeUndefined();
  });

  it('gives Cisco ASA messages their number, and the authentication ones user, address and outcome', () => {
    expect(
      fields(
        '<166>May 01 2024 10:00:00 asa-edge : %ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.1.1.10 : user = alice : user IP = 203.0.113.5',
      ),
    ).toMatchObject({
      'event.code': '113005',
      'event.outcome': 'failure',
      'event.reason': 'AAA failure',
      'user.name': 'alice',
      'source.ip': '203.0.113.5',
    });
    expect(
      fields(
        '<166>May 01 2024 10:00:00 asa-edge : %ASA-6-113039: Group <Staff> User <bob> IP <198.51.100.7> AnyConnect parent session started.',
      ),
    ).toMatchObject({ 'event.outcome': 'success', 'user.name': 'bob', 'source.ip': '198.51.100.7' });
    expect(
      fields(
        '<166>May 01 2024 10:00:00 asa-edge : %ASA-6-605004: Login denied from 203.0.113.9/40112 to outside:192.0.2.1/ssh for user "admin"',
      ),
    ).toMatchObject({
      'event.action': 'device-login',
      'event.outcome': 'failure',
      'user.name': 'admin',
      'source.ip': '203.0.113.9',
    });
    const other = fields(
      '<166>May 01 2024 10:00:00 asa-edge : %ASA-6-302013: Built inbound TCP connection 1 for outside:203.0.113.9/4000 (203.0.113.9/4000) to inside:10.0.0.5/443 (10.0.0.5/443)',
    );
    expect(other['event.code']).toBe('302013');
    expect(other['event.outcome']).toBeUndefined();
  });
});
