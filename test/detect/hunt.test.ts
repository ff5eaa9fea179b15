import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../scripts/conformance.js';
import {
  type Detection,
  hunt,
  loadDetectionSetup,
  ruleSetDigest,
  runOrdered,
  workUnits,
} from '../../src/detect/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

async function dir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'vigil-hunt-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(root, name), text);
  return root;
}

const sec = (eventId: number, user: string, seconds: number) =>
  JSON.stringify({
    Event: {
      System: {
        EventID: eventId,
        Channel: 'Security',
        Computer: 'dc1',
        TimeCreated: {
          '#attributes': { SystemTime: new Date(Date.UTC(2024, 0, 1, 0, 0, seconds)).toISOString() },
        },
      },
      EventData: { TargetUserName: user },
    },
  });

const RULES = `title: Brute force then success
id: 00000000-0000-0000-0000-000000000001
correlation:
    type: temporal_ordered
    rules: [many_failed, success]
    group-by: [TargetUserName]
    timespan: 10m
level: critical
tags: [attack.credential-access, attack.t1110]
---
title: Many failed logons
id: 00000000-0000-0000-0000-000000000002
name: many_failed
correlation:
    type: event_count
    rules: [failed]
    group-by: [TargetUserName]
    timespan: 5m
    condition: {gte: 3}
---
title: Failed logon
id: 00000000-0000-0000-0000-000000000003
name: failed
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4625}
    condition: selection
level: low
---
title: Successful logon
id: 00000000-0000-0000-0000-000000000004
name: success
author: Someone
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4624}
    condition: selection
level: informational
`;

