import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { collectFiles } from '../../src/core/index.js';
import { compileDetection, MatchContext, parseRuleText } from '../../src/sigma/index.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { event, item, matches, rule } from '../helpers/sigma.js';

/** The examples of the Sigma 2.1 rules specification and modifiers appendix, one test each. */

describe('rules specification examples', () => {
  it('Whoami Execution', () => {
    const r = rule(`title: Whoami Execution
description: Detects a whoami.exe execution
references:
      - https://speakerdeck.com/heirhabarov/hunting-for-privilege-escalation-in-windows-environment
author: Florian Roth
date: 2019-10-23
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image: 'C:\\Windows\\System32\\whoami.exe'
    condition: selection
level: high
`);
    const compiled = compileDetection(r.detection);
    expect(compiled.matches(new MatchContext(event({ Image: 'C:\\Windows\\System32\\whoami.exe' })))).toBe(
      true,
    );
    expect(compiled.matches(new MatchContext(event({ Image: 'C:\\Windows\\System32\\cmd.exe' })))).toBe(
      false,
    );
    expect(r.author).toBe('Florian Roth');
    expect(r.level).toBe('high');
  });

  it('list of strings (keywords) is OR over the whole event', () => {
    expect(
      matches(
        "    keywords:\n        - 'EVILSERVICE'\n        - 'svchost.exe -n evil'\n    condition: keywords",
        [{ Message: 'started EvilService' }, { CommandLine: 'svchost.exe -n evil' }, { Message: 'fine' }],
      ),
    ).toEqual([true, true, false]);
  });

  it('list of maps is OR', () => {
    const detection =
      "    selection:\n        - Image|endswith: '\\\\example.exe'\n        - Description|contains: 'Test executable'\n    condition: selection";
    expect(
      matches(detection, [
        { Image: 'C:\\example.exe' },
        { Description: 'a Test executable' },
        { Image: 'C:\\other.exe' },
      ]),
    ).toEqual([true, true, false]);
  });

  it('maps are AND, lists inside are OR (EventLog Security and EventID 517 or 1102)', () => {
    const detection =
      '    selection:\n        EventLog: Security\n        EventID:\n            - 517\n            - 1102\n    condition: selection';
    expect(
      matches(detection, [
        { EventLog: 'Security', EventID: 1102 },
        { EventLog: 'Security', EventID: 4624 },
        { EventLog: 'System', EventID: 517 },
      ]),
    ).toEqual([true, false, false]);
  });

  it('TicketOptions / TicketEncryption', () => {
    const detection =
      "    selection:\n        EventLog: Security\n        EventID: 4769\n        TicketOptions: '0x40810000'\n        TicketEncryption: '0x17'\n    condition: selection";
    expect(
      matches(detection, [
        { EventLog: 'Security', EventID: 4769, TicketOptions: '0x40810000', TicketEncryption: '0x17' },
        { EventLog: 'Security', EventID: 4769, TicketOptions: '0x40810000', TicketEncryption: '0x12' },
      ]),
    ).toEqual([true, false]);
  });

  it('null: selection and not filter (PasswordLastSet: null)', () => {
    const detection =
      '    selection:\n        EventID: 4738\n    filter:\n        PasswordLastSet: null\n    condition: selection and not filter';
    expect(
      matches(detection, [
        { EventID: 4738, PasswordLastSet: '2024-01-01' },
        { EventID: 4738 },
        { EventID: 4738, PasswordLastSet: null },
      ]),
    ).toEqual([true, false, false]);
  });

  it('empty and null in separate selections', () => {
    const detection =
      "    selection_main:\n        FieldA: 'something'\n    selection_empty1:\n        FieldB: ''\n    selection_empty2:\n        FieldB: null\n    condition: selection_main and 1 of selection_empty*";
    expect(
      matches(detection, [
        { FieldA: 'something', FieldB: '' },
        { FieldA: 'something' },
        { FieldA: 'something', FieldB: 'x' },
      ]),
    ).toEqual([true, true, false]);
  });

  it('field existence', () => {
    const detection =
      '    selection:\n        EventID: 4738\n        PasswordLastSet|exists: true\n    condition: selection';
    expect(matches(detection, [{ EventID: 4738, PasswordLastSet: '' }, { EventID: 4738 }])).toEqual([
      true,
      false,
    ]);
  });

  it("keywords with '|all'", () => {
    const detection =
      "    keywords_cmdlet:\n        '|all':\n            - 'OabVirtualDirectory'\n            - ' -ExternalUrl '\n    condition: keywords_cmdlet";
    expect(
      matches(detection, [
        { Payload: 'Set-OabVirtualDirectory -ExternalUrl http://x' },
        { Payload: 'Set-OabVirtualDirectory' },
      ]),
    ).toEqual([true, false]);
  });

  it('placeholders: literal without expand, placeholder with it, \\% escapes', () => {
    const placeholders = { name: ['value'] };
    expect(item("field: '%name%'", { field: '%name%' }, { placeholders })).toBe(true);
    expect(item("field|expand: '%name%'", { field: 'value' }, { placeholders })).toBe(true);
    expect(item("field|expand: '\\%plain%name%'", { field: '%plainvalue' }, { placeholders })).toBe(true);
  });
});

describe('modifiers appendix examples', () => {
  it("utf16le: 'cmd' > 63 00 6d 00 64 00; utf16be and utf16 (BOM)", () => {
    expect(item("P|utf16le: 'cmd'", { P: 'c\u0000m\u0000d\u0000' })).toBe(true);
    expect(item("P|utf16be: 'cmd'", { P: '\u0000c\u0000m\u0000d' })).toBe(true);
    expect(item("P|utf16: 'cmd'", { P: '\u00ff\u00fec\u0000m\u0000d\u0000' })).toBe(true);
  });

  it('DestinationIp|cidr: 10.0.0.0/8', () => {
    expect(item('DestinationIp|cidr: 10.0.0.0/8', { DestinationIp: '10.1.1.1' })).toBe(true);
  });

  it("startswith replaces 'adm*', endswith '*\\cmd.exe'", () => {
    expect(item("User|startswith: 'adm'", { User: 'admin' })).toBe(item("User: 'adm*'", { User: 'admin' }));
    expect(item("Image|endswith: '\\cmd.exe'", { Image: 'c:\\cmd.exe' })).toBe(
      item("Image: '*\\cmd.exe'", { Image: 'c:\\cmd.exe' }),
    );
  });
});

describe.skipIf(!hasContent)("the specification's example documents (reference content)", () => {
  it('every rule, correlation and filter example of sigma-specification/tests/schema loads', async () => {
    const { files } = await collectFiles([contentPath('sigma-specification', 'tests', 'schema')], ['.yml']);
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const file of files) {
      const { rules, errors } = parseRuleText(await readFile(file, 'utf8'), file);
      expect(
        errors.map((e) => e.describe()),
        file,
      ).toEqual([]);
      const kind = file.includes('/correlation/')
        ? 'correlation'
        : file.includes('/filter/')
          ? 'filter'
          : 'detection';
      expect(
        rules.map((r) => r.kind),
        file,
      ).toContain(kind);
    }
  });
});
