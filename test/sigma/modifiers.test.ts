import { describe, expect, it } from 'vitest';
import { base64Offsets, MODIFIERS } from '../../src/sigma/index.js';
import { item, matches, ruleError } from '../helpers/sigma.js';

const single = (line: string) => `    selection:\n        ${line}\n    condition: selection`;

describe('generic modifiers', () => {
  it('contains, startswith, endswith', () => {
    expect(item("CommandLine|contains: 'vssadmin'", { CommandLine: 'C:\\vssADMIN.exe delete' })).toBe(true);
    expect(item("CommandLine|startswith: 'net '", { CommandLine: 'NET user' })).toBe(true);
    expect(item("CommandLine|startswith: 'net '", { CommandLine: 'xnet user' })).toBe(false);
    expect(item("Image|endswith: '\\cmd.exe'", { Image: 'C:\\Windows\\System32\\CMD.EXE' })).toBe(true);
    expect(item("Image|endswith: '\\cmd.exe'", { Image: 'C:\\cmd.exe.bak' })).toBe(false);
  });

  it('keeps wildcards inside contains values', () => {
    expect(item("CommandLine|contains: 'a*c'", { CommandLine: 'xxabbbcxx' })).toBe(true);
  });

  it('a list is OR; all makes it AND', () => {
    const any = single("CommandLine|contains:\n            - 'alpha'\n            - 'beta'");
    expect(
      matches(any, [{ CommandLine: 'alpha' }, { CommandLine: 'beta' }, { CommandLine: 'gamma' }]),
    ).toEqual([true, true, false]);
    const all = single("CommandLine|contains|all:\n            - 'alpha'\n            - 'beta'");
    expect(matches(all, [{ CommandLine: 'alpha' }, { CommandLine: 'beta alpha' }])).toEqual([false, true]);
  });

  it('all with a single value is accepted (as pySigma does)', () => {
    expect(item("CommandLine|contains|all: 'alpha'", { CommandLine: 'alpha' })).toBe(true);
  });

  it('exists tests presence, null counts as present', () => {
    expect(item('PasswordLastSet|exists: true', { PasswordLastSet: 'x' })).toBe(true);
    expect(item('PasswordLastSet|exists: true', { PasswordLastSet: null })).toBe(true);
    expect(item('PasswordLastSet|exists: true', {})).toBe(false);
    expect(item('PasswordLastSet|exists: false', {})).toBe(true);
    expect(
      ruleError(`title: t\nlogsource: {product: x}\ndetection:\n${single("A|exists: 'yes'")}`)?.code,
    ).toBe('SIGMA_MODIFIER');
  });

  it('cased makes the match case-sensitive', () => {
    expect(item("Image|endswith|cased: '\\CMD.exe'", { Image: 'C:\\CMD.exe' })).toBe(true);
    expect(item("Image|endswith|cased: '\\CMD.exe'", { Image: 'C:\\cmd.exe' })).toBe(false);
    expect(item("Image|cased|endswith: '\\CMD.exe'", { Image: 'C:\\cmd.exe' })).toBe(false);
  });

  it('neq negates the whole item: none of the values', () => {
    const rule = single('User|neq:\n            - SYSTEM\n            - LOCAL SERVICE');
    expect(matches(rule, [{ User: 'SYSTEM' }, { User: 'local service' }, { User: 'alice' }, {}])).toEqual([
      false,
      false,
      true,
      true,
    ]);
    expect(item("Image|contains|neq: 'temp'", { Image: 'C:\\Temp\\x.exe' })).toBe(false);
    expect(item('Count|neq: 5', { Count: 6 })).toBe(true);
  });
});

