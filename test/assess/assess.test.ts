import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assessmentFiles,
  type CoverageOptions,
  coverageJson,
  defaultRulePaths,
  incomplete,
  type Notice,
  openAttack,
  runAssessment,
  runCoverage,
} from '../../src/assess/index.js';
import type { VigilError } from '../../src/core/index.js';
import { contentDir, hasContent } from '../helpers/content.js';

/** The workflows called as a library, on hand-made rules, inventories and logs, with the shared ATT&CK. */

const rule = (id: string, title: string, tag: string, logsource: string, detection: string) =>
  `title: ${title}\nid: ${id}\nstatus: test\nlevel: high\ntags: [${tag}]\nlogsource: ${logsource}\ndetection:\n${detection}\n`;

const WHOAMI = rule(
  '00000000-0000-0000-0000-0000000000a1',
  'Whoami',
  'attack.t1033',
  '{ category: process_creation, product: windows }',
  "    sel: { Image|endswith: '\\whoami.exe' }\n    condition: sel",
);
const SCRIPT = rule(
  '00000000-0000-0000-0000-0000000000a2',
  'Encoded PowerShell script',
  'attack.t1059.001',
  '{ category: ps_script, product: windows }',
  "    sel: { ScriptBlockText|contains: 'FromBase64String' }\n    condition: sel",
);
const LSASS = rule(
  '00000000-0000-0000-0000-0000000000a3',
  'LSASS access',
  'attack.t1003.001',
  '{ category: process_access, product: windows }',
  "    sel: { TargetImage|endswith: '\\lsass.exe' }\n    condition: sel",
);

const sysmonEvent = (image: string, record: number) =>
  JSON.stringify({
    Event: {
      System: {
        EventID: 1,
        EventRecordID: record,
        Channel: 'Microsoft-Windows-Sysmon/Operational',
        Computer: 'ws1',
        TimeCreated: { '#attributes': { SystemTime: '2024-05-01T10:00:00Z' } },
      },
      EventData: { Image: image, CommandLine: 'whoami /all' },
    },
  });

/** Each notice's severity, input and problem codes, and the files they name: what a face acts on. */
function summarize(notices: readonly Notice[]) {
  return notices.map((n) => ({
    severity: n.severity,
    input: n.input,
    problems: n.problems.map((p: VigilError) => ({ code: p.code, file: p.location.file })),
  }));
}

