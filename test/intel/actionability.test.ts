import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VigilError } from '../../src/core/index.js';
import {
  DECAY_MODELS,
  decayScore,
  type ExtractedIndicator,
  judgeIndicator,
  readWarningLists,
  type WarningList,
  WarningListIndex,
  warningListKind,
} from '../../src/intel/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

const indicator = (type: ExtractedIndicator['type'], value: string): ExtractedIndicator => ({
  type,
  value,
  context: '',
});

describe('the MISP decay model', () => {
  const model = { lifetimeDays: 100, decaySpeed: 1 };
  it('is linear with speed 1, full at 0 and none at the lifetime', () => {
    expect(decayScore(0, model)).toBe(100);
    expect(decayScore(50, model)).toBeCloseTo(50);
    expect(decayScore(100, model)).toBe(0);
    expect(decayScore(500, model)).toBe(0);
  });
  it('falls faster early with a higher speed and slower with a lower one', () => {
    expect(decayScore(25, { lifetimeDays: 100, decaySpeed: 2 })).toBeCloseTo(50);
    expect(decayScore(25, { lifetimeDays: 100, decaySpeed: 0.5 })).toBeCloseTo(93.75);
  });
  it('never ages a CVE', () => {
    expect(DECAY_MODELS.cve).toBeUndefined();
  });
});

