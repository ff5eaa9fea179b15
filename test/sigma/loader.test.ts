import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectFiles } from '../../src/core/index.js';
import { loadRules, parseRuleText } from '../../src/sigma/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

const GOOD = `title: Whoami Execution
id: 5a6fd2a1-9c3b-4d2e-8f1a-0b1c2d3e4f50
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
level: high
`;

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-rules-'));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

describe('loading rules', () => {
  it('loads folders recursively, .yml and .yaml, and ignores other files', async () => {
    const dir = await folder({
      'a.yml': GOOD,
      'sub/deeper/b.yaml': GOOD.replace('5a6f', '6a6f'),
      'README.md': '# no',
    });
    const set = await loadRules([dir]);
    expect(set.files).toBe(2);
    expect(set.rules).toHaveLength(2);
    expect(set.errors).toEqual([]);
  });

  it('reports a broken rule with file, line and field, and loads the rest', async () => {
    const broken = GOOD.replace(
      "Image|endswith: '\\whoami.exe'",
      "Image|endswith: '\\whoami.exe'\n        Other|badmod: x",
    );
    const dir = await folder({
      'good.yml': GOOD,
      'broken.yml': broken,
      'bad-yaml.yml': 'title: [unclosed\n',
    });
    const set = await loadRules([dir]);
    expect(set.rules).toHaveLength(1);
    expect(set.errors).toHaveLength(2);
    const modifier = set.errors.find((e) => e.code === 'SIGMA_MODIFIER')!;
    expect(modifier.location).toMatchObject({
      file: join(dir, 'broken.yml'),
      line: 9,
      field: 'detection.selection.Other|badmod',
    });
    const yaml = set.errors.find((e) => e.code === 'SIGMA_YAML')!;
    expect(yaml.location.file).toBe(join(dir, 'bad-yaml.yml'));
    expect(yaml.location.line).toBeGreaterThanOrEqual(1);
  });

  it('a missing path is an error, not a crash', async () => {
    const set = await loadRules(['/nonexistent/vigil/rules']);
    expect(set.errors[0]?.code).toBe('FILE_NOT_FOUND');
  });

  it('validates the fields the spec defines', () => {
    const cases: [string, RegExp][] = [
      [GOOD.replace('title: Whoami Execution\n', ''), /title: is required/],
      [GOOD.replace('level: high', 'level: severe'), /level/],
      [
        GOOD.replace('logsource:\n    category: process_creation\n    product: windows\n', ''),
        /logsource: is required/,
      ],
      [GOOD.replace('    condition: selection\n', ''), /missing condition/],
      [
        GOOD.replace("        Image|endswith: '\\whoami.exe'\n", '        Image:\n            nested: map\n'),
        /values must be/,
      ],
      ['just a string', /must be a map/],
      [`${GOOD}\nunknown_section: 1\nextra: [1]`, /^$/],
    ];
    for (const [text, message] of cases) {
      const { errors } = parseRuleText(text, 'x.yml');
      if (message.source === '^$') expect(errors).toEqual([]);
      else expect(errors[0]?.describe(), text).toMatch(message);
    }
  });

  it('the line of a schema error is the line of the field', () => {
    const { errors } = parseRuleText(GOOD.replace('level: high', 'level: severe'), 'x.yml');
    expect(errors[0]?.location).toMatchObject({ line: 10, field: 'level' });
  });

  it('reads several documents in one file', () => {
    const { rules, errors } = parseRuleText(`${GOOD}---\n${GOOD.replace('Whoami', 'Other')}`, 'x.yml');
    expect(errors).toEqual([]);
    expect(rules.map((r) => r.title)).toEqual(['Whoami Execution', 'Other Execution']);
    expect(rules[1]!.kind === 'detection' && rules[1]!.origin).toMatchObject({ document: 2, line: 12 });
  });

  it('resists YAML alias bombs', () => {
    const bomb = `title: t\na: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`;
    const { errors } = parseRuleText(bomb, 'bomb.yml');
    expect(errors[0]?.code).toBe('SIGMA_YAML');
  });
});

describe('legacy rule collections (action: global / reset / repeat)', () => {
  it('merges the global document into each rule after it', () => {
    const text = `action: global
title: Shared title
detection:
    selection:
        EventID: 1
    condition: selection
---
logsource:
    product: windows
    service: sysmon
---
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4688
`;
    const { rules, errors } = parseRuleText(text, 'c.yml');
    expect(errors).toEqual([]);
    expect(rules).toHaveLength(2);
    expect(rules.map((r) => r.kind === 'detection' && r.logsource.service)).toEqual(['sysmon', 'security']);
    expect(rules.every((r) => r.title === 'Shared title')).toBe(true);
  });

  it('reset forgets the global part; repeat builds on the previous rule', () => {
    const text = `action: global
title: G
---
logsource: {product: a}
detection: {s: {X: 1}, condition: s}
---
action: repeat
logsource: {product: b}
---
action: reset
---
title: Alone
logsource: {product: c}
detection: {s: {X: 1}, condition: s}
`;
    const { rules, errors } = parseRuleText(text, 'c.yml');
    expect(errors).toEqual([]);
    expect(rules.map((r) => [r.title, r.kind === 'detection' && r.logsource.product])).toEqual([
      ['G', 'a'],
      ['G', 'b'],
      ['Alone', 'c'],
    ]);
  });
});

