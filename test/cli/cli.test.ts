import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';

async function dir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'vigil-cli-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(root, name), text);
  return root;
}

const RULE = `title: Whoami
id: 00000000-0000-0000-0000-0000000000aa
author: Tester
level: high
status: test
tags: [attack.discovery, attack.t1033]
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
`;

const EVENT = (image: string, record: number) =>
  JSON.stringify({
    Event: {
      System: {
        EventID: 1,
        EventRecordID: record,
        Channel: 'Microsoft-Windows-Sysmon/Operational',
        Computer: 'ws1',
        TimeCreated: { '#attributes': { SystemTime: '2024-05-01T10:00:00Z' } },
      },
      EventData: { Image: image, CommandLine: 'whoami, "quoted"' },
    },
  });

describe('vigil rules check', () => {
  it('--json: counts and every failure with file and line; exit 1 when something failed', async () => {
    const rules = await dir({ 'good.yml': RULE, 'bad.yml': RULE.replace('level: high', 'level: huge') });
    const result = vigil(['rules', 'check', rules, '--json']);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ files: 2, rules: 2, loaded: 1 });
    expect(report.failed).toEqual([
      { file: join(rules, 'bad.yml'), line: 4, error: expect.stringContaining('level') },
    ]);
  });

  it('prints a readable report and exits 0 when all load', async () => {
    const rules = await dir({ 'good.yml': RULE });
    const result = vigil(['rules', 'check', rules]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('1 rules: 1 loaded, 0 failed');
    expect(result.stdout).toContain('product: windows, category: process_creation');
  });

  it.skipIf(!hasContent)('loads the whole SigmaHQ pack with 0 failed', () => {
    const folders = ['rules', 'rules-emerging-threats', 'rules-threat-hunting', 'rules-compliance'].map((f) =>
      contentPath('sigma', f),
    );
    const result = vigil(['rules', 'check', ...folders, '--json']);
    const report = JSON.parse(result.stdout);
    expect(report.failed).toEqual([]);
    expect(report.loaded).toBe(3757);
    expect(result.status).toBe(0);
  });

  it.skipIf(!hasContent)(
    'says per log source of SigmaHQ rules/ which pipeline maps it, or why none does',
    () => {
      const result = vigil(['rules', 'check', contentPath('sigma', 'rules'), '--json']);
      const report = JSON.parse(result.stdout);
      const find = (logsource: Record<string, string>) =>
        report.logsources.find(
          (m: Record<string, unknown>) =>
            m.product === logsource.product &&
            m.service === logsource.service &&
            m.category === logsource.category,
        );
      expect(find({ product: 'zeek', service: 'rdp' })).toMatchObject({
        state: 'mapped',
        pipelines: ['zeek'],
      });
      expect(find({ product: 'aws', service: 'cloudtrail' })).toMatchObject({
        state: 'mapped',
        pipelines: ['aws'],
      });
      expect(find({ category: 'dns' })).toMatchObject({ state: 'mapped', pipelines: ['suricata', 'zeek'] });
      expect(find({ category: 'webserver' })).toMatchObject({ state: 'mapped', pipelines: ['web'] });
      expect(find({ product: 'linux', service: 'auditd' })).toMatchObject({
        state: 'mapped',
        pipelines: ['linux'],
      });
      // Every log source left unmapped has a reason written for it, not only the default one.
      const unmapped = report.logsources.filter(
        (m: { state: string }) => m.state !== 'mapped' && m.state !== 'product',
      );
      expect(unmapped.length).toBeGreaterThan(0);
      for (const m of unmapped)
        expect(m.reason, JSON.stringify(m)).not.toMatch(/^no pipeline (recognizes|maps|names)/);
      const text = vigil(['rules', 'check', contentPath('sigma', 'rules')]).stdout;
      expect(text).toMatch(
        /Log sources no pipeline maps \(\d+ rules\)\n {2}product: opencanary, category: application \(24\): OpenCanary/,
      );
      // macOS rules are mapped by the built-in pipeline (ESF events from eslogger).
      expect(text.slice(text.indexOf('Log sources no pipeline maps'))).not.toMatch(/product: macos/);
    },
  );

  it.skipIf(!hasContent)(
    'rules-placeholder fails clearly without a placeholder file and loads with one',
    () => {
      const folder = contentPath('sigma', 'rules-placeholder');
      const without = vigil(['rules', 'check', folder, '--json']);
      expect(without.status).toBe(1);
      expect(JSON.parse(without.stdout).failed[0].error).toMatch(
        /placeholder %.+% has no values: give them in a placeholder file/,
      );
      const withFile = vigil([
        'rules',
        'check',
        folder,
        '--json',
        '--placeholders',
        'examples/placeholders.yml',
      ]);
      expect(JSON.parse(withFile.stdout)).toMatchObject({ rules: 23, loaded: 23, failed: [] });
      expect(withFile.status).toBe(0);
    },
  );
});

