import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigilError } from '../../src/core/index.js';
import {
  decayLifetimeDays,
  type IndicatorInput,
  IndicatorStore,
  IOC_DECAY,
  type IocSink,
  inferIocType,
  loadIndicators,
  normalizeIoc,
  parsePattern,
  readIndicatorText,
  readWarningLists,
  WarningListIndex,
} from '../../src/intel/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

const DAY = 86_400_000;

function collect(): IocSink & { added: IndicatorInput[]; problems: VigilError[] } {
  const added: IndicatorInput[] = [];
  const problems: VigilError[] = [];
  return { added, problems, add: (i) => added.push(i), problem: (e) => problems.push(e) };
}

describe('indicator values', () => {
  it('normalises each type and says why a value is not one', () => {
    expect(normalizeIoc('ipv4', '198.51.100.7')).toEqual({ value: '198.51.100.7' });
    expect(normalizeIoc('ipv4', '198.51.100.77/24')).toEqual({ value: '198.51.100.0/24' });
    expect(normalizeIoc('ipv6', '2001:DB8:0:0::1')).toEqual({ value: '2001:db8::1' });
    expect(normalizeIoc('domain', 'Evil[.]Example.ORG.')).toEqual({ value: 'evil.example.org' });
    expect(normalizeIoc('url', 'hxxps://Evil.COM/Path/X.ps1')).toEqual({
      value: 'https://evil.com/Path/X.ps1',
    });
    expect(normalizeIoc('sha256', 'A'.repeat(64))).toEqual({ value: 'a'.repeat(64) });
    expect(normalizeIoc('md5', 'abc')).toMatchObject({ problem: expect.stringContaining('md5') });
    expect(normalizeIoc('ipv4', '300.1.1.1')).toMatchObject({ problem: expect.any(String) });
    expect(normalizeIoc('filename', 'C:\\Temp\\Evil.EXE')).toEqual({ value: 'evil.exe' });
    expect(normalizeIoc('account', 'CORP\\SvcBackup')).toEqual({ value: 'corp\\svcbackup' });
  });

  it('infers the type of a bare value, and never a file name or an account', () => {
    expect(inferIocType('10.0.0.0/8')).toBe('ipv4');
    expect(inferIocType('fe80::1')).toBe('ipv6');
    expect(inferIocType('d41d8cd98f00b204e9800998ecf8427e')).toBe('md5');
    expect(inferIocType('a'.repeat(40))).toBe('sha1');
    expect(inferIocType('bad@evil.com')).toBe('email');
    expect(inferIocType('http://evil.com/a')).toBe('url');
    expect(inferIocType('c2.evil[.]com')).toBe('domain');
    expect(inferIocType('svc-backup')).toBeUndefined();
  });
});

describe('STIX patterns', () => {
  it('takes comparisons joined by OR, inside and between observations', () => {
    const { values, refused } = parsePattern(
      "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'evil.com'] OR [file:hashes.'SHA-256' = 'aa'] OR [ipv4-addr:value ISSUBSET '203.0.113.0/24']",
    );
    expect(values).toEqual([
      { type: 'ipv4', value: '198.51.100.7' },
      { type: 'domain', value: 'evil.com' },
      { type: 'sha256', value: 'aa' },
      { type: 'ipv4', value: '203.0.113.0/24' },
    ]);
    expect(refused).toEqual([]);
  });

  it('refuses AND, qualifiers and what it cannot match, saying so', () => {
    expect(parsePattern("[ipv4-addr:value = '1.2.3.4' AND network-traffic:dst_port = 443]")).toEqual({
      values: [],
      refused: [expect.stringContaining('AND')],
    });
    expect(parsePattern("[file:name = 'a.exe'] FOLLOWEDBY [file:name = 'b.exe']").refused[0]).toContain(
      'FOLLOWEDBY',
    );
    expect(parsePattern("[domain-name:value = 'x.com'] WITHIN 300 SECONDS").refused[0]).toContain('WITHIN');
    const partly = parsePattern("[process:name = 'evil.exe' OR url:value = 'http://evil.com/a']");
    expect(partly.values).toEqual([{ type: 'url', value: 'http://evil.com/a' }]);
    expect(partly.refused).toEqual([expect.stringContaining('process:name')]);
    expect(parsePattern("[domain-name:value LIKE '%.evil.com']").refused[0]).toContain('LIKE');
    // A quoted AND is a value, not a joiner.
    expect(parsePattern("[file:name = 'AND.exe']").values).toEqual([{ type: 'filename', value: 'AND.exe' }]);
  });
});

