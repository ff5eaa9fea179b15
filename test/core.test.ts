import { describe, expect, it } from 'vitest';
import {
  AhoCorasick,
  calendarDay,
  cidrContains,
  isoWeek,
  parseCidr,
  parseIPv4,
  parseTimestamp,
} from '../src/core/index.js';

function occurrences(patterns: string[], text: string): [number, number][] {
  const found = new Map<number, number>();
  new AhoCorasick(patterns).search(text, (id) => found.set(id, (found.get(id) ?? 0) + 1));
  return [...found].sort((a, b) => a[0] - b[0]);
}

function naive(patterns: string[], text: string): [number, number][] {
  const out: [number, number][] = [];
  patterns.forEach((p, id) => {
    let n = 0;
    for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) n++;
    if (n) out.push([id, n]);
  });
  return out;
}

describe('Aho-Corasick', () => {
  it('finds every occurrence of every pattern, overlapping and nested ones too', () => {
    const patterns = ['he', 'she', 'his', 'hers', 'e', 'ers', 'rs'];
    expect(occurrences(patterns, 'ushers and his heroes')).toEqual(naive(patterns, 'ushers and his heroes'));
  });

  it('agrees with a naive search on random texts', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'ab\\c.-é';
    const word = (len: number) =>
      Array.from({ length: len }, () => alphabet[random(alphabet.length)]).join('');
    for (let round = 0; round < 200; round++) {
      const patterns = [...new Set(Array.from({ length: 1 + random(8) }, () => word(1 + random(4))))];
      const text = word(random(60));
      expect(occurrences(patterns, text), `${patterns} in ${text}`).toEqual(naive(patterns, text));
    }
  });

  it('never misses a non-ASCII pattern, ignoring case when asked', () => {
    const found = (patterns: string[], text: string, caseInsensitive = false) => {
      const ids = new Set<number>();
      new AhoCorasick(patterns, { caseInsensitive }).search(text, (id) => ids.add(id));
      return [...ids].sort();
    };
    expect(found(['😀', 'а', 'é'], 'x😀yаz')).toEqual(expect.arrayContaining([0, 1]));
    expect(found(['straße', 'été'], 'STRAßE and ÉTÉ', true)).toEqual([0, 1]);
    expect(found(['cmd.exe'], 'C:\\Windows\\CMD.EXE', true)).toEqual([0]);
    expect(found(['cmd.exe'], 'CMD.EXE')).toEqual([]);
    // Code units above ASCII that lower-case into it: the Kelvin sign K and İ (i + U+0307).
    expect(found(['kernel', 'admin'], '\u212aERNEL AD\u0130N', true)).toEqual([0]);
    expect(found(['kernel'], '\u212aERNEL')).toEqual([]);
  });

  it('agrees with a naive search on an automaton too large for its transition table', () => {
    // 3,000 hashes of 40 hex digits: about 100,000 states, most beyond the cached rows.
    let seed = 11;
    const hex = () => {
      let out = '';
      for (let i = 0; i < 40; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        out += '0123456789abcdef'[seed % 16];
      }
      return out;
    };
    const patterns = Array.from({ length: 3000 }, hex);
    const text = `${patterns[5]}${patterns[2999]!.slice(0, 30)}${patterns[1234]}x${patterns[77]!.slice(3)}${patterns[77]}`;
    expect(occurrences(patterns, text)).toEqual(naive(patterns, text));
  });

  it('handles characters outside every pattern and an empty pattern set', () => {
    expect(occurrences(['abc'], 'xxabc\u{1F600}abc')).toEqual([[0, 2]]);
    expect(occurrences([], 'anything')).toEqual([]);
  });
});