describe('hunting', () => {
  it('finds single-event detections and correlations across files, in time order', async () => {
    const rules = await dir({ 'rules.yml': RULES });
    // failures in one file, success in another, written out of time order
    const logs = await dir({
      'b.jsonl': [sec(4624, 'bob', 100), sec(4624, 'alice', 5)].join('\n'),
      'a.jsonl': [sec(4625, 'bob', 30), sec(4625, 'bob', 10), sec(4625, 'bob', 20)].join('\n'),
    });
    const options = { rules: [rules] };
    const setup = await loadDetectionSetup(options);
    expect(setup.errors).toEqual([]);
    const detections: Detection[] = [];
    const summary = await hunt([join(logs, 'a.jsonl'), join(logs, 'b.jsonl')], {
      setup: options,
      loaded: setup,
      onDetection: (d) => detections.push(d),
    });
    // The base rules feed correlations that do not ask to generate them: only the correlation reports.
    expect(detections.map((d) => d.rule.title)).toEqual(['Brute force then success']);
    const [found] = detections;
    expect(found).toMatchObject({
      rule: { level: 'critical', kind: 'correlation' },
      techniques: ['T1110'],
      tactics: ['credential-access'],
      host: 'dc1',
      time: '2024-01-01T00:01:40.000Z',
      correlation: { type: 'temporal_ordered', group: { TargetUserName: 'bob' } },
    });
    expect(found!.correlation!.events.length).toBeGreaterThanOrEqual(2);
    expect(summary).toMatchObject({ files: 2, events: 5, detections: 1, byLevel: { critical: 1 } });
  });

  it("a correlation reads its group-by and condition fields through the pipeline's fieldmap", async () => {
    const rules = await dir({
      'rules.yml': `title: Password spraying from one address
correlation:
    type: value_count
    rules: [failed_auth]
    group-by: [SourceIp]
    timespan: 10m
    condition:
        field: User
        gte: 3
---
title: Failed authentication
name: failed_auth
logsource: {product: linux, service: auth}
detection:
    selection: {Outcome: failure}
    condition: selection
`,
      // ECS records are not a product the built-in pipelines know: this one says which are Linux auth events.
      'ecs.yml':
        'name: ecs\nproducts:\n  linux:\n    event.outcome|exists: true\nlogsources:\n  - logsource: {product: linux, service: auth}\n    sources:\n      - when: {event.outcome|exists: true}\nfieldmap:\n  SourceIp: source.ip\n  User: user.name\n  Outcome: event.outcome\n',
    });
    const line = (seconds: number, user: string, ip: string) =>
      JSON.stringify({
        '@timestamp': new Date(Date.UTC(2024, 0, 1, 0, 0, seconds)).toISOString(),
        event: { outcome: 'failure' },
        user: { name: user },
        source: { ip },
      });
    const logs = await dir({
      'auth.jsonl': [
        line(0, 'alice', '10.0.0.1'),
        line(1, 'bob', '10.0.0.2'),
        line(2, 'carol', '10.0.0.3'),
        line(3, 'dave', '10.0.0.9'),
        line(4, 'erin', '10.0.0.9'),
        line(5, 'frank', '10.0.0.9'),
      ].join('\n'),
    });
    const options = { rules: [join(rules, 'rules.yml')], pipelines: [join(rules, 'ecs.yml')] };
    const detections: Detection[] = [];
    await hunt([join(logs, 'auth.jsonl')], { setup: options, onDetection: (d) => detections.push(d) });
    // three users from three addresses are no spraying; three from one address are
    expect(detections.map((d) => [d.rule.title, d.correlation?.group, d.correlation?.value])).toEqual([
      ['Password spraying from one address', { SourceIp: '10.0.0.9' }, 3],
    ]);
  });

  it('compiles only the rules a report scope needs, and correlations still see the rules they read', async () => {
    const lone = `title: Lone low rule
id: 00000000-0000-0000-0000-000000000009
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4625}
    condition: selection
level: low
`;
    const rules = await dir({ 'rules.yml': RULES, 'lone.yml': lone });
    const logs = await dir({
      'a.jsonl': [
        sec(4625, 'bob', 10),
        sec(4625, 'bob', 20),
        sec(4625, 'bob', 30),
        sec(4624, 'bob', 40),
      ].join('\n'),
    });
    const options = { rules: [rules], report: { minLevel: 'high' as const } };
    const setup = await loadDetectionSetup(options);
    expect([setup.ruleSet.rules.length, setup.running]).toEqual([3, 2]);
    const titles: string[] = [];
    await hunt([join(logs, 'a.jsonl')], {
      setup: options,
      loaded: setup,
      minLevel: 'high',
      onDetection: (d) => titles.push(d.rule.title),
    });
    expect(titles).toEqual(['Brute force then success']);
    expect((await loadDetectionSetup({ rules: [rules] })).running).toBe(3);
  });

  it('a time window or host scope leaves events out before the rules: correlations count only those inside', async () => {
    const rules = await dir({ 'rules.yml': RULES });
    const logs = await dir({
      'a.jsonl': [
        sec(4625, 'bob', 10),
        sec(4625, 'bob', 20),
        sec(4625, 'bob', 30),
        sec(4624, 'bob', 40),
      ].join('\n'),
    });
    const options = { rules: [rules] };
    const setup = await loadDetectionSetup(options);
    const run = async (scope: Parameters<typeof hunt>[1]['scope']) => {
      const titles: string[] = [];
      const summary = await hunt([join(logs, 'a.jsonl')], {
        setup: options,
        loaded: setup,
        scope,
        onDetection: (d) => titles.push(d.rule.title),
      });
      return { titles, events: summary.events, outOfScope: summary.outOfScope };
    };
    expect(await run(undefined)).toEqual({ titles: ['Brute force then success'], events: 4, outOfScope: 0 });
    // Without the first failure, two failures are not 'at least 3': no correlation fires.
    expect(await run({ from: Date.UTC(2024, 0, 1, 0, 0, 15) })).toEqual({
      titles: [],
      events: 4,
      outOfScope: 1,
    });
    expect(await run({ hosts: ['DC1'] })).toEqual({
      titles: ['Brute force then success'],
      events: 4,
      outOfScope: 0,
    });
    expect(await run({ hosts: ['dc2'] })).toEqual({ titles: [], events: 4, outOfScope: 4 });
  });

  it('reports rule author, ATT&CK tags, matched fields and place; honours --min-level', async () => {
    const rules = await dir({
      'r.yml': `title: Whoami
id: 00000000-0000-0000-0000-0000000000aa
author: Florian Roth
level: medium
tags: [attack.discovery, attack.t1033]
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\\whoami.exe'
        User|contains: 'admin'
    condition: selection
`,
    });
    const logs = await dir({
      'p.json': JSON.stringify({
        Event: {
          System: { EventID: 1, Channel: 'Microsoft-Windows-Sysmon/Operational', Computer: 'ws1' },
          EventData: {
            Image: 'C:\\Windows\\System32\\whoami.exe',
            User: 'CORP\\admin',
            CommandLine: 'whoami',
          },
        },
      }),
    });
    const options = { rules: [rules] };
    const setup = await loadDetectionSetup(options);
    const detections: Detection[] = [];
    await hunt([join(logs, 'p.json')], {
      setup: options,
      loaded: setup,
      onDetection: (d) => detections.push(d),
    });
    expect(detections[0]).toMatchObject({
      rule: { id: '00000000-0000-0000-0000-0000000000aa', author: 'Florian Roth', level: 'medium' },
      techniques: ['T1033'],
      tactics: ['discovery'],
      host: 'ws1',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      eventId: 1,
      source: { file: join(logs, 'p.json'), record: 1 },
      matched: { Image: 'C:\\Windows\\System32\\whoami.exe', User: 'CORP\\admin' },
    });
    const high: Detection[] = [];
    await hunt([join(logs, 'p.json')], {
      setup: options,
      loaded: setup,
      minLevel: 'high',
      onDetection: (d) => high.push(d),
    });
    expect(high).toEqual([]);
  });
});