describe('indicator formats', () => {
  it('reads a plain list: types inferred or written, comments as notes, bad lines with file:line', () => {
    const sink = collect();
    readIndicatorText(
      [
        '# indicators of the intrusion',
        '198.51.100.7   # the C2',
        'evil[.]com',
        'account svc-backup',
        'filename dropper.exe',
        'http://evil.com/a#frag',
        'not-a-value',
        '1.2.3.4 5.6.7.8',
        'md5 1234',
      ].join('\n'),
      'list.txt',
      sink,
    );
    expect(sink.added.map((i) => [i.type, i.value, i.note])).toEqual([
      ['ipv4', '198.51.100.7', 'the C2'],
      ['domain', 'evil.com', undefined],
      ['account', 'svc-backup', undefined],
      ['filename', 'dropper.exe', undefined],
      ['url', 'http://evil.com/a#frag', undefined],
    ]);
    expect(sink.problems.map((p) => [p.code, p.location.line])).toEqual([
      ['IOC_INVALID', 7],
      ['IOC_INVALID', 8],
      ['IOC_INVALID', 9],
    ]);
    expect(sink.problems[0]!.describe()).toMatch(/^list\.txt:7: 'not-a-value': cannot tell its type/);
  });

  it('reads a STIX bundle: dates, confidence, revoked and unsupported indicators', () => {
    const sink = collect();
    const bundle = {
      type: 'bundle',
      objects: [
        {
          type: 'indicator',
          id: 'indicator--1',
          name: 'C2',
          pattern: "[ipv4-addr:value = '198.51.100.7']",
          pattern_type: 'stix',
          valid_from: '2024-01-01T00:00:00Z',
          modified: '2024-02-01T00:00:00Z',
          valid_until: '2025-01-01T00:00:00Z',
          confidence: 80,
        },
        { type: 'indicator', id: 'indicator--2', pattern: "[url:value = 'x']", pattern_type: 'stix' },
        { type: 'indicator', id: 'indicator--3', pattern: 'alert tcp any', pattern_type: 'snort' },
        { type: 'indicator', id: 'indicator--4', pattern: "[domain-name:value = 'a.com']", revoked: true },
        { type: 'malware', id: 'malware--1', name: 'x' },
      ],
    };
    readIndicatorText(JSON.stringify(bundle), 'bundle.json', sink);
    expect(sink.added).toEqual([
      {
        type: 'ipv4',
        value: '198.51.100.7',
        source: 'bundle.json: indicator "C2"',
        firstSeen: Date.parse('2024-01-01T00:00:00Z'),
        lastSeen: Date.parse('2024-02-01T00:00:00Z'),
        validUntil: Date.parse('2025-01-01T00:00:00Z'),
        confidence: 80,
      },
    ]);
    expect(sink.problems.map((p) => p.describe())).toEqual([
      "bundle.json: objects[1].pattern: indicator indicator--2: 'x': not a URL (scheme://host…)",
      "bundle.json: objects[2].pattern_type: indicator indicator--3: pattern type 'snort' is not matched (only 'stix')",
    ]);
  });

  it('reads a MISP event: attributes for detection of types it matches, composites split, dates', () => {
    const sink = collect();
    const event = {
      Event: {
        info: 'Phishing wave',
        date: '2024-03-01',
        threat_level_id: '1',
        Attribute: [
          { type: 'ip-dst|port', value: '198.51.100.7|443', to_ids: true, timestamp: '1710000000' },
          { type: 'domain', value: 'evil.com', to_ids: false },
          { type: 'filename|sha256', value: `drop.exe|${'b'.repeat(64)}`, to_ids: true },
          { type: 'text', value: 'hello', to_ids: true },
          { type: 'md5', value: 'nothex', to_ids: true },
          { value: 'no type', to_ids: true },
        ],
        Object: [
          {
            Attribute: [{ type: 'email-src', value: 'Bad@Evil.com', to_ids: '1', first_seen: '2024-02-01' }],
          },
        ],
      },
    };
    readIndicatorText(JSON.stringify(event), 'event.json', sink);
    expect(sink.added.map((i) => [i.type, i.value, i.confidence])).toEqual([
      ['ipv4', '198.51.100.7', 90],
      ['filename', 'drop.exe', 90],
      ['sha256', 'b'.repeat(64), 90],
      ['email', 'bad@evil.com', 90],
    ]);
    expect(sink.added[0]).toMatchObject({
      source: 'event.json: MISP event "Phishing wave"',
      lastSeen: 1_710_000_000_000,
      firstSeen: Date.parse('2024-03-01'),
    });
    expect(sink.added[3]!.firstSeen).toBe(Date.parse('2024-02-01'));
    expect(sink.problems.map((p) => p.describe())).toEqual([
      "event.json: Event.Attribute[4]: 'nothex': not a md5 hash (32 hexadecimal digits)",
      'event.json: Event.Attribute[5]: an attribute needs a type and a value',
    ]);
  });

  it('reads a MISP CSV with quoted cells, reporting bad rows by line', () => {
    const sink = collect();
    const csv = [
      'uuid,event_id,category,type,value,comment,to_ids,date',
      'u1,1,Network activity,domain,evil.com,"C2, primary",1,1710000000',
      'u2,1,Network activity,ip-dst,not-an-ip,,1,1710000000',
      'u3,1,Network activity,url,http://evil.com/x,"multi',
      'line",0,1710000000',
      `u4,1,Payload delivery,sha1,${'c'.repeat(40)},,True,1710000000`,
    ].join('\n');
    readIndicatorText(csv, 'feed.csv', sink);
    expect(sink.added.map((i) => [i.type, i.value, i.note])).toEqual([
      ['domain', 'evil.com', 'C2, primary'],
      ['sha1', 'c'.repeat(40), undefined],
    ]);
    expect(sink.problems.map((p) => p.describe())).toEqual([
      "feed.csv:3: 'not-an-ip': not an ipv4 address or network",
    ]);
  });

  it('reads a list of {type, value} and reports each bad entry by its field', () => {
    const sink = collect();
    readIndicatorText(
      JSON.stringify([
        {
          type: 'domain',
          value: 'evil.com',
          source: 'analyst',
          last_seen: '2024-05-01T00:00:00Z',
          confidence: 40,
        },
        { type: 'nope', value: 'x' },
        { type: 'ipv4', value: '1.2.3.4', last_seen: 'yesterday' },
      ]),
      'api',
      sink,
    );
    expect(sink.added).toEqual([
      expect.objectContaining({
        type: 'domain',
        source: 'analyst',
        confidence: 40,
        lastSeen: Date.parse('2024-05-01'),
      }),
    ]);
    expect(sink.problems.map((p) => p.location.field)).toEqual(['[1].type', '[2].last_seen']);
  });
});