describe('vigil hunt summary of sources', () => {
  it('says what the events were recognized as, and how many no pipeline recognized', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({
      'mixed.jsonl': [
        JSON.stringify({
          eventSource: 'cloudtrail.amazonaws.com',
          eventName: 'StopLogging',
          awsRegion: 'us-east-1',
        }),
        JSON.stringify({ eventSource: 's3.amazonaws.com', eventName: 'GetObject', awsRegion: 'us-east-1' }),
        JSON.stringify({ _path: 'dns', ts: 1, uid: 'C1', query: 'example.com' }),
        JSON.stringify({ something: 'else' }),
      ].join('\n'),
    });
    const result = vigil(['hunt', join(logs, 'mixed.jsonl'), '--rules', rules, '--no-progress']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('sources: aws/cloudtrail 2, zeek/dns 1\n');
    expect(result.stdout).toContain("1 events matched no pipeline's source");
  });
});

describe('vigil dump of a text log', () => {
  it('writes the fields of each record as JSON, one object per line', async () => {
    const logs = await dir({
      'auth.log':
        'Mar 27 13:06:56 web1 sshd[1291]: Failed password for root from 203.0.113.9 port 4242 ssh2\nMar 27 13:06:57 web1 sudo[12]: alice : TTY=pts/0 ; COMMAND=/bin/ls\n',
    });
    const result = vigil(['dump', join(logs, 'auth.log')]);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toMatchObject([
      { host: 'web1', app: 'sshd', pid: 1291, message: expect.stringMatching(/^Failed password/) },
      { host: 'web1', app: 'sudo' },
    ]);
  });
});