describe('string modifiers', () => {
  it('windash: a flag dash may be any of - / – — ―', () => {
    const line = "CommandLine|contains|windash: ' -enc '";
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015']) {
      expect(item(line, { CommandLine: `powershell ${dash}enc AAAA` })).toBe(true);
    }
    expect(item(line, { CommandLine: 'powershell +enc AAAA' })).toBe(false);
  });

  it('windash leaves dashes inside words alone', () => {
    expect(
      item("CommandLine|contains|windash: 'Invoke-Expression'", { CommandLine: 'Invoke/Expression' }),
    ).toBe(false);
    expect(
      item("CommandLine|contains|windash: 'Invoke-Expression'", { CommandLine: 'Invoke-Expression' }),
    ).toBe(true);
  });

  it('re searches (unanchored) and is case-sensitive by default', () => {
    expect(item("CommandLine|re: 'net\\s+user'", { CommandLine: 'cmd /c net  user x' })).toBe(true);
    expect(item("CommandLine|re: 'NET\\s+user'", { CommandLine: 'net user' })).toBe(false);
    expect(item("CommandLine|re: '^net'", { CommandLine: 'x net' })).toBe(false);
  });

  it('re|i, re|m, re|s', () => {
    expect(item("CommandLine|re|i: 'NET\\s+USER'", { CommandLine: 'net user' })).toBe(true);
    expect(item("CommandLine|re: '(?i)NET USER'", { CommandLine: 'net user' })).toBe(true);
    expect(item("Text|re|m: '^second$'", { Text: 'first\nsecond\nthird' })).toBe(true);
    expect(item("Text|re: '^second$'", { Text: 'first\nsecond\nthird' })).toBe(false);
    expect(item("Text|re|s: 'first.second'", { Text: 'first\nsecond' })).toBe(true);
    expect(item("Text|re: 'first.second'", { Text: 'first\nsecond' })).toBe(false);
  });

  it('re takes the value as written: backslashes are regex escapes', () => {
    expect(item("Image|re: '\\\\cmd\\.exe$'", { Image: 'C:\\cmd.exe' })).toBe(true);
    expect(item("Image|re: '\\\\cmd\\.exe$'", { Image: 'C:\\cmdxexe' })).toBe(false);
  });

  it('i, m and s only follow re', () => {
    expect(ruleError(`title: t\nlogsource: {product: x}\ndetection:\n${single("A|i: 'x'")}`)?.code).toBe(
      'SIGMA_MODIFIER',
    );
  });
});

describe('encoding modifiers', () => {
  it('base64 encodes the value (UTF-8) and matches case-sensitively', () => {
    // 'whoami' -> d2hvYW1p
    expect(item("Payload|base64: 'whoami'", { Payload: 'd2hvYW1p' })).toBe(true);
    expect(item("Payload|base64|contains: 'whoami'", { Payload: 'xxd2hvYW1pxx' })).toBe(true);
    expect(item("Payload|base64|contains: 'whoami'", { Payload: 'D2HVYW1P' })).toBe(false);
  });

  it('base64offset gives the three shifted encodings', () => {
    expect(base64Offsets(Buffer.from('abc'))).toEqual(['YWJj', 'FiY', 'hYm']);
    const encoded = (prefix: string) => Buffer.from(`${prefix}http://evil.example/x`).toString('base64');
    for (const prefix of ['', 'a', 'ab', 'abc ']) {
      expect(
        item("CommandLine|base64offset|contains: 'http://evil.example'", { CommandLine: encoded(prefix) }),
      ).toBe(true);
    }
    expect(
      item("CommandLine|base64offset|contains: 'http://evil.example'", {
        CommandLine: encoded('x').toLowerCase(),
      }),
    ).toBe(false);
  });

  it('utf16le / wide / utf16be / utf16 encode before base64', () => {
    const le = Buffer.from('cmd', 'utf16le').toString('base64');
    expect(item("P|utf16le|base64: 'cmd'", { P: le })).toBe(true);
    expect(item("P|wide|base64: 'cmd'", { P: le })).toBe(true);
    const be = Buffer.from('cmd', 'utf16le').swap16().toString('base64');
    expect(item("P|utf16be|base64: 'cmd'", { P: be })).toBe(true);
    const bom = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('cmd', 'utf16le')]).toString('base64');
    expect(item("P|utf16|base64: 'cmd'", { P: bom })).toBe(true);
    const ps = Buffer.from('IEX (New-Object Net.WebClient)', 'utf16le').toString('base64');
    expect(
      item("CommandLine|wide|base64offset|contains: 'New-Object'", { CommandLine: `powershell -enc ${ps}` }),
    ).toBe(true);
  });

  it('refuses to encode wildcards', () => {
    expect(
      ruleError(`title: t\nlogsource: {product: x}\ndetection:\n${single("P|contains|base64: 'x'")}`)?.code,
    ).toBe('SIGMA_MODIFIER');
  });
});