describe.skipIf(!hasContent)('Sigma conformance on SigmaHQ regression data (reference content)', () => {
  it('every rule with regression data fires on its own events, from JSON and from EVTX alike', async () => {
    const lines: string[] = [];
    const result = await runConformance(contentPath('sigma'), (line) => lines.push(line));
    expect(lines.filter((l) => l.startsWith('FAIL') || l.startsWith('DIFFERENT'))).toEqual([]);
    expect(result).toMatchObject({
      total: 202,
      json: { passed: 202, failed: 0, events: 238 },
      evtx: { passed: 202, failed: 0, events: 238 },
      formatDifferences: [],
    });
  });
});

describe('hostile and odd input', () => {
  it('a record nested thousands deep is skipped or read without taking the hunt down', async () => {
    const rules = await dir({
      'r.yml': `title: Keyword\nid: 00000000-0000-0000-0000-0000000000bb\nlogsource: {product: my_app}\ndetection:\n    keywords: ['whoami']\n    condition: keywords\n`,
    });
    const deep = `{"a":${'['.repeat(6000)}${']'.repeat(6000)}}`;
    const deeper = `{"a":${'{"b":'.repeat(20000)}1${'}'.repeat(20000)}}`;
    const logs = await dir({
      'x.jsonl': [deep, deeper, '{"cmd":"whoami /all"}', '\ufeff'].join('\n'),
      'bom.jsonl': '\ufeff{"cmd":"whoami"}\n',
    });
    const options = { rules: [rules] };
    const setup = await loadDetectionSetup(options);
    const found: Detection[] = [];
    const errors: string[] = [];
    await hunt([join(logs, 'x.jsonl'), join(logs, 'bom.jsonl')], {
      setup: options,
      loaded: setup,
      onDetection: (d) => found.push(d),
      onError: (e) => errors.push(e.message),
    });
    expect(found.map((d) => d.source.file.split('/').pop())).toEqual(['x.jsonl', 'bom.jsonl']);
  });
});

describe.skipIf(!hasContent)('parallel hunting (reference content)', () => {
  it('gives the same detections, in the same order, on 1 and 2 threads', async () => {
    const options = { rules: [contentPath('sigma', 'rules', 'windows')] };
    const setup = await loadDetectionSetup(options);
    const samples = contentPath('..', 'datasets', 'evtx-attack-samples');
    const files = [
      join(samples, 'Command and Control', 'bits_openvpn.evtx'),
      join(samples, 'AutomatedTestingTools', 'PanacheSysmon_vs_AtomicRedTeam01.evtx'),
      join(samples, 'Credential Access', 'CA_sysmon_hashdump_cmd_meterpreter.evtx'),
    ];
    const run = async (threads: number) => {
      const found: string[] = [];
      const summary = await hunt(files, {
        setup: options,
        loaded: setup,
        threads,
        onDetection: (d) => found.push(`${d.rule.id} ${d.source.file} ${d.source.record}`),
      });
      return { found, events: summary.events };
    };
    const one = await run(1);
    const two = await run(2);
    expect(one.found.length).toBeGreaterThan(10);
    expect(two).toEqual(one);
  });

  it("the digest that tells workers' rules from this thread's: same files, same digest", async () => {
    const rule = (id: string) =>
      `title: Any Sysmon event\nid: ${id}\nlogsource: { product: windows }\ndetection:\n  selection: { Channel: Microsoft-Windows-Sysmon/Operational }\n  condition: selection\n`;
    const a = await dir({ 'rule.yml': rule('6f9b0d8e-3c0a-4c55-9d0e-5d8a4c1b2a10') });
    const b = await dir({ 'rule.yml': rule('0c1e7a52-8f3d-4b6e-a1c9-2d4f6b8e0a13') });
    const digest = async (rules: string) =>
      ruleSetDigest((await loadDetectionSetup({ rules: [rules] })).ruleSet);
    expect(await digest(a)).toBe(await digest(a));
    expect(await digest(a)).not.toBe(await digest(b));
  });

  it('workers refused once ready leave all the work to this thread, results in order', async () => {
    const file = join(
      contentPath('..', 'datasets', 'evtx-attack-samples'),
      'AutomatedTestingTools',
      'PanacheSysmon_vs_AtomicRedTeam01.evtx',
    );
    const run = async (accept: boolean) => {
      let readiness: (() => void) | undefined;
      const workersReady = new Promise<void>((resolve) => {
        readiness = resolve;
      });
      const handled: string[] = [];
      await runOrdered<{ by: string; chunk: number }>(
        workUnits([file], [0]),
        2,
        { kind: 'dump', format: 'jsonl' },
        async () => {
          await workersReady; // the decision on the workers is made before this thread starts
          return (unit) => ({ by: 'main', chunk: unit.kind === 'evtx' ? unit.chunk : -1 });
        },
        (result) => {
          handled.push(`${'by' in result ? result.by : 'worker'}`);
        },
        {
          acceptWorkers: () => {
            readiness!();
            return accept;
          },
        },
      );
      return handled;
    };
    const refused = await run(false);
    expect(refused.length).toBe(17);
    expect(new Set(refused)).toEqual(new Set(['main']));
    expect(new Set(await run(true))).toContain('worker');
  });
});
