import { describe, expect, it } from 'vitest';
import { compileSigmaRegex, SigmaError, translatePcre } from '../../src/sigma/index.js';

describe('regular expressions run in linear time', () => {
  it('a catastrophic-backtracking pattern over a long value finishes at once', { timeout: 5000 }, () => {
    const subject = `${'a'.repeat(100_000)}!`;
    expect(compileSigmaRegex('(a+)+$').test(subject)).toBe(false);
    expect(compileSigmaRegex('(a|aa)+$', { ignoreCase: true }).test(subject)).toBe(false);
    expect(compileSigmaRegex('(.*a){20}').test('a'.repeat(19))).toBe(false);
    expect(compileSigmaRegex('^(\\w+\\s?)*$').test(`${'word '.repeat(20_000)}!`)).toBe(false);
  });

  it('large counted repetitions are written out for the linear engine', () => {
    const regex = compileSigmaRegex('[0-9a-f]{64}');
    expect(regex.test(`x${'a'.repeat(64)}`)).toBe(true);
    expect(regex.test('a'.repeat(63))).toBe(false);
    expect(compileSigmaRegex('.{1000,}').test('x'.repeat(1000))).toBe(true);
    expect(compileSigmaRegex('.{1000,}').test('x'.repeat(999))).toBe(false);
    expect(compileSigmaRegex('^x{2,20}$').test('x'.repeat(20))).toBe(true);
    expect(compileSigmaRegex('^x{2,20}$').test('x'.repeat(21))).toBe(false);
    expect(compileSigmaRegex('^(ab){10,12}$').test('ab'.repeat(11))).toBe(true);
  });

  it('rejects what cannot run in linear time, with the reason', () => {
    for (const [pattern, reason] of [
      ['a(?=b)', /lookaround/],
      ['(?<!x)y', /lookaround/],
      ['(a)\\1', /backreference/],
      ['\\p{L}', /unsupported escape/],
      ['(a', /missing closing parenthesis/],
      ['*a', /nothing to repeat/],
      ['a++a', /possessive quantifier/],
      ['(?>a+)a', /atomic group/],
      ['^a(?m)b', /inline \(\?m\) after/],
      ['(?m)\\Aa', /multi-line mode/],
    ] as const) {
      expect(() => compileSigmaRegex(pattern), pattern).toThrow(reason);
      expect(() => compileSigmaRegex(pattern)).toThrow(SigmaError);
    }
  });
});

describe('PCRE to JavaScript', () => {
  it('inline flags: (?i) for the rest, (?i:...) for a group', () => {
    expect(compileSigmaRegex('(?i)abc').test('ABC')).toBe(true);
    expect(compileSigmaRegex('(?i:a)b').test('Ab')).toBe(true);
    expect(compileSigmaRegex('(?i:a)b').test('AB')).toBe(false);
    expect(compileSigmaRegex('(?s)a.b').test('a\nb')).toBe(true);
    expect(compileSigmaRegex('(?m)^b').test('a\nb')).toBe(true);
  });

  it('case-insensitive classes get both cases', () => {
    expect(translatePcre('[a-c]', { ignoreCase: true }).source).toBe('[a-cA-C]');
    expect(compileSigmaRegex('[^a-z]', { ignoreCase: true }).test('Q')).toBe(false);
  });

  it('dot does not match a newline unless s', () => {
    expect(compileSigmaRegex('a.b').test('a\nb')).toBe(false);
    expect(compileSigmaRegex('a.b').test('a\rb')).toBe(true);
  });

  it('PCRE-only syntax: \\A \\z \\Q..\\E named groups, possessive, POSIX classes', () => {
    expect(compileSigmaRegex('\\Aab\\z').test('ab')).toBe(true);
    expect(compileSigmaRegex('\\Q.*\\E').test('x.*y')).toBe(true);
    expect(compileSigmaRegex('\\Q.*\\E').test('xay')).toBe(false);
    expect(compileSigmaRegex('(?P<name>ab)+c').test('ababc')).toBe(true);
    expect(compileSigmaRegex('[[:digit:]]{3}').test('a123')).toBe(true);
    expect(compileSigmaRegex('[]a]').test(']')).toBe(true);
    expect(compileSigmaRegex('a\\x41\\x{42}').test('aAB')).toBe(true);
  });

  it('runs every regex of the SigmaHQ corpus style', () => {
    expect(compileSigmaRegex('(?i)\\\\windows\\\\.{1,64}\\.exe').test('C:\\WINDOWS\\Temp\\a.EXE')).toBe(true);
    expect(compileSigmaRegex('-k\\s\\w{1,64}(?:\\s?(?:-p|-s))?').test('svchost.exe -k netsvcs -p')).toBe(
      true,
    );
  });
});