describe('cidr', () => {
  it('IPv4', () => {
    expect(item("DestinationIp|cidr: '10.0.0.0/8'", { DestinationIp: '10.20.30.40' })).toBe(true);
    expect(item("DestinationIp|cidr: '10.0.0.0/8'", { DestinationIp: '11.0.0.1' })).toBe(false);
    expect(item("DestinationIp|cidr: '192.168.1.0/24'", { DestinationIp: '192.168.1.255' })).toBe(true);
    expect(item("DestinationIp|cidr: '192.168.1.0/24'", { DestinationIp: 'not an ip' })).toBe(false);
    expect(item("DestinationIp|cidr: '0.0.0.0/0'", { DestinationIp: '8.8.8.8' })).toBe(true);
  });

  it('IPv6 and IPv4-mapped addresses', () => {
    expect(item("DestinationIp|cidr: 'fe80::/10'", { DestinationIp: 'fe80::1' })).toBe(true);
    expect(item("DestinationIp|cidr: 'fe80::/10'", { DestinationIp: 'fec0::1' })).toBe(false);
    expect(item("DestinationIp|cidr: '2001:db8::/32'", { DestinationIp: '2001:0db8:0:0:0:0:0:1' })).toBe(
      true,
    );
    expect(item("DestinationIp|cidr: '::1/128'", { DestinationIp: '::1' })).toBe(true);
    expect(item("DestinationIp|cidr: '127.0.0.0/8'", { DestinationIp: '::ffff:127.0.0.1' })).toBe(true);
  });

  it('rejects what is not a network', () => {
    expect(
      ruleError(`title: t\nlogsource: {product: x}\ndetection:\n${single("Ip|cidr: '10.0.0.0/33'")}`)?.code,
    ).toBe('SIGMA_MODIFIER');
  });
});

describe('expand', () => {
  const placeholders = { Admins: ['admin*', 'root'], Domain: ['corp'] };

  it('expands a placeholder into its values', () => {
    expect(item("User|expand: '%Admins%'", { User: 'administrator' }, { placeholders })).toBe(true);
    expect(item("User|expand: '%Admins%'", { User: 'ROOT' }, { placeholders })).toBe(true);
    expect(item("User|expand: '%Admins%'", { User: 'bob' }, { placeholders })).toBe(false);
  });

  it('expands inside a larger value and keeps \\% literal', () => {
    expect(item("User|expand: '%Domain%\\%Admins%'", { User: 'corp\\root' }, { placeholders })).toBe(false);
    expect(item("User|expand: '\\%plain%Domain%'", { User: '%plaincorp' }, { placeholders })).toBe(true);
    expect(
      item(
        "CommandLine|contains|expand: '%Domain%'",
        { CommandLine: 'net user /domain:corp' },
        { placeholders },
      ),
    ).toBe(true);
  });

  it('without expand, %name% is literal text', () => {
    expect(item("Path: '%APPDATA%\\x.exe'", { Path: '%appdata%\\x.exe' })).toBe(true);
  });

  it('an unresolved placeholder that decides a match rejects the rule', () => {
    const error = ruleError(
      `title: t\nlogsource: {product: x}\ndetection:\n${single("User|expand: '%Admins%'")}`,
    );
    expect(error?.code).toBe('SIGMA_PLACEHOLDER');
    expect(error?.message).toContain('%Admins%');
    expect(error?.location.line).toBe(5);
  });
});