describe('vigil hunt', () => {
  it('writes detections as JSONL, CSV and a table, with a summary', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({
      'l.jsonl': [EVENT('C:\\Windows\\whoami.exe', 7), EVENT('C:\\cmd.exe', 8), '{broken'].join('\n'),
    });

    const jsonl = vigil(['hunt', logs, '--rules', rules, '--format', 'jsonl']);
    expect(jsonl.status).toBe(0);
    const lines = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      rule: { title: 'Whoami', author: 'Tester' },
      techniques: ['T1033'],
      source: { record: 7 },
    });
    expect(jsonl.stderr).toContain('1 detections: high 1');
    expect(jsonl.stderr).toMatch(/skipped .*l\.jsonl:3: record 3: not valid JSON/);

    const csv = vigil(['hunt', logs, '--rules', rules, '--format', 'csv', '--no-summary']);
    const [header, row] = csv.stdout.trim().split('\n');
    expect(header).toBe(
      'time,level,rule_id,rule_title,rule_author,techniques,tactics,host,channel,event_id,file,record,matched,indicator',
    );
    expect(row).toContain(
      '2024-05-01T10:00:00.000Z,high,00000000-0000-0000-0000-0000000000aa,Whoami,Tester,T1033,discovery,ws1',
    );

    const table = vigil(['hunt', logs, '--rules', rules]);
    expect(table.stdout).toContain('Whoami');
    expect(table.stdout).toContain('Hunt summary');
    expect(table.stdout).toContain('Top rules');
  });

  it('--output writes the detections to a file', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({ 'l.json': EVENT('C:\\whoami.exe', 1) });
    const out = join(logs, 'out.jsonl');
    const result = vigil([
      'hunt',
      join(logs, 'l.json'),
      '--rules',
      rules,
      '--format',
      'jsonl',
      '--output',
      out,
    ]);
    expect(result.status).toBe(0);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toContain(`written to ${out}`);
  });

  it('bad flags and missing inputs are clear errors, not stack traces', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const empty = await dir({});
    const logs = await dir({ 'l.json': EVENT('C:\\whoami.exe', 1) });
    const cases = [
      vigil(['hunt', empty, '--rules', rules]),
      vigil(['hunt', empty, '--rules', rules, '--format', 'xml']),
      vigil(['hunt', empty, '--rules', rules, '--min-level', 'urgent']),
      vigil(['hunt', logs], { VIGIL_CONTENT_DIR: join(empty, 'missing') }),
    ];
    for (const result of cases) {
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^vigil: error: /m);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(cases[3]!.stderr).toContain('--content DIR or VIGIL_CONTENT_DIR');
  });

  it("commander's own usage errors exit 2 like Vigil's; help and version exit 0", async () => {
    const logs = await dir({ 'l.json': EVENT('C:\\whoami.exe', 1) });
    const usage = [
      ['hunt', logs, '--bogus'],
      ['hunt'],
      ['hunt', logs, '--threads'],
      ['rules', 'check', '--pipeline', 'p.yml'],
      ['attack'],
      ['dump', logs, '--format'],
      ['vulns', 'list', '--nope'],
      ['no-such-command'],
    ];
    for (const args of usage) {
      const result = vigil(args);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toMatch(/^(vigil: error: |error: |Usage: )/m);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(vigil(['--version']).status).toBe(0);
    expect(vigil(['hunt', '--help']).status).toBe(0);
  });

  it('loads only the command it runs, yet help lists them all and global options come first', async () => {
    const help = vigil(['--help']);
    expect(help.status).toBe(0);
    for (const command of [
      'hunt',
      'search',
      'dump',
      'rules',
      'attack',
      'advisory',
      'content',
      'coverage',
      'assess',
      'vulns',
    ])
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({ 'l.json': EVENT('C:\\whoami.exe', 1) });
    const found = vigil([
      '--content',
      logs,
      'hunt',
      logs,
      '--rules',
      rules,
      '--format',
      'jsonl',
      '--no-summary',
    ]);
    expect(found.status).toBe(0);
    expect(found.stdout.trim().split('\n')).toHaveLength(1);
    const typo = vigil(['hnut', logs]);
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toContain("unknown command 'hnut'");
  });

  it.skipIf(!hasContent)('hunts the SigmaHQ regression events with the default rules from content', () => {
    const result = vigil(
      ['hunt', contentPath('sigma', 'regression_data'), '--format', 'jsonl', '--no-summary'],
      {
        VIGIL_CONTENT_DIR: contentPath(),
      },
    );
    expect(result.status).toBe(0);
    const detections = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(detections.length).toBeGreaterThan(300);
  });
});