describe('MISP feeds and advisories from files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-iocs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a MISP JSON feed folder: the manifest and each event beside it, a missing one reported', async () => {
    const feed = join(dir, 'feed');
    const one = '5f5a7e5c-0000-4000-8000-000000000001';
    const two = '5f5a7e5c-0000-4000-8000-000000000002';
    const { mkdirSync } = await import('node:fs');
    mkdirSync(feed);
    writeFileSync(
      join(feed, 'manifest.json'),
      JSON.stringify({ [one]: { info: 'one', timestamp: '1710000000' }, [two]: { info: 'two' } }),
    );
    writeFileSync(
      join(feed, `${one}.json`),
      JSON.stringify({
        Event: { info: 'one', Attribute: [{ type: 'hostname', value: 'c2.evil.com', to_ids: true }] },
      }),
    );
    const problems: VigilError[] = [];
    const loaded = await loadIndicators([feed], {
      now: Date.parse('2024-03-10'),
      onProblem: (e) => problems.push(e),
    });
    expect(loaded.indicators.map((i) => [i.type, i.value])).toEqual([['domain', 'c2.evil.com']]);
    expect(loaded.sources).toEqual([{ source: feed, indicators: 1 }]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.location.file).toBe(join(feed, `${two}.json`));
  });

  it('fails a source that cannot be read at all', async () => {
    await expect(loadIndicators([join(dir, 'missing.txt')])).rejects.toMatchObject({ code: 'IOC_SOURCE' });
    writeFileSync(join(dir, 'broken.json'), '{"type": "bundle", ');
    await expect(loadIndicators([join(dir, 'broken.json')])).rejects.toMatchObject({ code: 'IOC_SOURCE' });
  });
});