describe('fieldref', () => {
  it('compares two fields of the same event', () => {
    expect(item('TargetFilename|fieldref: Image', { TargetFilename: 'C:\\A.exe', Image: 'c:\\a.exe' })).toBe(
      true,
    );
    expect(item('TargetFilename|fieldref: Image', { TargetFilename: 'C:\\A.exe', Image: 'C:\\B.exe' })).toBe(
      false,
    );
    expect(item('TargetFilename|fieldref: Image', { TargetFilename: 'C:\\A.exe' })).toBe(false);
    expect(item('TargetFilename|fieldref: Image', {})).toBe(false);
  });

  it('combines with startswith/endswith/contains, neq and cased', () => {
    expect(
      item('CommandLine|fieldref|contains: Image', { CommandLine: '"c:\\a.exe" -x', Image: 'C:\\A.exe' }),
    ).toBe(true);
    expect(
      item('CommandLine|fieldref|startswith: Image', { CommandLine: 'x c:\\a.exe', Image: 'C:\\A.exe' }),
    ).toBe(false);
    expect(item('User|fieldref|neq: ParentUser', { User: 'a', ParentUser: 'b' })).toBe(true);
    expect(item('User|fieldref|cased: ParentUser', { User: 'A', ParentUser: 'a' })).toBe(false);
  });
});

describe('numeric comparisons', () => {
  it('lt lte gt gte on numbers and numeric strings', () => {
    expect(item('Size|gt: 100', { Size: 101 })).toBe(true);
    expect(item('Size|gt: 100', { Size: 100 })).toBe(false);
    expect(item('Size|gte: 100', { Size: '100' })).toBe(true);
    expect(item('Size|lt: 100', { Size: 99.5 })).toBe(true);
    expect(item('Size|lte: 100', { Size: 101 })).toBe(false);
    expect(item('Size|lt: 100', { Size: 'abc' })).toBe(false);
    expect(item('Size|lt: 100', {})).toBe(false);
  });

  it('needs a number', () => {
    expect(
      ruleError(`title: t\nlogsource: {product: x}\ndetection:\n${single("Size|gt: 'big'")}`)?.code,
    ).toBe('SIGMA_MODIFIER');
  });
});

describe('time modifiers', () => {
  const at = { Time: '2024-03-05T23:45:12Z' }; // a Tuesday, ISO week 10
  it('extract minute, hour, day, week, month, year in UTC', () => {
    expect(item('Time|minute: 45', at)).toBe(true);
    expect(item('Time|hour: 23', at)).toBe(true);
    expect(item('Time|day: 5', at)).toBe(true);
    expect(item('Time|week: 10', at)).toBe(true);
    expect(item('Time|month: 3', at)).toBe(true);
    expect(item('Time|year: 2024', at)).toBe(true);
    expect(item('Time|hour: 22', at)).toBe(false);
  });

  it('chain with comparisons and read zone-less Windows times as UTC', () => {
    expect(item('Time|hour|gte: 22', at)).toBe(true);
    expect(item('Time|hour|lt: 6', at)).toBe(false);
    expect(item('UtcTime|hour: 8', { UtcTime: '2019-03-02 08:51:00.008' })).toBe(true);
  });
});

describe('the modifier table', () => {
  it('holds every modifier of Sigma 2.1', () => {
    const expected =
      'contains startswith endswith all exists cased neq windash re i m s base64 base64offset utf16le utf16be utf16 wide cidr expand fieldref lt lte gt gte minute hour day week month year';
    expect(Object.keys(MODIFIERS).sort()).toEqual(expected.split(' ').sort());
  });

  it('an unknown modifier is an error with the place', () => {
    const error = ruleError(`title: t\nlogsource: {product: x}\ndetection:\n${single("A|contians: 'x'")}`);
    expect(error?.code).toBe('SIGMA_MODIFIER');
    expect(error?.message).toContain("unknown modifier 'contians'");
    expect(error?.location).toMatchObject({
      file: 'test.yml',
      line: 5,
      field: 'detection.selection.A|contians',
    });
  });
});