describe('hunt filters', () => {
  const at = (host: string, time: string | undefined, record: number) => {
    const event = JSON.parse(EVENT('C:\\whoami.exe', record));
    event.Event.System.Computer = host;
    if (time === undefined) delete event.Event.System.TimeCreated;
    else event.Event.System.TimeCreated['#attributes'].SystemTime = time;
    return JSON.stringify(event);
  };
  const rules = () =>
    dir({
      'test-high.yml': RULE,
      'deprecated.yml': RULE.replace('aa', 'ab').replace('status: test', 'status: deprecated'),
      'experimental-low.yml': RULE.replace('aa', 'ac')
        .replace('status: test', 'status: experimental')
        .replace('level: high', 'level: low'),
    });
  const logs = () =>
    dir({
      'l.jsonl': [
        at('WS1.corp.example', '2024-05-01T10:00:00Z', 1),
        at('ws2', '2024-05-02T12:00:00Z', 2),
        at('ws1', undefined, 3),
      ].join('\n'),
    });
  const hits = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const d = JSON.parse(line);
        return `${d.source.record}:${d.rule.id.slice(-2)}`;
      })
      .sort();

  it('--from/--to (a date alone is its whole day), --host, and the summary counts what they left out', async () => {
    const [r, l] = await Promise.all([rules(), logs()]);
    const run = (...args: string[]) => vigil(['hunt', l, '--rules', r, '--format', 'jsonl', ...args]);
    expect(hits(run().stdout)).toEqual(['1:aa', '1:ac', '2:aa', '2:ac', '3:aa', '3:ac']);
    expect(hits(run('--from', '2024-05-01', '--to', '2024-05-01').stdout)).toEqual(['1:aa', '1:ac']);
    expect(hits(run('--from', '2024-05-01T12:30:00+02:00').stdout)).toEqual(['2:aa', '2:ac']);
    expect(hits(run('--to', '2024-05-01T10:00:00').stdout)).toEqual(['1:aa', '1:ac']);
    const hosts = run('--host', 'ws1', '--threads', '2');
    expect(hits(hosts.stdout)).toEqual(['1:aa', '1:ac', '3:aa', '3:ac']);
    expect(hosts.stderr).toContain('1 events left out: not on ws1');
    expect(hits(run('--host', 'WS2,nowhere').stdout)).toEqual(['2:aa', '2:ac']);
    const windowed = run('--from', '2024-05-02');
    expect(windowed.stderr).toContain(
      '2 events left out: outside 2024-05-02T00:00:00.000Z to the end (or without a time)',
    );
    for (const bad of [
      ['--from', 'yesterday'],
      ['--from', '2024-05-02', '--to', '2024-05-01'],
      ['--to', '2024-02-30'],
    ]) {
      const result = run(...bad);
      expect({ bad, status: result.status }).toEqual({ bad, status: 2 });
      expect(result.stderr).toMatch(/^vigil: error: --(from|to)/m);
    }
  });

  it('--level takes exact levels, --rule-status statuses; deprecated and unsupported rules are left out unless asked', async () => {
    const [r, l] = await Promise.all([rules(), logs()]);
    const run = (...args: string[]) =>
      vigil(['hunt', l, '--rules', r, '--format', 'jsonl', '--host', 'ws2', ...args]);
    expect(hits(run().stdout)).toEqual(['2:aa', '2:ac']);
    expect(hits(run('--rule-status', 'all').stdout)).toEqual(['2:aa', '2:ab', '2:ac']);
    expect(hits(run('--rule-status', 'deprecated,experimental').stdout)).toEqual(['2:ab', '2:ac']);
    expect(hits(run('--level', 'low').stdout)).toEqual(['2:ac']);
    expect(hits(run('--level', 'low,high', '--min-level', 'medium').stdout)).toEqual(['2:aa']);
    for (const bad of [
      ['--level', 'urgent'],
      ['--rule-status', 'stable,bogus'],
    ]) {
      const result = run(...bad);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^vigil: error: --(level|rule-status) takes /m);
    }
  });
});

describe('vigil search', () => {
  it('prints the matching events as a table, JSONL or CSV, with the fields that matched', async () => {
    const event = JSON.parse(EVENT('C:\\Tools\\Mimikatz.exe', 7));
    event.Event.EventData.CommandLine = 'mimikatz\n"sekurlsa::logonpasswords"\texit';
    const logs = await dir({ 'l.jsonl': [JSON.stringify(event), EVENT('C:\\cmd.exe', 8)].join('\n') });
    const table = vigil(['search', logs, '-k', 'MIMIKATZ']);
    expect(table.status).toBe(0);
    const [row, fields] = table.stdout.split('\n');
    expect(row).toMatch(
      /^2024-05-01 10:00:00Z\s+ws1\s+Microsoft-Windows-Sysmon\/Operational\s+1\s+.*l\.jsonl#7$/,
    );
    expect(fields!.trim()).toBe(
      'Image=C:\\Tools\\Mimikatz.exe; CommandLine=mimikatz↵"sekurlsa::logonpasswords"⇥exit',
    );
    expect(table.stdout).toContain('1 events matched');

    const jsonl = vigil([
      'search',
      logs,
      '-e',
      'sekurlsa::\\w+',
      '--field',
      'CommandLine',
      '--format',
      'jsonl',
    ]);
    const hit = JSON.parse(jsonl.stdout);
    expect(hit).toMatchObject({
      host: 'ws1',
      eventId: 1,
      source: { record: 7 },
      matched: { CommandLine: event.Event.EventData.CommandLine },
      event: { Image: 'C:\\Tools\\Mimikatz.exe' },
    });
    expect(jsonl.stderr).toContain('Search summary');

    const csv = vigil(['search', logs, '-k', 'cmd.exe', '--format', 'csv', '--no-summary']);
    const [header, line, more] = csv.stdout.trim().split('\n');
    expect(header).toBe('time,host,channel,event_id,file,record,matched,event');
    expect(line).toMatch(
      /^2024-05-01T10:00:00.000Z,ws1,Microsoft-Windows-Sysmon\/Operational,1,.*,8,Image=C:\\cmd\.exe,/,
    );
    expect(more).toBeUndefined();
  });

  it('exits 1 when an input could not be read, 2 on bad usage', async () => {
    const logs = await dir({ 'l.jsonl': EVENT('C:\\cmd.exe', 1), 'empty.evtx': '' });
    const partial = vigil(['search', logs, '-k', 'cmd', '--format', 'jsonl']);
    expect(partial.status).toBe(1);
    expect(partial.stdout.trim().split('\n')).toHaveLength(1);
    expect(partial.stderr).toMatch(/empty\.evtx: the file is empty/);
    for (const args of [
      [],
      ['-k', ''],
      ['-e', '(?<=a)b'],
      ['-k', 'x', '--format', 'xml'],
      ['-k', 'x', '--from', 'soon'],
    ]) {
      const result = vigil(['search', join(logs, 'l.jsonl'), ...args]);
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toMatch(/^vigil: error: /m);
    }
  });

  it.skipIf(!hasContent)('gives the same events on 1 and 2 threads over EVTX samples', () => {
    const folder = join(contentPath('..', 'datasets', 'evtx-attack-samples'), 'Credential Access');
    const args = ['search', folder, '-k', 'lsass', '--format', 'jsonl', '--no-summary'];
    const one = vigil([...args, '--threads', '1']);
    const two = vigil([...args, '--threads', '2']);
    expect(one.status).toBe(0);
    expect(one.stdout.trim().split('\n').length).toBeGreaterThan(10);
    expect(two.stdout).toBe(one.stdout);
  });
});