describe('the indicator store', () => {
  const now = Date.parse('2024-06-01T00:00:00Z');

  it('decays confidence with age by type and leaves expired indicators out', () => {
    const store = new IndicatorStore({ now });
    store.add({
      type: 'ipv4',
      value: '198.51.100.7',
      source: 'a',
      lastSeen: now - 10 * DAY,
      confidence: 100,
    });
    store.add({
      type: 'ipv4',
      value: '198.51.100.8',
      source: 'a',
      lastSeen: now - 170 * DAY,
      confidence: 100,
    });
    store.add({
      type: 'sha256',
      value: 'f'.repeat(64),
      source: 'a',
      lastSeen: now - 170 * DAY,
      confidence: 100,
    });
    store.add({ type: 'domain', value: 'evil.com', source: 'a' });
    store.add({ type: 'domain', value: 'old.com', source: 'a', validUntil: now - DAY });
    const { indicators, counts } = store.judge();
    const byValue = Object.fromEntries(indicators.map((i) => [i.value, i]));
    expect(Object.keys(byValue).sort()).toEqual(['198.51.100.7', 'evil.com', 'f'.repeat(64)]);
    expect(counts).toEqual({ kept: 3, merged: 0, expired: 2, warned: 0 });
    // 10 days of 180 at speed 1.5: 1 - (10/180)^(2/3) = 0.854
    expect(byValue['198.51.100.7']!.confidence).toBe(85);
    expect(byValue['198.51.100.7']!.expires).toBe(now - 10 * DAY + decayLifetimeDays(IOC_DECAY.ipv4) * DAY);
    expect(byValue['f'.repeat(64)]!.confidence).toBeGreaterThan(95);
    // Undated: its source's rating, and no end.
    expect(byValue['evil.com']).toMatchObject({ confidence: 75 });
    expect(byValue['evil.com']!.expires).toBeUndefined();
  });

  it('merges repeats: every source named, the widest dates, the higher confidence', () => {
    const store = new IndicatorStore({ now });
    store.add({
      type: 'domain',
      value: 'evil.com',
      source: 'feed-a',
      firstSeen: now - 5 * DAY,
      confidence: 50,
    });
    store.add({ type: 'domain', value: 'evil.com', source: 'feed-b', lastSeen: now - DAY, confidence: 90 });
    const { indicators, counts } = store.judge();
    expect(counts.merged).toBe(1);
    expect(indicators).toEqual([
      expect.objectContaining({
        source: 'feed-a; feed-b',
        firstSeen: now - 5 * DAY,
        lastSeen: now - DAY,
      }),
    ]);
    expect(indicators[0]!.confidence).toBeGreaterThan(85);
  });

  it.skipIf(!hasContent)(
    'lowers the confidence of values on the MISP warning lists, never drops them',
    () => {
      const lists = new WarningListIndex(readWarningLists(contentPath('warninglists')));
      const store = new IndicatorStore({ now, warningLists: lists });
      store.add({ type: 'ipv4', value: '8.8.8.8', source: 'feed', confidence: 90 });
      store.add({ type: 'domain', value: 'evil-actor-c2.com', source: 'feed', confidence: 90 });
      store.add({ type: 'ipv4', value: '8.8.4.4', source: 'advisory', confidence: 90, judged: true });
      const { indicators, counts } = store.judge();
      const byValue = Object.fromEntries(indicators.map((i) => [i.value, i]));
      expect(counts.warned).toBe(1);
      expect(byValue['8.8.8.8']!.confidence).toBeLessThan(40);
      expect(byValue['8.8.8.8']!.note).toMatch(/MISP warning list/);
      expect(byValue['evil-actor-c2.com']!.confidence).toBe(90);
      // An advisory's verdict already weighed the lists: an address it names as the actors' stays as it rated it.
      expect(byValue['8.8.4.4']!.confidence).toBe(90);
    },
  );
});

describe.skipIf(!hasContent)('advisory parse output as a source', () => {
  it('takes the actionable indicators of the types matched, dated by the advisory', async () => {
    const advisory = {
      source: 'aa99.txt',
      title: 'AA99: Test',
      published: '2024-05-01T00:00:00.000Z',
      indicators: [
        { type: 'ipv4', value: '198.51.100.7', actionable: true, confidence: 'high', reason: 'x' },
        { type: 'domain', value: 'cisa.gov', actionable: false, confidence: 'high', reason: 'publisher' },
        { type: 'cve', value: 'CVE-2021-1', actionable: true, confidence: 'high', reason: 'kev' },
        { type: 'url', value: 'http://evil.com/x', actionable: true, confidence: 'low', reason: 'shared' },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), 'vigil-advisory-iocs-'));
    try {
      const file = join(dir, 'aa99.json');
      writeFileSync(file, JSON.stringify(advisory));
      const loaded = await loadIndicators([file], { now: Date.parse('2024-05-11T00:00:00Z') });
      expect(loaded.indicators.map((i) => [i.type, i.value, i.source])).toEqual([
        ['ipv4', '198.51.100.7', 'advisory "AA99: Test"'],
        ['url', 'http://evil.com/x', 'advisory "AA99: Test"'],
      ]);
      expect(loaded.indicators[0]!.lastSeen).toBe(Date.parse(advisory.published));
      expect(loaded.indicators[1]!.confidence).toBeLessThan(30);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