describe.skipIf(!hasContent)('the SigmaHQ corpus (reference content)', () => {
  it('loads every rule of rules, rules-emerging-threats, rules-threat-hunting and rules-compliance', async () => {
    const set = await loadRules(
      ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-compliance'].map((f) =>
        contentPath('sigma', f),
      ),
    );
    expect(set.errors.map((e) => e.describe())).toEqual([]);
    expect(set.rules.length).toBe(3757);
  });

  it('rules-placeholder fails clearly without placeholder values and loads with them', async () => {
    const folder = contentPath('sigma', 'rules-placeholder');
    const without = await loadRules([folder]);
    expect(without.errors.length).toBeGreaterThan(0);
    expect(
      without.errors.every(
        (e) => e.code === 'SIGMA_PLACEHOLDER' && /%\w[\w-]*%/.test(e.message) && e.location.line,
      ),
    ).toBe(true);
    const placeholders = new Map<string, string[]>();
    for (const name of [
      'Administrators',
      'Admins_Workstations',
      'ApprovedUserUpn',
      'Approved_Inviters',
      'DomainControllers',
      'HomeTenantID',
      'Important_AppIds',
      'KNOWN_LOCATION',
      'Known_Location',
      'Legitimate_Countries',
      'Legitimate_IP_Ranges',
      'ServerSystems',
      'UnApprovedDevice',
      'UnApprovedIp',
      'UnLegitCountries',
      'Workstations',
      'dc_ip_addresses',
      'dc_machine_accounts',
      'domain_controller_hostnames',
      'internal_domains',
      'legit_ips',
      'legtimate_identifiers',
      'userdomain',
      'DC-MACHINE-NAME',
    ]) {
      placeholders.set(name, [`example-${name.toLowerCase()}`]);
    }
    const withValues = await loadRules([folder], { placeholders });
    expect(withValues.errors.map((e) => e.describe())).toEqual([]);
    expect(withValues.rules).toHaveLength(23);
  });
});

describe('rules are untrusted input', () => {
  it('custom YAML tags are refused, with their line', () => {
    const { errors, rules } = parseRuleText(
      'title: t\nlogsource: {product: x}\ndetection:\n    sel:\n        A: !include /etc/passwd\n    condition: sel\n',
      'x.yml',
    );
    expect(rules).toEqual([]);
    expect(errors[0]).toMatchObject({ code: 'SIGMA_YAML', location: { line: 5 } });
    expect(errors[0]!.message).toContain('custom tags are not allowed');
  });
});

describe('the two YAML readers agree', () => {
  const texts = [
    'title: a\n',
    '# comment\n---\ntitle: a\n---\n\n---\ntitle: b\n...\n',
    'title: a\ndescription: |\n    line\n    --- not a marker\n---  # next\ntitle: b\n',
    'action: global\ntitle: g\n---\nlogsource: {product: x}\n',
    'a: [1, 2]\nb: {c: true, d: null, e: 0x10, f: 1.5, g: "2019-10-23", h: 2019-10-23}\n',
  ];
  it('gives the same documents, lines and values from js-yaml and from yaml', async () => {
    const { parseSigmaYaml, parsePrecisely } = await import('../../src/sigma/yaml.js');
    const view = (parsed: ReturnType<typeof parseSigmaYaml>) =>
      parsed.documents.map((d) => [d.index, d.line, d.data]);
    for (const text of texts)
      expect(view(parseSigmaYaml(text, 'x.yml')), text).toEqual(view(parsePrecisely(text, 'x.yml')));
  });

  it.skipIf(!hasContent)('on every rule file of the SigmaHQ pack', async () => {
    const { parseSigmaYaml, parsePrecisely } = await import('../../src/sigma/yaml.js');
    const { files } = await collectFiles([contentPath('sigma')], ['.yml']);
    expect(files.length).toBeGreaterThan(4000);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const fast = parseSigmaYaml(text, file).documents.map((d) => [d.index, d.line, d.data]);
      const slow = parsePrecisely(text, file).documents.map((d) => [d.index, d.line, d.data]);
      expect(fast, file).toEqual(slow);
    }
  });
});