describe.skipIf(!hasContent)('vigil attack show and search, beyond techniques and groups', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = { VIGIL_HOME: await dir({}), VIGIL_CONTENT_DIR: contentPath() };
  });

  it('shows software, mitigations, campaigns and data components by ID, name or alias', () => {
    const software = vigil(['attack', 'show', 'S1070'], env);
    expect(software.status, software.stderr).toBe(0);
    expect(software.stdout).toMatch(/^S1070 Black Basta \(malware\)/);
    expect(software.stdout).toContain('T1486');
    expect(vigil(['attack', 'show', 'M1038'], env).stdout).toMatch(
      /^M1038 Execution Prevention \(mitigation\)/,
    );
    expect(vigil(['attack', 'show', 'Execution', 'Prevention'], env).stdout).toMatch(/^M1038 /);
    expect(vigil(['attack', 'show', 'C0017'], env).stdout).toMatch(/Attributed: +APT41 \(G0096\)/);
    expect(vigil(['attack', 'show', 'Process:', 'Process', 'Creation'], env).stdout).toMatch(
      /^DC0032 Process Creation \(data component\)/,
    );
    const json = JSON.parse(vigil(['attack', 'show', 'Hive0065', '--json'], env).stdout);
    expect(json).toMatchObject({ kind: 'group', id: 'G0092', aliases: expect.arrayContaining(['Hive0065']) });
    const technique = JSON.parse(vigil(['attack', 'show', 'T1218', '--json'], env).stdout);
    expect(technique).toMatchObject({ kind: 'technique', id: 'T1218', matchedBy: 'id' });
    const unknown = vigil(['attack', 'show', 'S9999'], env);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('ATT&CK v18.1 has no software "S9999"');
    const unnamed = vigil(['attack', 'show', 'Nothing', 'Like', 'This'], env);
    expect(unnamed.status).toBe(2);
    expect(unnamed.stderr).toContain(
      'has no technique, tactic, group, software, campaign, mitigation or data component "Nothing Like This"',
    );
  });

  it('search finds Hive in the groups and software ATT&CK describes with it, and keeps to --kind', () => {
    const all = JSON.parse(vigil(['attack', 'search', 'Hive', '--json'], env).stdout) as {
      id: string;
      kind: string;
    }[];
    expect(all.map((r) => r.id)).toEqual(expect.arrayContaining(['G1053', 'S1162']));
    const software = JSON.parse(
      vigil(['attack', 'search', 'ransomware', '--kind', 'software', '--limit', '5', '--json'], env).stdout,
    ) as { kind: string }[];
    expect(software).toHaveLength(5);
    expect(new Set(software.map((r) => r.kind))).toEqual(new Set(['software']));
    const table = vigil(['attack', 'search', 'black', 'basta'], env);
    expect(table.stdout).toMatch(/│ S1070 +│ software +│ Black Basta +│/);
    expect(vigil(['attack', 'search', 'x', '--kind', 'actor'], env).status).toBe(2);
  });
});

