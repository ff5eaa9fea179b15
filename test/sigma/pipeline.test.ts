import { describe, expect, it } from 'vitest';
import type { FieldValue } from '../../src/core/index.js';
import { DetectionEngine } from '../../src/detect/index.js';
import {
  assembleRuleSet,
  builtinPipelines,
  combinePipelines,
  type Pipeline,
  parsePipeline,
  parseRuleText,
} from '../../src/sigma/index.js';
import { event } from '../helpers/sigma.js';

const rule = (id: string, logsource: string, selection: string) => `title: ${id}
id: ${id}
logsource: ${logsource}
detection:
    selection:
${selection}
    condition: selection
`;

async function engineFor(texts: string[], extra: Pipeline[] = []): Promise<DetectionEngine> {
  const { rules, errors } = parseRuleText(texts.join('---\n'), 'p.yml');
  expect(errors).toEqual([]);
  const set = assembleRuleSet(rules, 1);
  return new DetectionEngine(set.rules, combinePipelines([...(await builtinPipelines()), ...extra]));
}

function fired(engine: DetectionEngine, fields: Record<string, FieldValue>): string[] {
  return engine.evaluate(event(fields)).map((m) => m.rule.id!);
}

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const WHOAMI = rule(
  'proc',
  '{category: process_creation, product: windows}',
  "        Image|endswith: '\\whoami.exe'",
);

describe('the built-in Windows pipeline', () => {
  it('process_creation is Sysmon 1, or Security 4688 with its own image field names', async () => {
    const engine = await engineFor([WHOAMI]);
    expect(fired(engine, { Channel: SYSMON, EventID: 1, Image: 'C:\\whoami.exe' })).toEqual(['proc']);
    expect(fired(engine, { Channel: 'Security', EventID: 4688, NewProcessName: 'C:\\whoami.exe' })).toEqual([
      'proc',
    ]);
    expect(fired(engine, { Channel: 'Security', EventID: 4688, Image: 'C:\\whoami.exe' })).toEqual([]);
    expect(fired(engine, { Channel: SYSMON, EventID: 11, Image: 'C:\\whoami.exe' })).toEqual([]);
    expect(fired(engine, { Channel: 'security', EventID: '4688', NewProcessName: 'C:\\whoami.exe' })).toEqual(
      ['proc'],
    );
  });

  it('the matched fields are reported under the event names', async () => {
    const engine = await engineFor([WHOAMI]);
    const [match] = engine.evaluate(
      event({ Channel: 'Security', EventID: 4688, NewProcessName: 'C:\\whoami.exe' }),
    );
    expect(match?.matched).toEqual({ NewProcessName: 'C:\\whoami.exe' });
  });

  it('registry_add and registry_delete are Sysmon 12 by EventType', async () => {
    const engine = await engineFor([
      rule('add', '{category: registry_add, product: windows}', "        TargetObject|contains: '\\Run'"),
      rule('del', '{category: registry_delete, product: windows}', "        TargetObject|contains: '\\Run'"),
      rule('any', '{category: registry_event, product: windows}', "        TargetObject|contains: '\\Run'"),
    ]);
    const base = { Channel: SYSMON, TargetObject: 'HKLM\\...\\Run\\x' };
    expect(fired(engine, { ...base, EventID: 12, EventType: 'CreateKey' })).toEqual(['add', 'any']);
    expect(fired(engine, { ...base, EventID: 12, EventType: 'DeleteValue' })).toEqual(['del', 'any']);
    expect(fired(engine, { ...base, EventID: 13, EventType: 'SetValue' })).toEqual(['any']);
  });

  it('services are channels; categories of other products never see Windows events', async () => {
    const engine = await engineFor([
      rule('sec', '{product: windows, service: security}', '        EventID: 4624'),
      rule('lnx', '{product: linux, category: process_creation}', "        Image|endswith: '/whoami'"),
      rule('web', '{category: webserver}', "        cs-uri-query|contains: 'cmd='"),
    ]);
    expect(fired(engine, { Channel: 'Security', EventID: 4624 })).toEqual(['sec']);
    expect(fired(engine, { Channel: 'System', EventID: 4624 })).toEqual([]);
    expect(fired(engine, { Channel: SYSMON, EventID: 1, Image: '/usr/bin/whoami' })).toEqual([]);
    expect(fired(engine, { Image: '/usr/bin/whoami' })).toEqual([]);
    expect(
      fired(engine, { Channel: 'Linux-Sysmon/Operational', EventID: 1, Image: '/usr/bin/whoami' }),
    ).toEqual(['lnx']);
    expect(fired(engine, { 'cs-uri-stem': '/a.aspx', 'cs-uri-query': 'cmd=id' })).toEqual(['web']);
  });

  it('a Windows log source no pipeline maps runs on all Windows events, and is counted', async () => {
    const engine = await engineFor([
      rule('new', '{product: windows, service: brand-new-channel}', '        EventID: 42'),
    ]);
    expect(fired(engine, { Channel: 'Anything', EventID: 42 })).toEqual(['new']);
    expect(fired(engine, { EventID: 42 })).toEqual([]);
    expect(engine.routing.unmapped.map((u) => u.rule.id)).toEqual(['new']);
  });

  it('the antivirus category maps Defender events and renames Signature and Filename', async () => {
    const engine = await engineFor([
      rule('av', '{category: antivirus}', "        Signature|contains: 'Mimikatz'"),
    ]);
    expect(
      fired(engine, {
        Channel: 'Microsoft-Windows-Windows Defender/Operational',
        EventID: 1116,
        ThreatName: 'HackTool:Win32/Mimikatz',
      }),
    ).toEqual(['av']);
  });
});

