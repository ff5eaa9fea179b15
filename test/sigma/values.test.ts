import { describe, expect, it } from 'vitest';
import { globTest } from '../../src/sigma/glob.js';
import { ANY, ONE, parseSigmaString } from '../../src/sigma/values.js';
import { item } from '../helpers/sigma.js';

describe('Sigma strings: wildcards and escaping (spec: Escape Character)', () => {
  it('reads * and ? as wildcards', () => {
    expect(parseSigmaString('prog?.exe')).toEqual(['prog', ONE, '.exe']);
    expect(parseSigmaString('antivirus_V*.exe')).toEqual(['antivirus_V', ANY, '.exe']);
  });

  it('keeps a plain backslash, single or double', () => {
    expect(parseSigmaString('C:\\Windows\\System32')).toEqual(['C:\\Windows\\System32']);
    expect(parseSigmaString('C:\\\\Windows')).toEqual(['C:\\Windows']);
  });

  it('escapes wildcards with a backslash', () => {
    expect(parseSigmaString('\\*')).toEqual(['*']);
    expect(parseSigmaString('\\?')).toEqual(['?']);
  });

  it('\\\\* is a backslash followed by a wildcard', () => {
    expect(parseSigmaString('\\\\*')).toEqual(['\\', ANY]);
  });

  it('\\\\\\* is a backslash and a plain star', () => {
    expect(parseSigmaString('\\\\\\*')).toEqual(['\\*']);
  });

  it('three or four backslashes are two', () => {
    expect(parseSigmaString('\\\\\\')).toEqual(['\\\\']);
    expect(parseSigmaString('\\\\\\\\')).toEqual(['\\\\']);
  });

  it('collapses ** into one wildcard', () => {
    expect(parseSigmaString('a**b')).toEqual(['a', ANY, 'b']);
  });
});

describe('wildcard matching', () => {
  const test = (pattern: string, text: string, cased = false) =>
    globTest(parseSigmaString(pattern), cased)(cased ? text : text.toLowerCase());

  it('matches the whole value unless a wildcard says otherwise', () => {
    expect(test('cmd.exe', 'cmd.exe')).toBe(true);
    expect(test('cmd.exe', 'xcmd.exe')).toBe(false);
    expect(test('*cmd.exe', 'c:\\xcmd.exe')).toBe(true);
    expect(test('cmd*', 'cmd.exe /c')).toBe(true);
    expect(test('*md.e*', 'cmd.exe')).toBe(true);
  });

  it('? takes exactly one character', () => {
    expect(test('prog?.exe', 'progA.exe')).toBe(true);
    expect(test('prog?.exe', 'prog.exe')).toBe(false);
    expect(test('prog?.exe', 'progAB.exe')).toBe(false);
  });

  it('finds segments left to right without backtracking wrongly', () => {
    expect(test('a*b*c', 'axxbyyc')).toBe(true);
    expect(test('a*b*c', 'axxcyyb')).toBe(false);
    expect(test('*a?c*', 'xxabxadcx')).toBe(true);
    expect(test('a*bc', 'abcbc')).toBe(true);
    expect(test('a*a', 'a')).toBe(false);
    expect(test('*', '')).toBe(true);
    expect(test('?*', '')).toBe(false);
  });

  it('is case-insensitive unless cased', () => {
    expect(test('*\\CMD.exe', 'C:\\Windows\\cmd.EXE')).toBe(true);
    expect(test('CMD.exe', 'cmd.exe', true)).toBe(false);
  });

  it('an escaped star in a rule matches a literal star', () => {
    expect(item("CommandLine: 'a\\*b'", { CommandLine: 'a*b' })).toBe(true);
    expect(item("CommandLine: 'a\\*b'", { CommandLine: 'axxb' })).toBe(false);
  });
});

describe('value types', () => {
  it('empty string matches only an empty value', () => {
    expect(item("Field: ''", { Field: '' })).toBe(true);
    expect(item("Field: ''", { Field: 'x' })).toBe(false);
    expect(item("Field: ''", {})).toBe(false);
  });

  it('null matches a missing or null field only', () => {
    expect(item('Field: null', {})).toBe(true);
    expect(item('Field: null', { Field: null })).toBe(true);
    expect(item('Field: null', { Field: '' })).toBe(false);
    expect(item('Field: null', { Field: 'x' })).toBe(false);
  });

  it('numbers match numbers and numeric strings', () => {
    expect(item('EventID: 4688', { EventID: 4688 })).toBe(true);
    expect(item('EventID: 4688', { EventID: '4688' })).toBe(true);
    expect(item('EventID: 4688', { EventID: '04688' })).toBe(true);
    expect(item('EventID: 4688', { EventID: 4689 })).toBe(false);
    expect(item("EventID: '4688'", { EventID: 4688 })).toBe(true);
    expect(item('LogonType: 0', { LogonType: '' })).toBe(false);
  });

  it('booleans match booleans and "true"/"false" strings', () => {
    expect(item('Signed: true', { Signed: true })).toBe(true);
    expect(item('Signed: true', { Signed: 'true' })).toBe(true);
    expect(item('Signed: true', { Signed: 'TRUE' })).toBe(true);
    expect(item('Signed: true', { Signed: 'false' })).toBe(false);
    expect(item('Signed: false', { Signed: false })).toBe(true);
    expect(item("Signed: 'true'", { Signed: true })).toBe(true);
  });

  it('a list value in the event matches when any element does', () => {
    expect(
      item("Data|contains: 'HostApplication=powershell'", { Data: ['a', 'HostApplication=powershell -enc'] }),
    ).toBe(true);
    expect(item("Data|contains: 'nope'", { Data: ['a', 'b'] })).toBe(false);
  });

  it('reaches nested originals by dotted path', () => {
    expect(item("userIdentity.type: 'Root'", { 'userIdentity.type': 'Root' })).toBe(true);
  });
});