describe('option order', () => {
  it('logs written after --rules are hunted: a log file or a folder of logs is never a rule', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({ 'a.jsonl': EVENT('C:\\whoami.exe', 1) });
    const more = await dir({ 'b.json': EVENT('C:\\whoami.exe', 2) });
    const records = (stdout: string) =>
      stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).source.record);
    for (const args of [
      ['--rules', rules, logs],
      ['--rules', rules, join(logs, 'a.jsonl')],
      ['--rules', rules, '--', logs],
    ]) {
      const result = vigil(['hunt', '--format', 'jsonl', '--no-summary', ...args]);
      expect({ args, status: result.status }).toEqual({ args, status: 0 });
      expect(records(result.stdout)).toEqual([1]);
    }
    const mixed = vigil(['hunt', logs, '--rules', rules, more, '--format', 'jsonl', '--no-summary']);
    expect(mixed.status).toBe(0);
    expect(records(mixed.stdout)).toEqual([1, 2]);
    expect(mixed.stderr).toContain(`note: ${more} read as logs: --rules takes every path after it`);
  });

  it('when --rules took paths that may be rules, the error names them and shows how to write it', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const other = await dir({ 'o.yml': RULE });
    const result = vigil(['hunt', '--rules', rules, other]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `vigil: error: no logs given: --rules takes every path that follows it, so it took ${rules}, ${other}.`,
    );
    expect(result.stderr).toContain('vigil hunt --rules PATHS... -- LOGS...');
    const check = vigil(['rules', 'check', '--filters', join(other, 'o.yml'), rules]);
    expect(check.status).toBe(2);
    expect(check.stderr).toContain(`no rule paths given: --filters takes every path that follows it`);
  });
});