describe('time and IP helpers', () => {
  it('reads log timestamps as UTC', () => {
    expect(parseTimestamp('2019-03-02 08:51:00.008')).toBe(Date.UTC(2019, 2, 2, 8, 51, 0, 8));
    expect(parseTimestamp('2021-03-04T05:06:07.1234567Z')).toBe(Date.UTC(2021, 2, 4, 5, 6, 7, 123));
    expect(parseTimestamp('2021-03-04T05:06:07+02:00')).toBe(Date.UTC(2021, 2, 4, 3, 6, 7));
    expect(parseTimestamp('not a time')).toBeUndefined();
    // .NET's JSON dates (ConvertTo-Json, the Office 365 reporting web service); the offset is display only.
    expect(parseTimestamp('/Date(1714557601000)/')).toBe(Date.UTC(2024, 4, 1, 10, 0, 1));
    expect(parseTimestamp('/Date(1714557601000+0200)/')).toBe(Date.UTC(2024, 4, 1, 10, 0, 1));
    expect(parseTimestamp('/Date(x)/')).toBeUndefined();
    // Days the calendar does not have are refused, not rolled over into the next month.
    expect(parseTimestamp('2021-02-30 10:00:00')).toBeUndefined();
    expect(calendarDay('2021-02-30')).toBeUndefined();
    expect(calendarDay('2021-13-01')).toBeUndefined();
    expect(calendarDay('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(calendarDay('2023-02-29')).toBeUndefined();
    expect(calendarDay('2021-2-3')).toBeUndefined();
    expect(calendarDay('0001-01-01')).toBe(-62135596800000);
    expect(parseTimestamp('0001-01-01T00:00:00Z')).toBe(-62135596800000);
    expect(isoWeek(Date.UTC(2021, 0, 3))).toBe(53);
    expect(isoWeek(Date.UTC(2021, 0, 4))).toBe(1);
  });

  it('parses networks and tests membership', () => {
    expect(cidrContains(parseCidr('10.0.0.0/8')!, '10.255.0.1')).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/32')!, '2001:db9::1')).toBe(false);
    expect(parseCidr('300.0.0.0/8')).toBeUndefined();
    // An IPv4-mapped address is in IPv4 networks as IPv4, and in IPv6 networks as written.
    expect(cidrContains(parseCidr('10.0.0.0/8')!, '::ffff:10.1.2.3')).toBe(true);
    expect(cidrContains(parseCidr('::/0')!, '::ffff:10.1.2.3')).toBe(true);
    expect(cidrContains(parseCidr('::ffff:0:0/96')!, '::ffff:10.1.2.3')).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/32')!, '10.1.2.3')).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, '255.255.255.255')).toBe(true);
    expect(parseCidr('1::2::3')).toBeUndefined();
  });

  it('reads IPv4 addresses as four parts of one to three digits, each at most 255', () => {
    expect(parseIPv4('192.168.0.1')).toBe(0xc0a80001);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('010.0.0.1')).toBe(0x0a000001);
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '1.2.3.',
      '.1.2.3',
      '256.1.1.1',
      '1.2.3.1000',
      '1.2.3.a',
      ' 1.2.3.4',
    ])
      expect(parseIPv4(bad), bad).toBeUndefined();
  });
});

describe('event fields', () => {
  it('are the event own fields, never properties inherited from Object.prototype', async () => {
    const { getField } = await import('../src/core/index.js');
    const event = {
      fields: { Image: 'x' },
      raw: { process: { name: 'p' } },
      source: { file: 'f', record: 1 },
    };
    expect(getField(event, 'constructor')).toBeUndefined();
    expect(getField(event, 'toString')).toBeUndefined();
    expect(getField(event, '__proto__')).toBeUndefined();
    expect(getField(event, 'process.constructor')).toBeUndefined();
    expect(getField(event, 'process.name')).toBe('p');
    const parsed = JSON.parse('{"constructor": "c", "__proto__": "p"}');
    expect(getField({ fields: parsed, source: { file: 'f', record: 1 } }, 'constructor')).toBe('c');
    expect(getField({ fields: parsed, source: { file: 'f', record: 1 } }, '__proto__')).toBe('p');
  });
});