describe('pipelines of the user', () => {
  const custom = parsePipeline(
    `name: my-edr
products:
  edr:
    source: my-edr
logsources:
  - logsource: {category: process_creation, product: windows}
    sources:
      - when: {source: my-edr, type: exec}
        fieldmap: {Image: process.path}
fieldmap:
  CommandLine: process.command_line
`,
    'edr.yml',
  );

  it('take precedence over the built-in mapping of the log sources they name', async () => {
    const engine = await engineFor([WHOAMI], [custom]);
    expect(fired(engine, { source: 'my-edr', type: 'exec', 'process.path': 'C:\\whoami.exe' })).toEqual([
      'proc',
    ]);
    expect(fired(engine, { Channel: SYSMON, EventID: 1, Image: 'C:\\whoami.exe' })).toEqual([]);
  });

  it('apply their field renames to every rule', async () => {
    const engine = await engineFor(
      [rule('cmd', '{product: windows, service: security}', "        CommandLine|contains: 'whoami'")],
      [custom],
    );
    expect(fired(engine, { Channel: 'Security', 'process.command_line': 'whoami /all' })).toEqual(['cmd']);
  });

  it('are validated with file and line', () => {
    expect(() =>
      parsePipeline('name: x\nlogsources:\n  - logsource: {category: a}\n    sources: []\n', 'bad.yml'),
    ).toThrow(/logsources\.0\.sources/);
    try {
      parsePipeline(
        'name: x\nlogsources:\n  - logsource: {category: a}\n    sources:\n      - when: {Field|nomod: 1}\n',
        'bad.yml',
      );
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe('SIGMA_PIPELINE');
      expect((error as { location: { line: number } }).location.line).toBe(5);
    }
  });
});

describe('pipeline edge cases', () => {
  it('an EventID with a wildcard is a condition, not an index key', async () => {
    const pipeline = parsePipeline(
      'name: wild\nlogsources:\n  - logsource: {product: windows, category: odd}\n    sources:\n      - when: {Channel: Security, EventID: "46*"}\n',
      'wild.yml',
    );
    const engine = await engineFor(
      [rule('odd', '{product: windows, category: odd}', "        TargetUserName: 'bob'")],
      [pipeline],
    );
    expect(fired(engine, { Channel: 'Security', EventID: 4624, TargetUserName: 'bob' })).toEqual(['odd']);
    expect(fired(engine, { Channel: 'Security', EventID: 4768, TargetUserName: 'bob' })).toEqual([]);
  });
});