describe('exit codes: 0 only when every input was read', () => {
  it('hunt: an empty or non-EVTX file, a missing path or a folder without logs exit 1, after the rest is hunted', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({
      'good.jsonl': EVENT('C:\\whoami.exe', 1),
      'empty.evtx': '',
      'noise.evtx': 'x'.repeat(5000),
      'empty.jsonl': '',
    });
    const nothing = await dir({});
    const good = join(logs, 'good.jsonl');
    const cases: [string[], RegExp][] = [
      [[join(logs, 'empty.evtx')], /empty\.evtx: the file is empty/],
      [[join(logs, 'noise.evtx')], /noise\.evtx: not an EVTX file/],
      [[join(logs, 'empty.jsonl')], /empty\.jsonl: the file is empty/],
      [[join(logs, 'missing.evtx')], /missing\.evtx: no such file or folder/],
      [[nothing], /: no \.evtx, \.json, \.jsonl, \.ndjson, \.log files in this folder/],
    ];
    for (const [bad, told] of cases) {
      const result = vigil(['hunt', good, ...bad, '--rules', rules, '--format', 'jsonl']);
      expect({ bad, status: result.status }).toEqual({ bad, status: 1 });
      expect(result.stderr).toMatch(told);
      expect(result.stdout.trim().split('\n')).toHaveLength(1);
    }
    const summary = vigil(['hunt', good, join(logs, 'empty.evtx'), '--rules', rules]);
    expect(summary.stdout).toMatch(/1 files gave no event .*empty\.evtx/);
    expect(vigil(['hunt', good, '--rules', rules]).status).toBe(0);
  });

  it('hunt: a file with some damaged records was read (exit 0), and the summary says what was skipped', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({ 'l.jsonl': [EVENT('C:\\whoami.exe', 1), '{broken'].join('\n') });
    const result = vigil(['hunt', logs, '--rules', rules, '--format', 'jsonl']);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/skipped .*l\.jsonl:2: record 2: not valid JSON/);
    expect(result.stderr).toContain('1 problems: records or files that could not be read were skipped');
  });

  it('rules check: a folder without rule files or an empty rule file is a failure, not 0 rules', async () => {
    const rules = await dir({ 'good.yml': RULE, 'empty.yml': '', 'comments.yml': '# title: off\n' });
    const nothing = await dir({});
    const result = vigil(['rules', 'check', rules, nothing, '--json']);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.loaded).toBe(1);
    expect(report.failed).toEqual([
      { file: nothing, line: null, error: 'no .yml or .yaml files in this folder' },
      { file: join(rules, 'comments.yml'), line: null, error: 'the file holds no rule' },
      { file: join(rules, 'empty.yml'), line: null, error: 'the file is empty' },
    ]);
  });

  it.skipIf(!hasContent)(
    'coverage: a --logs path that is not there or a log nothing could be read from exits 1, after the report',
    async () => {
      const rules = await dir({ 'r.yml': RULE });
      const logs = await dir({ 'good.jsonl': EVENT('C:\\whoami.exe', 1), 'empty.evtx': '' });
      const home = await dir({});
      const result = vigil(
        [
          'coverage',
          '--rules',
          rules,
          '--reference',
          rules,
          '--group',
          'APT40',
          '--logs',
          logs,
          join(logs, 'missing'),
          '--format',
          'json',
        ],
        { VIGIL_HOME: home, VIGIL_CONTENT_DIR: contentPath() },
      );
      expect(result.status, result.stderr).toBe(1);
      expect(JSON.parse(result.stdout).techniques.length).toBeGreaterThan(0);
      expect(result.stderr).toMatch(/missing: no such file or folder/);
      expect(result.stderr).toMatch(/empty\.evtx: no event could be read/);
    },
  );

  it.skipIf(!hasContent)(
    'assess: a log nothing could be read from is named and exits 1, and the report is still written',
    async () => {
      const rules = await dir({ 'r.yml': RULE });
      const logs = await dir({ 'good.jsonl': EVENT('C:\\whoami.exe', 1), 'empty.evtx': '' });
      const out = join(await dir({}), 'report');
      const result = vigil(
        ['assess', '--group', 'APT40', '--rules', rules, '--reference', rules, '--logs', logs, '--out', out],
        { VIGIL_HOME: await dir({}), VIGIL_CONTENT_DIR: contentPath() },
      );
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr).toMatch(
        /empty\.evtx: no event could be read; it was not hunted and shows nothing collected/,
      );
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
      expect(report.hunt.events).toBe(1);
    },
  );

  it.skipIf(!hasContent)(
    'assess: a --vulns scan that cannot be read is named and exits 1, and the report is still written',
    async () => {
      const rules = await dir({ 'r.yml': RULE });
      const scans = await dir({ 'good.csv': 'asset,cve\nws1,CVE-2021-44228\n' });
      const out = join(await dir({}), 'report');
      const result = vigil(
        [
          'assess',
          '--group',
          'APT40',
          '--rules',
          rules,
          '--reference',
          rules,
          '--vulns',
          join(scans, 'missing.csv'),
          join(scans, 'good.csv'),
          '--out',
          out,
        ],
        { VIGIL_HOME: await dir({}), VIGIL_CONTENT_DIR: contentPath() },
      );
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/missing\.csv: cannot read the scan/);
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
      expect(report.exposure.findings).toBe(1);
    },
  );

  it('dump: a file nothing could be read from exits 1 and is named', async () => {
    const logs = await dir({ 'empty.evtx': '', 'noise.evtx': 'x'.repeat(5000) });
    const result = vigil(['dump', logs]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/2 files gave no record: .*empty\.evtx, .*noise\.evtx/);
  });
});

describe('odd paths and hostile values', () => {
  it('an output file in a missing folder is a clear error before any work', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const logs = await dir({ 'l.json': EVENT('C:\\whoami.exe', 1) });
    const result = vigil(['hunt', logs, '--rules', rules, '--output', join(logs, 'no', 'such', 'out.jsonl')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/vigil: error: .*out\.jsonl: cannot write the output file/);
  });

  it('a broken --filters file is a failure, not a silent no-op', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const filters = await dir({
      'f.yml':
        'title: F\nlogsource: {product: windows}\nfilter:\n    sel: {User: x}\n    condition: not sel and\n',
    });
    const result = vigil(['rules', 'check', rules, '--filters', join(filters, 'f.yml'), '--json']);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout).failed[0].file).toBe(join(filters, 'f.yml'));
  });

  it('folders reached through symbolic links are read', async () => {
    const { symlink } = await import('node:fs/promises');
    const rules = await dir({ 'r.yml': RULE });
    const links = await dir({});
    await symlink(rules, join(links, 'linked-rules'));
    await symlink(join(rules, 'r.yml'), join(links, 'linked.yml'));
    const result = vigil(['rules', 'check', links, '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({ files: 2, loaded: 2 });
  });

  it('the table keeps one line per detection and one for its fields, whatever the values hold', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const event = JSON.parse(EVENT('C:\\tools\\new\r\nline\t2\\whoami.exe', 1));
    event.Event.System.Computer = 'ws1\n\u001b[2J\u202egpj.exe';
    const logs = await dir({ 'l.json': JSON.stringify(event) });
    const result = vigil(['hunt', logs, '--rules', rules, '--no-summary']);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('ws1↵\\x1b[2J\\u202egpj.exe  EventID 1');
    expect(lines[1]!.trim()).toBe('Image=C:\\tools\\new↵line⇥2\\whoami.exe');
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    const summary = vigil(['hunt', logs, '--rules', rules]);
    expect(summary.stdout).toContain('│ ws1↵\\x1b[2J\\u202egpj.exe │');
    expect(summary.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });

  it('CSV cells cannot become spreadsheet formulas', async () => {
    const rules = await dir({ 'r.yml': RULE });
    const event = JSON.parse(EVENT('C:\\whoami.exe', 1));
    event.Event.System.Computer = '=HYPERLINK("http://x")';
    const logs = await dir({ 'l.json': JSON.stringify(event) });
    const csv = vigil(['hunt', logs, '--rules', rules, '--format', 'csv', '--no-summary']);
    expect(csv.stdout).toContain(`"'=HYPERLINK(""http://x"")"`);
  });
});