describe.skipIf(!hasContent)('the assess workflows, called as a library', () => {
  let dir: string;
  let base: CoverageOptions;
  let logs: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-assess-lib-'));
    const files: Record<string, string> = {
      'rules/whoami.yml': WHOAMI,
      'rules/script.yml': SCRIPT,
      'rules/broken.yml': 'title: no detection here\n',
      'reference/lsass.yml': LSASS,
      'threat.json': JSON.stringify({
        name: 'Hand-made threat',
        techniques: ['T1033', 'T1059.001', 'T1003.001', 'T1686'].map((techniqueID) => ({ techniqueID })),
      }),
      'inventory.yml': [
        'name: Office',
        'windows:',
        '  Microsoft-Windows-Sysmon/Operational: [1]',
        'groups:',
        '  dmz:',
        '    windows: { Security: [4624] }',
        '',
      ].join('\n'),
      'logs/good.jsonl': `${sysmonEvent('C:\\Windows\\System32\\whoami.exe', 1)}\n${sysmonEvent('C:\\x\\cmd.exe', 2)}\n`,
      'logs/empty.evtx': '',
      'scans/good.csv': 'asset,cve\nws1,CVE-2021-44228\n',
    };
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    logs = join(dir, 'logs');
    base = {
      content: contentDir,
      cache: join(dir, 'cache'),
      rules: [join(dir, 'rules')],
      reference: [join(dir, 'reference')],
      layers: [join(dir, 'threat.json')],
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runCoverage: states from the rules and the inventory, per host group, with notices told and kept', async () => {
    const told: Notice[] = [];
    const steps: string[] = [];
    const run = await runCoverage({
      ...base,
      logsources: join(dir, 'inventory.yml'),
      onNotice: (notice) => told.push(notice),
      onInventory: (inventory) => steps.push(`inventory ${inventory?.name}`),
      onCoverage: (computed) => steps.push(`coverage ${computed.report.techniques.length}`),
    });
    const states = Object.fromEntries(run.report.techniques.map((t) => [t.id, t.state]));
    expect(states).toEqual({ T1033: 'covered', 'T1059.001': 'blind', 'T1003.001': 'available' });
    expect(run.groups.get('dmz')?.techniques.find((t) => t.id === 'T1033')?.state).toBe('blind');
    expect(steps).toEqual(['inventory Office', 'coverage 3']);
    expect(run.deployed.map((r) => r.id).sort()).toEqual([
      '00000000-0000-0000-0000-0000000000a1',
      '00000000-0000-0000-0000-0000000000a2',
    ]);
    expect(run.ruleTitles.get('00000000-0000-0000-0000-0000000000a3')).toBe('LSASS access');
    // The technique ATT&CK v18.1 does not know is a warning, the rule that cannot be used is skipped.
    expect(summarize(run.notices)).toEqual([
      {
        severity: 'warning',
        input: 'threat',
        problems: [{ code: 'ATTACK_UNKNOWN_TECHNIQUE', file: undefined }],
      },
      {
        severity: 'skipped',
        input: 'rules',
        problems: [{ code: expect.any(String), file: join(dir, 'rules', 'broken.yml') }],
      },
    ]);
    expect(run.notices[0]!.problems[0]!.message).toMatch(/^Hand-made threat: .*does not know T1686/);
    expect(told).toEqual(run.notices);
    expect(incomplete(run.notices)).toBe(false);
    // The JSON faces give: the group's states beside the estate's.
    expect(coverageJson(run.report, run.groups).groups.dmz!.states).toMatchObject({ T1033: 'blind' });
  });

  it('runCoverage: without an inventory the logs stand for it; paths not there and logs not read are errors', async () => {
    const missing = join(dir, 'no-such-logs');
    const run = await runCoverage({ ...base, logs: [logs, missing] });
    expect(run.inventory?.inferred).toBe(true);
    expect(run.report.techniques.find((t) => t.id === 'T1033')?.state).toBe('covered');
    expect(summarize(run.notices.filter((n) => n.input === 'logs'))).toEqual([
      { severity: 'error', input: 'logs', problems: [{ code: 'FILE_NOT_FOUND', file: missing }] },
      {
        severity: 'error',
        input: 'logs',
        problems: [{ code: 'LOG_UNREAD', file: join(logs, 'empty.evtx') }],
      },
    ]);
    expect(incomplete(run.notices)).toBe(true);

    const nothing = await runCoverage(base);
    expect(nothing.inventory).toBeUndefined();
    expect(nothing.report.techniques.find((t) => t.id === 'T1033')?.state).toBe('blind');

    const empty = join(dir, 'reference');
    await expect(runCoverage({ ...base, logs: [empty] })).rejects.toMatchObject({ code: 'NO_INPUT_FILES' });
  });

  it('runAssessment: one pass hunts the logs and infers the inventory; a scan not read costs only its findings', async () => {
    const told: Notice[] = [];
    const result = await runAssessment({
      ...base,
      logs: [logs],
      vulns: [join(dir, 'scans', 'missing.csv'), join(dir, 'scans', 'good.csv')],
      onNotice: (notice) => told.push(notice),
    });
    expect(result.hunt).toMatchObject({ files: 2, events: 2, detections: 1, inScopeTotal: 1 });
    expect(result.hunt?.byTechnique).toEqual({ T1033: 1 });
    expect(result.run.inventory?.inferred).toBe(true);
    expect(result.run.report.techniques.find((t) => t.id === 'T1033')?.state).toBe('covered');
    expect(result.exposure?.findings).toBe(1);
    const errors = result.notices.filter((n) => n.severity === 'error');
    expect(summarize(errors)).toEqual([
      {
        severity: 'error',
        input: 'logs',
        problems: [{ code: 'LOG_UNREAD', file: join(logs, 'empty.evtx') }],
      },
      {
        severity: 'error',
        input: 'scan',
        problems: [{ code: 'VULN_UNREADABLE', file: join(dir, 'scans', 'missing.csv') }],
      },
    ]);
    expect(errors[0]!.problems[0]!.message).toBe(
      'no event could be read; it was not hunted and shows nothing collected',
    );
    expect(told).toEqual(result.notices);
    // report.json is the assessment with the coverage as `vigil coverage --format json` gives it.
    expect(result.json.coverage).toEqual(coverageJson(result.run.report, result.run.groups));
    expect(result.layer.name).toBe('Vigil assessment');
    const files = assessmentFiles(result);
    expect(files.map((f) => f.name)).toEqual(['report.json', 'report.md', 'report.html', 'layer.json']);
    expect(JSON.parse(files[0]!.text).hunt.inScopeTotal).toBe(1);
  });

  it('runAssessment with an inventory: the logs are hunted only, and a log not read says so', async () => {
    const result = await runAssessment({ ...base, logs: [logs], logsources: join(dir, 'inventory.yml') });
    expect(result.run.inventory?.inferred).toBe(false);
    expect(result.exposure).toBeNull();
    const unread = result.notices.find((n) => n.input === 'logs');
    expect(unread?.problems.map((p) => p.message)).toEqual(['no event could be read; it was not hunted']);
  });

  it('workflows print nothing: what they have to say comes as notices', async () => {
    const written: string[] = [];
    const stdout = process.stdout.write;
    const stderr = process.stderr.write;
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    let notices: Notice[];
    try {
      ({ notices } = await runAssessment({ ...base, logs: [logs, join(dir, 'no-such-logs')] }));
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    }
    expect(notices.length).toBeGreaterThanOrEqual(3);
    expect(written).toEqual([]);
    expect(process.exitCode ?? 0).toBe(0);
  });
});

describe('content the workflows need', () => {
  it('is a coded error when missing, not a usage message of the CLI', () => {
    const empty = mkdtempSync(join(tmpdir(), 'vigil-no-content-'));
    try {
      expect(() => defaultRulePaths(empty)).toThrow(expect.objectContaining({ code: 'CONTENT_MISSING' }));
      expect(() => openAttack(empty, join(empty, 'cache'))).toThrow(
        expect.objectContaining({ code: 'ATTACK_MISSING' }),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