describe('verdicts', () => {
  it('rejects private, loopback and documentation addresses and names', () => {
    expect(judgeIndicator(indicator('ipv4', '10.1.2.3'), {})).toMatchObject({
      actionable: false,
      reason: expect.stringMatching(/private/),
    });
    expect(judgeIndicator(indicator('ipv4', '127.0.0.1'), {}).actionable).toBe(false);
    expect(judgeIndicator(indicator('ipv6', 'fe80::1'), {}).actionable).toBe(false);
    expect(judgeIndicator(indicator('ipv6', '2001:db8::1'), {}).actionable).toBe(false);
    expect(judgeIndicator(indicator('domain', 'www.example.com'), {}).actionable).toBe(false);
    expect(judgeIndicator(indicator('url', 'http://10.0.0.5/x'), {}).actionable).toBe(false);
    expect(judgeIndicator(indicator('ipv4', '185.220.101.4'), {}).actionable).toBe(true);
  });

  it('marks old indicators stale by the decay model, and fresh ones with their score', () => {
    const observed = new Date('2021-03-17T00:00:00Z');
    const stale = judgeIndicator(indicator('ipv4', '185.220.101.4'), {
      observed,
      now: new Date('2022-03-17T00:00:00Z'),
    });
    expect(stale).toMatchObject({ actionable: false, score: 0 });
    expect(stale.reason).toMatch(/stale: reported 2021-03-17/);
    const fresh = judgeIndicator(indicator('sha256', `${'a'.repeat(63)}b`), {
      observed,
      now: new Date('2021-04-16T00:00:00Z'),
    });
    expect(fresh.actionable).toBe(true);
    expect(fresh.score).toBeGreaterThan(80);
  });

  it('matches hand-made warning lists of every MISP type', () => {
    const lists: WarningList[] = [
      {
        name: 'resolvers',
        description: '',
        kind: 'special',
        type: 'cidr',
        appliesTo: new Set(['ipv4', 'ipv6']),
        entries: ['8.8.8.0/24', '2001:4860::/32', '203.0.113.77', 'not a network'],
      },
      {
        name: 'everything v6',
        description: '',
        type: 'cidr',
        appliesTo: new Set(['ipv6']),
        // Wider than 16 bits: not filed under one first group.
        entries: ['fc00::/7'],
      },
      {
        name: 'top sites',
        description: '',
        type: 'hostname',
        appliesTo: new Set(['domain', 'url', 'email']),
        entries: ['google.com'],
      },
      {
        name: 'empty hashes',
        description: '',
        type: 'string',
        appliesTo: new Set(['md5']),
        entries: ['D41D8CD98F00B204E9800998ECF8427E'],
      },
      { name: 'cdn', description: '', type: 'substring', appliesTo: undefined, entries: ['akamaiedge'] },
      {
        name: 'pattern',
        description: '',
        type: 'regex',
        appliesTo: new Set(['domain']),
        entries: ['/^ntp\\d+\\./i'],
      },
    ];
    const index = new WarningListIndex(lists);
    expect(index.match('ipv4', '8.8.8.8')?.list).toBe('resolvers');
    expect(index.match('ipv4', '8.8.9.8')).toBeUndefined();
    expect(index.match('ipv6', '2001:4860:4860::8888')?.list).toBe('resolvers');
    expect(index.match('ipv6', '2001:4861::1')).toBeUndefined();
    expect(index.match('ipv6', '::ffff:8.8.8.8')?.list).toBe('resolvers');
    expect(index.match('ipv6', 'fd12:3456::1')?.list).toBe('everything v6');
    expect(index.match('ipv4', '203.0.113.77')?.list).toBe('resolvers');
    expect(index.match('ipv4', '203.0.113.78')).toBeUndefined();
    expect(index.match('domain', 'mail.google.com')?.list).toBe('top sites');
    expect(index.match('url', 'https://drive.google.com/file')?.list).toBe('top sites');
    expect(index.match('domain', 'notgoogle.com')).toBeUndefined();
    expect(index.match('md5', 'd41d8cd98f00b204e9800998ecf8427e')?.list).toBe('empty hashes');
    expect(index.match('sha1', 'd41d8cd98f00b204e9800998ecf8427e')).toBeUndefined();
    expect(index.match('domain', 'e123.akamaiedge.net')?.list).toBe('cdn');
    expect(index.match('domain', 'NTP1.example.org')?.list).toBe('pattern');
    const verdict = judgeIndicator(indicator('ipv4', '8.8.8.8'), { warningLists: index });
    expect(verdict).toMatchObject({
      actionable: false,
      confidence: 'high',
      reason: expect.stringContaining('"resolvers"'),
    });
  });

  it('keeps a value the advisory names when a list only says it is shared, with less confidence and why', () => {
    const list = (name: string, type: WarningList['type'], entries: string[]): WarningList => ({
      name,
      description: '',
      type,
      appliesTo: undefined,
      entries,
    });
    const index = new WarningListIndex([
      list(
        'Specialized list of vpn-ipv4 addresses belonging to common VPN providers and datacenters',
        'cidr',
        ['93.115.16.0/20'],
      ),
      list('Shodan IP Ranges Used for Scanning', 'cidr', ['198.20.69.0/24']),
      list('List of LOTS (Living Off Trusted Sites) Project Domains', 'hostname', [
        'mega.nz',
        '.azureedge.net',
        'raw.githubusercontent.com',
      ]),
      list('Top 10K most-used sites from Tranco', 'hostname', ['mega.nz', 'google.com']),
      list('List of known hashes for empty files', 'string', ['d41d8cd98f00b204e9800998ecf8427e']),
    ]);
    const judge = (type: ExtractedIndicator['type'], value: string, observed?: Date) =>
      judgeIndicator(indicator(type, value), { warningLists: index, observed, now: new Date('2022-12-01') });
    const vpn = judge('ipv4', '93.115.26.251');
    expect(vpn).toMatchObject({ actionable: true, confidence: 'medium' });
    expect(vpn.reason).toMatch(
      /^shared or rented infrastructure, kept as .* \(MISP warning list "Specialized list of vpn-ipv4/,
    );
    expect(judge('ipv4', '198.20.69.74')).toMatchObject({
      actionable: true,
      confidence: 'low',
      reason: expect.stringMatching(/internet scanner/),
    });
    // The service itself is anyone's; a name or a page under it is likelier the actors'. A site on
    // both LOTS and a top list is one attackers live off: it stays.
    expect(judge('domain', 'mega.nz')).toMatchObject({ actionable: true, confidence: 'low' });
    expect(judge('url', 'https://www.mega.nz')).toMatchObject({ actionable: true, confidence: 'low' });
    expect(judge('domain', 'max-ghoster1.azureedge.net')).toMatchObject({
      actionable: true,
      confidence: 'medium',
    });
    expect(judge('url', 'https://raw.githubusercontent.com/actor/tool/main/x.ps1')).toMatchObject({
      actionable: true,
      confidence: 'medium',
    });
    expect(judge('domain', 'www.google.com')).toMatchObject({
      actionable: false,
      confidence: 'medium',
      reason: expect.stringMatching(/most visited/),
    });
    expect(judge('md5', 'd41d8cd98f00b204e9800998ecf8427e')).toMatchObject({
      actionable: false,
      confidence: 'high',
      reason: expect.stringMatching(/identifies nobody/),
    });
    // Age still counts, and the list is still said.
    expect(judge('ipv4', '93.115.26.251', new Date('2022-11-17'))).toMatchObject({
      actionable: true,
      confidence: 'medium',
    });
    const stale = judge('ipv4', '93.115.26.251', new Date('2020-01-01'));
    expect(stale).toMatchObject({ actionable: false, confidence: 'medium' });
    expect(stale.reason).toMatch(/^stale: .*; shared or rented/);
  });

  it("sets the advisory's own addresses and what only its asides name apart", () => {
    const publisherDomains = new Set(['cisa.gov']);
    expect(judgeIndicator(indicator('email', 'report@cisa.gov'), { publisherDomains })).toMatchObject({
      actionable: false,
      confidence: 'high',
      reason: expect.stringMatching(/own publisher or reporting address \(cisa\.gov\)/),
    });
    expect(
      judgeIndicator(indicator('url', 'https://www.cisa.gov/stopransomware'), { publisherDomains })
        .actionable,
    ).toBe(false);
    expect(judgeIndicator(indicator('domain', 'cisa.gov.evil.net'), { publisherDomains }).actionable).toBe(
      true,
    );
    expect(
      judgeIndicator(indicator('url', 'https://blog.vendor.net/post'), { aside: 'references' }),
    ).toMatchObject({
      actionable: false,
      confidence: 'medium',
      reason: expect.stringMatching(/only in the advisory's references/),
    });
    // Nobody writes an actor's address in a disclaimer by chance: only names and links are set aside so.
    expect(judgeIndicator(indicator('ipv4', '185.220.101.4'), { aside: 'references' }).actionable).toBe(true);
  });
});

describe.skipIf(!hasContent)('the MISP warning lists from the shared content', () => {
  let index: WarningListIndex;
  beforeAll(() => {
    index = new WarningListIndex(readWarningLists(contentPath('warninglists')));
  });

  it('reads every list', () => {
    expect(index.lists.length).toBeGreaterThan(100);
  });

  it('tells lists of what identifies nobody, known-good, popular, shared and scanner values apart', () => {
    const kinds = new Map(index.lists.map((list) => [list.name, warningListKind(list)]));
    const kindOf = (start: string) => [...kinds].find(([name]) => name.startsWith(start))?.[1];
    expect(kindOf('Specialized list of vpn-ipv4')).toBe('shared');
    expect(kindOf('List of LOTS')).toBe('shared');
    expect(kindOf('List of known Amazon AWS')).toBe('shared');
    expect(kindOf('List of known dynamic DNS')).toBe('shared');
    expect(kindOf('Shodan IP Ranges')).toBe('scanner');
    expect(kindOf('Top 10K most-used sites from Tranco')).toBe('popular');
    expect(kindOf('List of known google domains')).toBe('benign');
    expect(kindOf('List of known hashes for empty files')).toBe('special');
    expect(kindOf('List of known IPv4 public DNS resolvers')).toBe('special');
    expect(kindOf('List of RFC 1918')).toBe('special');
    // The Hive advisory's actor address on a VPN list is kept, with that said.
    expect(judgeIndicator(indicator('ipv4', '93.115.26.251'), { warningLists: index })).toMatchObject({
      actionable: true,
      confidence: 'medium',
    });
  });

  it('knows public resolvers, popular sites and the hash of nothing, and not an attacker address', () => {
    expect(index.match('ipv4', '8.8.8.8')).toBeDefined();
    expect(index.match('ipv6', '2001:4860:4860::8888')).toBeDefined();
    expect(index.match('ipv4', '84.32.188.57')).toBeUndefined();
    expect(index.match('ipv4', '93.115.26.251')).toBeDefined();
    expect(index.match('domain', 'www.microsoft.com')).toBeDefined();
    expect(index.match('md5', 'd41d8cd98f00b204e9800998ecf8427e')).toBeDefined();
    expect(index.match('domain', 'asq.d6shiiwz.pw')).toBeUndefined();
  });
});

describe('reading warning lists', () => {
  it('skips a list that is not JSON, says which, and keeps the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-lists-'));
    for (const [name, text] of [
      ['good', '{"name":"Good","type":"string","list":["example.org"]}'],
      ['bad', '{"name":'],
    ]) {
      mkdirSync(join(dir, 'lists', name!), { recursive: true });
      writeFileSync(join(dir, 'lists', name!, 'list.json'), text!);
    }
    const problems: VigilError[] = [];
    const lists = readWarningLists(dir, (problem) => problems.push(problem));
    expect(lists.map((l) => l.name)).toEqual(['Good']);
    expect(problems.map((p) => p.location.file)).toEqual([join(dir, 'lists', 'bad', 'list.json')]);
    rmSync(dir, { recursive: true, force: true });
  });
});