describe.skipIf(!hasContent)('vigil dump and EVTX hunting (reference content)', () => {
  const sample = () =>
    join(
      contentPath('..', 'datasets', 'evtx-attack-samples'),
      'Defense Evasion',
      'DE_1102_security_log_cleared.evtx',
    );

  it('writes every record as JSON lines that Vigil reads back, on 1 or 2 threads alike', async () => {
    const one = vigil(['dump', sample(), '--threads', '1']);
    const two = vigil(['dump', sample(), '--threads', '2']);
    expect(one.status).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    const lines = one.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].Event.System).toMatchObject({
      EventID: 1102,
      Channel: 'Security',
      Computer: 'PC01.example.corp',
    });
    expect(one.stderr).toMatch(/1 files, \d+ records/);
    const back = await dir({ 'd.jsonl': one.stdout });
    const hunted = vigil([
      'hunt',
      back,
      '--rules',
      contentPath('sigma', 'rules', 'windows', 'builtin', 'security'),
      '--format',
      'jsonl',
      '--no-summary',
    ]);
    const direct = vigil([
      'hunt',
      sample(),
      '--rules',
      contentPath('sigma', 'rules', 'windows', 'builtin', 'security'),
      '--format',
      'jsonl',
      '--no-summary',
    ]);
    const ids = (out: string) =>
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => `${JSON.parse(l).rule.id}#${JSON.parse(l).source.record}`);
    expect(ids(hunted.stdout).length).toBeGreaterThan(0);
    expect(ids(hunted.stdout)).toEqual(ids(direct.stdout));
  });

  it('json is one array, xml one document, fields the flat event shape', () => {
    const json = JSON.parse(vigil(['dump', sample(), '--format', 'json']).stdout);
    expect(Array.isArray(json) && json.length > 0).toBe(true);
    const xml = vigil(['dump', sample(), '--format', 'xml']).stdout;
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<Events>\n<Event xmlns=')).toBe(true);
    expect(xml.trim().endsWith('</Events>')).toBe(true);
    expect(xml).toContain('<EventID>1102</EventID>');
    const fields = JSON.parse(vigil(['dump', sample(), '--format', 'fields']).stdout.split('\n')[0]!);
    expect(fields).toMatchObject({
      source: { record: expect.any(Number) },
      fields: { EventID: 1102, Channel: 'Security' },
    });
  });

  it('hunt --timeline writes detections in time order', () => {
    const folder = join(contentPath('..', 'datasets', 'evtx-attack-samples'), 'Lateral Movement');
    const result = vigil([
      'hunt',
      folder,
      '--rules',
      contentPath('sigma', 'rules', 'windows'),
      '--format',
      'jsonl',
      '--timeline',
      '--no-summary',
    ]);
    const times = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).timeMs as number);
    expect(times.length).toBeGreaterThan(20);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('bad dump input is a clear error', async () => {
    const empty = await dir({});
    const result = vigil(['dump', empty]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no \.evtx files found/);
    expect(vigil(['dump', sample(), '--format', 'csv']).stderr).toMatch(
      /--format must be one of jsonl, json, xml, fields/,
    );
    expect(vigil(['dump', sample(), '--threads', '0']).stderr).toMatch(/--threads must be a whole number/);
  });
});
