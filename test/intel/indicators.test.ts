import { describe, expect, it } from 'vitest';
import { extractIndicators, refang } from '../../src/intel/index.js';
import { IOC_CASES } from './ioc-cases.js';

describe('indicator extraction', () => {
  it('has at least 150 cases', () => {
    expect(IOC_CASES.length).toBeGreaterThanOrEqual(150);
  });

  it.each(IOC_CASES)('%j', (text, expected) => {
    expect(extractIndicators(text).map((i) => [i.type, i.value])).toEqual(expected);
  });

  it('keeps the line each indicator was found on', () => {
    const [indicator] = extractIndicators('first line\nC2 server: evil[.]com\nlast');
    expect(indicator?.context).toBe('C2 server: evil.com');
  });

  it('refangs without touching prose', () => {
    expect(refang('hxxps://a[.]b and evil (dot) com')).toBe('https://a.b and evil.com');
    expect(refang('a dot on the map, at noon')).toBe('a dot on the map, at noon');
  });
});

describe('indicator extraction on hostile input', () => {
  // Each must simply finish: a pattern that backtracks exponentially would hang here (the test
  // times out) long before any report could show it.
  const n = 20_000;
  const hostile: [string, string][] = [
    ['hyphens', '-'.repeat(n)],
    ['hyphenated words', 'a-'.repeat(n / 2)],
    ['dotted words', 'a.'.repeat(n / 2)],
    ['colons', ':'.repeat(n)],
    ['hex and colons', 'ab:'.repeat(n / 3)],
    ['backslashes', '\\'.repeat(n)],
    ['a deep path', `C:\\${'a\\'.repeat(n / 2)}`],
    ['a registry key with spaces', `HKLM${'\\a b'.repeat(n / 4)}`],
    ['a long local part', `${'a'.repeat(n)}@`],
    ['defanged dots', '[.]'.repeat(n / 3)],
    ['a long URL', `http://${'a'.repeat(n)}`],
    ['a separator line of a report', `${'-'.repeat(80)}x.exe${'-'.repeat(80)}`.repeat(200)],
  ];
  it.each(hostile)('%s', (_name, text) => {
    expect(Array.isArray(extractIndicators(text))).toBe(true);
  });
});
