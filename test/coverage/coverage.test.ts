import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AttackIndex, buildKnowledge, parseStixBundle } from '../../src/attack/index.js';
import {
  assessCoverage,
  type Collection,
  collects,
  coverageLayer,
  detectionScore,
  type LogNeed,
  type LogSourceMap,
  logsourceNeed,
  needText,
  parseInventory,
  platformsNamedIn,
  type RuleFacts,
  readThreatLayer,
  ruleFacts,
  type ThreatProfile,
} from '../../src/coverage/index.js';
import { loadDetectionSetup, recognizedLogsources } from '../../src/detect/index.js';
import { builtinPipelines, combinePipelines } from '../../src/sigma/index.js';
import { contentPath, hasContent } from '../helpers/content.js';
import {
  attackRelease,
  bundleText,
  matrix,
  mitreRef,
  relationship,
  tactic,
  technique,
} from '../helpers/stix.js';

/** A hand-made ATT&CK: four techniques, two data components with the log sources ATT&CK names. */
function smallAttack(): AttackIndex {
  const objects = [
    attackRelease('18.1'),
    matrix('1', '2'),
    tactic('1', 'TA0002', 'Execution', 'execution'),
    tactic('2', 'TA0040', 'Impact', 'impact'),
    technique('1', 'T1059', 'Scripting', ['execution']),
    technique('2', 'T1059.001', 'PowerShell', ['execution']),
    technique('3', 'T1003', 'Dumping', ['execution']),
    technique('4', 'T1486', 'Encrypt', ['impact']),
    {
      type: 'x-mitre-data-component',
      id: 'x-mitre-data-component--1',
      name: 'Process Creation',
      external_references: mitreRef('DC0032'),
      x_mitre_log_sources: [
        { name: 'WinEventLog:Sysmon', channel: 'EventCode=1' },
        { name: 'WinEventLog:Security', channel: 'EventCode=4688' },
      ],
    },
    {
      type: 'x-mitre-data-component',
      id: 'x-mitre-data-component--2',
      name: 'Script Execution',
      external_references: mitreRef('DC0029'),
      x_mitre_log_sources: [
        { name: 'WinEventLog:PowerShell', channel: 'EventCode=4104' },
        { name: 'auditd:SYSCALL', channel: 'execve' },
      ],
    },
    {
      type: 'x-mitre-detection-strategy',
      id: 'x-mitre-detection-strategy--1',
      x_mitre_analytic_refs: ['x-mitre-analytic--1'],
    },
    {
      type: 'x-mitre-analytic',
      id: 'x-mitre-analytic--1',
      x_mitre_log_source_references: [
        { x_mitre_data_component_ref: 'x-mitre-data-component--1' },
        { x_mitre_data_component_ref: 'x-mitre-data-component--2' },
      ],
    },
    relationship('1', 'detects', 'x-mitre-detection-strategy--1', 'attack-pattern--2'),
  ];
  return new AttackIndex(buildKnowledge(parseStixBundle(bundleText(objects), 'small.json')));
}

const MAP: LogSourceMap = {
  windowsChannels: new Map([
    ['Sysmon', 'Microsoft-Windows-Sysmon/Operational'],
    ['PowerShell', 'Microsoft-Windows-PowerShell/Operational'],
  ]),
  sigmaLogsources: new Map([['auditd:SYSCALL', { product: 'linux', service: 'auditd' }]]),
};

const SYSMON = 'microsoft-windows-sysmon/operational';

function rule(id: string, techniques: string[], extra: Partial<RuleFacts> = {}): RuleFacts {
  return {
    id,
    title: id,
    level: 'high',
    status: 'test',
    file: `${id}.yml`,
    techniques,
    unknownTags: [],
    needs: [{ kind: 'windows', channel: SYSMON, eventIds: [1] }],
    validated: false,
    ...extra,
  };
}

function collection(
  windows: Record<string, number[] | 'all'>,
  logsources: Collection['logsources'] = [],
): Collection {
  return {
    windows: new Map(
      Object.entries(windows).map(([k, v]) => [k.toLowerCase(), v === 'all' ? 'all' : new Set(v)]),
    ),
    logsources,
  };
}

describe('coverage states and scores', () => {
  const attack = smallAttack();
  const threat: ThreatProfile = {
    name: 'Test group',
    kind: 'group',
    techniques: new Map([
      ['T1059.001', ['uses PowerShell']],
      ['T1059', []],
      ['T1003', []],
      ['T1486', []],
    ]),
  };

  it('pins each state: covered, blind, available, uncovered', () => {
    const report = assessCoverage({
      attack,
      threats: [threat],
      deployed: [
        rule('ps-1', ['T1059.001']),
        rule('dump-1', ['T1003'], { needs: [{ kind: 'windows', channel: 'security', eventIds: [4656] }] }),
      ],
      reference: [rule('ps-1', ['T1059.001']), rule('enc-ref', ['T1486'])],
      collection: collection({ [SYSMON]: [1] }),
      logSourceMap: MAP,
    });
    const state = Object.fromEntries(report.techniques.map((t) => [t.id, t.state]));
    expect(state).toEqual({ 'T1059.001': 'covered', T1059: 'covered', T1003: 'blind', T1486: 'available' });
    const dump = report.techniques.find((t) => t.id === 'T1003')!;
    expect(dump.rules).toEqual({ deployed: [], blind: ['dump-1'], available: [] });
    expect(dump.missingLogs).toEqual(['security 4656']);
    // A rule already deployed is not "available" again.
    expect(report.techniques.find((t) => t.id === 'T1059.001')!.rules.available).toEqual([]);
    expect(report.counts).toEqual({ covered: 2, blind: 1, available: 1, uncovered: 0, outside: 0 });

    const none = assessCoverage({
      attack,
      threats: [threat],
      deployed: [],
      reference: [],
      collection: collection({}),
      logSourceMap: MAP,
    });
    expect(none.techniques.every((t) => t.state === 'uncovered')).toBe(true);
    expect(none.backlog.map((b) => [b.action, b.fix])).toEqual([
      ['write a rule', 'write a rule for T1003 Dumping'],
      ['write a rule', 'write a rule for T1059 Scripting'],
      ['write a rule', 'write a rule for T1059.001 PowerShell'],
      ['write a rule', 'write a rule for T1486 Encrypt'],
    ]);
  });

  it('counts rules tagged for a newer ATT&CK once, and says they may cover what looks uncovered', () => {
    const newer = { unknownTags: ['attack.t1685', 'attack.t1686.003'] };
    const report = assessCoverage({
      attack,
      threats: [threat],
      deployed: [rule('tamper-1', [], newer)],
      // Deployed and in the reference set both: still one rule.
      reference: [rule('tamper-1', [], newer), rule('tamper-2', [], { unknownTags: ['attack.t1685'] })],
      collection: collection({ [SYSMON]: [1] }),
      logSourceMap: MAP,
    });
    expect(report.rulesWithUnknownTags).toBe(2);
    expect(report.unknownTags).toEqual([
      { tag: 'attack.t1685', rules: 2 },
      { tag: 'attack.t1686.003', rules: 1 },
    ]);
    const uncovered = report.backlog.filter((b) => b.techniques.some((t) => t.state === 'uncovered'));
    expect(uncovered.length).toBeGreaterThan(0);
    for (const item of uncovered) {
      expect(item.fix).toMatch(
        /^write a rule for T\S+ \w+ \(no rule is tagged with it, but 2 rules carry ATT&CK IDs this release does not know and may detect it: update ATT&CK first\)$/,
      );
    }
  });

  it('rolls sub-techniques up to their parent without counting a rule twice', () => {
    const report = assessCoverage({
      attack,
      threats: [threat],
      deployed: [rule('both', ['T1059', 'T1059.001']), rule('sub', ['T1059.001'])],
      reference: [],
      collection: collection({ [SYSMON]: 'all' }),
      logSourceMap: MAP,
    });
    expect(report.techniques.find((t) => t.id === 'T1059')!.rules.deployed).toEqual(['both', 'sub']);
    expect(report.techniques.find((t) => t.id === 'T1059.001')!.rules.deployed).toEqual(['both', 'sub']);
  });

  it('scores visibility by the share of data components collected, through the sources ATT&CK names', () => {
    const visibility = (c: Collection) =>
      assessCoverage({
        attack,
        threats: [threat],
        deployed: [],
        reference: [],
        collection: c,
        logSourceMap: MAP,
      }).techniques.find((t) => t.id === 'T1059.001')!;
    expect(visibility(collection({})).visibilityScore).toBe(0);
    const half = visibility(collection({ Security: [4688] }));
    expect(half.visibilityScore).toBe(3); // 1 of 2 components: 2.5, rounded
    expect(half.dataComponents).toEqual([
      { id: 'DC0029', name: 'Script Execution', visible: false },
      { id: 'DC0032', name: 'Process Creation', visible: true },
    ]);
    expect(visibility(collection({ Security: [4688] }, [{ product: 'linux' }])).visibilityScore).toBe(5);
    expect(visibility(collection({ Security: [4624], [SYSMON]: [3] })).visibilityScore).toBe(0);
    // A sub-technique without components of its own would use its parent's; T1486 has none at all.
    expect(
      assessCoverage({
        attack,
        threats: [threat],
        deployed: [],
        reference: [],
        collection: collection({ Security: 'all' }),
        logSourceMap: MAP,
      }).techniques.find((t) => t.id === 'T1486')!.visibilityScore,
    ).toBe(0);
  });

  it('scores detection on its documented scale', () => {
    const r = (status: RuleFacts['status'], level: RuleFacts['level'], validated = false) =>
      rule('x', [], { status, level, validated });
    expect(detectionScore([])).toBe(0);
    expect(detectionScore([r('experimental', 'high')])).toBe(1);
    expect(detectionScore([r('stable', 'low')])).toBe(1);
    expect(detectionScore([r('test', 'medium')])).toBe(2);
    expect(detectionScore([r('stable', 'critical')])).toBe(3);
    expect(detectionScore([r('test', 'medium'), r('test', 'high')])).toBe(3);
    expect(detectionScore([r('test', 'medium'), r('test', 'high'), r('stable', 'high')])).toBe(3);
    expect(detectionScore([r('test', 'medium'), r('test', 'high'), r('stable', 'high', true)])).toBe(4);
    expect(
      detectionScore([...Array(4)].map(() => r('test', 'high', true)).concat([r('stable', 'medium')])),
    ).toBe(5);
  });

  it('computes maturity from its parts and ranks the backlog', () => {
    const report = assessCoverage({
      attack,
      threats: [
        threat,
        { name: 'Other', kind: 'advisory', techniques: new Map([['T1486', ['encrypts files']]]) },
      ],
      deployed: [
        rule('ps-1', ['T1059.001'], { validated: true }),
        rule('dump-1', ['T1003'], { needs: [{ kind: 'windows', channel: 'security', eventIds: [4656] }] }),
      ],
      reference: [rule('enc-ref', ['T1486'])],
      collection: collection({ [SYSMON]: [1] }),
      logSourceMap: MAP,
    });
    const t = report.techniques;
    const visibility = t.reduce((s, x) => s + x.visibilityScore, 0) / (5 * t.length);
    const detection = t.reduce((s, x) => s + x.detectionScore, 0) / (5 * t.length);
    expect(report.maturity.parts.validation).toBe(1);
    expect(report.maturity.score).toBe(Math.round(100 * (0.4 * visibility + 0.4 * detection + 0.2)));
    // T1486 is used by both threat profiles: its gap weighs more than T1003's.
    expect(report.backlog.map((b) => [b.action, b.techniques.map((x) => x.id)])).toEqual([
      ['deploy rules', ['T1486']],
      ['collect logs', ['T1003']],
    ]);
  });
});

/**
 * A hand-made ATT&CK with platforms: a reconnaissance technique, Windows techniques, one of the
 * cloud, and two that are Windows among others.
 */
function platformAttack(): AttackIndex {
  const windows = { x_mitre_platforms: ['Windows'] };
  const objects = [
    attackRelease('18.1'),
    matrix('1', '2', '3', '4', '5', '6'),
    tactic('1', 'TA0043', 'Reconnaissance', 'reconnaissance'),
    tactic('2', 'TA0002', 'Execution', 'execution'),
    tactic('3', 'TA0005', 'Defense Evasion', 'defense-evasion'),
    tactic('4', 'TA0006', 'Credential Access', 'credential-access'),
    tactic('5', 'TA0010', 'Exfiltration', 'exfiltration'),
    tactic('6', 'TA0040', 'Impact', 'impact'),
    technique('1', 'T1595', 'Active Scanning', ['reconnaissance'], { x_mitre_platforms: ['PRE'] }),
    technique('2', 'T1059', 'Scripting', ['execution'], windows),
    technique('3', 'T1070', 'Indicator Removal', ['defense-evasion'], windows),
    technique('4', 'T1556', 'Authentication Process', ['credential-access'], {
      x_mitre_platforms: ['Identity Provider', 'Windows'],
    }),
    technique('5', 'T1537', 'Transfer Data to Cloud Account', ['exfiltration'], {
      x_mitre_platforms: ['IaaS', 'SaaS'],
    }),
    technique('6', 'T1486', 'Encrypt', ['impact'], { x_mitre_platforms: ['Linux', 'Windows'] }),
  ];
  return new AttackIndex(buildKnowledge(parseStixBundle(bundleText(objects), 'platforms.json')));
}

describe('the backlog', () => {
  const attack = platformAttack();
  const POWERSHELL = 'Microsoft-Windows-PowerShell/Operational';
  const script: LogNeed[] = [
    { kind: 'windows', channel: POWERSHELL, eventIds: [4104] },
    { kind: 'windows', channel: 'PowerShellCore/Operational', eventIds: [4104] },
  ];
  const cloudtrail: LogNeed[] = [{ kind: 'logsource', logsource: { product: 'aws', service: 'cloudtrail' } }];
  const deployed = [
    rule('proc-1', ['T1059']),
    // Two script-block rules: one fix (either PowerShell channel) lets both see.
    rule('script-1', ['T1059', 'T1070'], { needs: script }),
    rule('script-2', ['T1070'], { needs: script }),
    ...['trail-1', 'trail-2', 'trail-3'].map((id) => rule(id, ['T1537'], { needs: cloudtrail })),
    rule('okta-1', ['T1556'], {
      needs: [{ kind: 'logsource', logsource: { product: 'okta', service: 'okta' } }],
    }),
    rule('clamav-1', ['T1595'], {
      needs: [{ kind: 'logsource', logsource: { product: 'linux', service: 'clamav' } }],
    }),
  ];
  const everything = new Map(['T1595', 'T1059', 'T1070', 'T1556', 'T1537', 'T1486'].map((id) => [id, []]));
  const assess = (threat: Partial<ThreatProfile>) =>
    assessCoverage({
      attack,
      threats: [{ name: 'Ransomware', kind: 'advisory', techniques: everything, ...threat }],
      deployed,
      reference: [],
      collection: collection({ [SYSMON]: [1] }),
      logSourceMap: MAP,
    });

  it("puts the threat's and the team's platforms first, pre-compromise apart, and one fix per log source", () => {
    const report = assess({ platforms: ['Windows'] });
    expect(report.platforms).toEqual({ threat: ['Windows'], inventory: ['Windows'] });
    expect(
      report.backlog.map((b) => [
        b.fix,
        b.relevance,
        b.rules,
        b.techniques.map((t) => t.id + (t.closes ? '!' : '')),
      ]),
    ).toEqual([
      // Closes a gap, on Windows, for logs: first, though it also serves a covered technique.
      [
        `collect ${POWERSHELL} 4104 or PowerShellCore/Operational 4104`,
        'threat-and-inventory',
        2,
        ['T1059', 'T1070!'],
      ],
      // Blind only through Okta logs: writing a rule for Windows is what the team can act on.
      [
        'write a rule for T1556 Authentication Process on Windows (its 1 deployed rule(s) read only okta logs)',
        'threat-and-inventory',
        0,
        ['T1556!'],
      ],
      // Linux is neither the threat's nor the team's: the rule to write is for Windows.
      ['write a rule for T1486 Encrypt on Windows', 'threat-and-inventory', 0, ['T1486!']],
      // Platforms neither has come last, the gap they close before the depth they add.
      ['collect product: aws, service: cloudtrail', 'elsewhere', 3, ['T1537!']],
      ['collect product: okta, service: okta', 'elsewhere', 1, ['T1556']],
    ]);
    expect(report.backlog[0]!.why).toBe(
      "closes the gap on T1070; 2 deployed rule(s) start seeing; Windows: the threat's platform, and you collect from it",
    );
    expect(report.backlog[3]!.why).toBe(
      "closes the gap on T1537; 3 deployed rule(s) start seeing; IaaS: neither the threat's platform (Windows) nor one you collect from, so last",
    );
    // Reconnaissance is outside the team's telemetry: no backlog item, no gap, apart in the counts.
    expect(report.techniques.find((t) => t.id === 'T1595')!.state).toBe('outside');
    expect(report.backlog.some((b) => b.techniques.some((t) => t.id === 'T1595'))).toBe(false);
    expect(report.counts).toEqual({ covered: 1, blind: 3, available: 0, uncovered: 1, outside: 1 });
  });

  it("without the threat's platforms, each technique's own stand in", () => {
    const report = assess({});
    expect(report.platforms.threat).toEqual([]);
    const trail = report.backlog.find((b) => b.fix === 'collect product: aws, service: cloudtrail')!;
    expect(trail.relevance).toBe('threat');
    expect(trail.why).toMatch(
      /IaaS: the technique's \(ATT&CK\) platform, which you collect nothing from yet$/,
    );
    // Okta logs now serve a platform of T1556: no rule to write for Windows instead.
    expect(report.backlog.map((b) => b.fix)).not.toContain(expect.stringMatching(/^write a rule for T1556/));
  });

  it('leaves pre-compromise techniques out of the maturity score', () => {
    const without = new Map([...everything].filter(([id]) => id !== 'T1595'));
    expect(assess({ platforms: ['Windows'] }).maturity).toEqual(
      assess({ platforms: ['Windows'], techniques: without }).maturity,
    );
  });
});

describe('platforms a report names', () => {
  it('reads operating systems, clouds and appliances, minding case where the word is common', () => {
    expect(
      platformsNamedIn('Hive targets Microsoft Exchange servers and has variants for Linux and VMware ESXi.'),
    ).toEqual(['Windows', 'Linux', 'ESXi']);
    expect(platformsNamedIn('exploited FortiOS; data went to AWS S3 and Office 365 mailboxes')).toEqual([
      'IaaS',
      'Office Suite',
      'Network Devices',
    ]);
    // Lower-case "windows" is a time span, an Azure CDN host is not Azure use.
    expect(platformsNamedIn('in maintenance windows, beacons to x.azureedge.net; Azure AD sign-ins')).toEqual(
      ['Identity Provider'],
    );
  });

  it.skipIf(!hasContent)('finds Windows, Linux, ESXi and FortiOS in the Hive advisory', () => {
    const text = readFileSync(contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'), 'utf8');
    expect(platformsNamedIn(text)).toEqual(['Windows', 'Linux', 'ESXi', 'Network Devices']);
  });
});

describe('reading inventories', () => {
  it('reads channels, event IDs, other log sources and groups', () => {
    const inventory = parseInventory(
      'name: HQ\nwindows:\n  Security: all\n  Microsoft-Windows-Sysmon/Operational: [1, 3]\nlogsources:\n  - { product: Linux, service: auditd }\ngroups:\n  dmz:\n    windows: { Security: 4624 }\n',
      'inv.yml',
    );
    expect(inventory.name).toBe('HQ');
    expect(inventory.collection.windows.get('security')).toBe('all');
    expect([...(inventory.collection.windows.get(SYSMON) as Set<number>)]).toEqual([1, 3]);
    expect(inventory.collection.logsources).toEqual([{ product: 'linux', service: 'auditd' }]);
    expect([...(inventory.groups.get('dmz')!.windows.get('security') as Set<number>)]).toEqual([4624]);
  });

  it('names the file, line and field of a mistake', () => {
    const fail = (text: string) => {
      try {
        parseInventory(text, 'inv.yml');
      } catch (error) {
        return error as { message: string; location: { line?: number; field?: string } };
      }
      throw new Error('no error');
    };
    expect(fail('windows:\n  Security: some\n')).toMatchObject({
      location: { line: 2, field: 'windows.Security' },
    });
    expect(fail('windows: {}\nlogsources:\n  - { product: linux, colour: red }\n')).toMatchObject({
      location: { line: 3, field: 'logsources.0.colour' },
    });
    expect(fail('windws: {}\n').message).toMatch(/unknown key 'windws'/);
    expect(fail('windows: [oops\n').message).toMatch(/not valid YAML/);
  });
});

describe('rules as coverage sees them', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-coverage-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes techniques from tags (unknown ones reported) and logs from the pipeline', async () => {
    writeFileSync(
      join(dir, 'r.yml'),
      'title: T\nid: 11111111-1111-1111-1111-111111111111\nstatus: test\nlevel: high\ntags: [attack.execution, attack.t1059.001, attack.t1685]\nlogsource: { product: windows, category: process_creation }\ndetection: { sel: { Image|endswith: x.exe }, condition: sel }\n---\ntitle: L\nlogsource: { product: linux, service: auditd }\ntags: [attack.t1059]\ndetection: { sel: { type: EXECVE }, condition: sel }\n',
    );
    const setup = await loadDetectionSetup({ rules: [dir] });
    const [windows, linux] = setup.ruleSet.rules.map((r) =>
      ruleFacts(r, smallAttack(), setup.pipelines, false),
    );
    expect(windows).toMatchObject({
      techniques: ['T1059.001'],
      unknownTags: ['attack.t1685'],
      level: 'high',
    });
    // Matched in lower case, shown as the pipeline writes them.
    expect(windows!.needs).toEqual([
      {
        kind: 'windows',
        channel: SYSMON,
        channelName: 'Microsoft-Windows-Sysmon/Operational',
        eventIds: [1],
      },
      { kind: 'windows', channel: 'security', channelName: 'Security', eventIds: [4688] },
    ]);
    expect(windows!.needs.map(needText)).toEqual(['Microsoft-Windows-Sysmon/Operational 1', 'Security 4688']);
    // What to turn on is named as the built-in pipeline says.
    expect(linux!.needs).toEqual([
      {
        kind: 'logsource',
        logsource: { product: 'linux', service: 'auditd' },
        collect:
          "auditd's /var/log/audit/audit.log (or Auditbeat's auditd module), with the audit rules the detections expect",
      },
    ]);
    expect(linux!.needs.map(needText)).toEqual([
      "auditd's /var/log/audit/audit.log (or Auditbeat's auditd module), with the audit rules the detections expect (product: linux, service: auditd)",
    ]);
  });
});

/** The Navigator layer format 4.5, written from its specification (LAYERFORMATv4_5.md). */
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/);
const metadata = z.array(
  z.union([
    z.object({ name: z.string(), value: z.string() }).strict(),
    z.object({ divider: z.boolean() }).strict(),
  ]),
);
const LayerSchema = z
  .object({
    name: z.string(),
    versions: z
      .object({
        attack: z.string().optional(),
        navigator: z.string().regex(/^\d+\.\d+\.\d+$/),
        layer: z.literal('4.5'),
      })
      .strict()
      .optional(),
    domain: z.enum(['enterprise-attack', 'mobile-attack', 'ics-attack']),
    description: z.string().optional(),
    customDataURL: z.string().optional(),
    filters: z
      .object({ platforms: z.array(z.string()).optional() })
      .strict()
      .optional(),
    sorting: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]).optional(),
    layout: z
      .object({
        layout: z.enum(['side', 'flat', 'mini']).optional(),
        showID: z.boolean().optional(),
        showName: z.boolean().optional(),
        showAggregateScores: z.boolean().optional(),
        countUnscored: z.boolean().optional(),
        aggregateFunction: z.enum(['average', 'min', 'max', 'sum']).optional(),
        expandedSubtechniques: z.enum(['none', 'all', 'annotated']).optional(),
      })
      .strict()
      .optional(),
    hideDisabled: z.boolean().optional(),
    techniques: z
      .array(
        z
          .object({
            techniqueID: z.string().regex(/^T\d{4}(\.\d{3})?$/),
            tactic: z.string().optional(),
            comment: z.string().optional(),
            enabled: z.boolean().optional(),
            score: z.number().optional(),
            color: z.union([color, z.literal('')]).optional(),
            metadata: metadata.optional(),
            links: z
              .array(
                z.union([
                  z.object({ label: z.string(), url: z.string().regex(/^[a-z]+:\/\//) }),
                  z.object({ divider: z.boolean() }),
                ]),
              )
              .optional(),
            showSubtechniques: z.boolean().optional(),
          })
          .strict(),
      )
      .optional(),
    gradient: z
      .object({ colors: z.array(color).min(2), minValue: z.number(), maxValue: z.number() })
      .strict()
      .refine((g) => g.maxValue > g.minValue)
      .optional(),
    legendItems: z.array(z.object({ label: z.string(), color }).strict()).optional(),
    showTacticRowBackground: z.boolean().optional(),
    tacticRowBackground: color.optional(),
    selectTechniquesAcrossTactics: z.boolean().optional(),
    selectSubtechniquesWithParent: z.boolean().optional(),
    selectVisibleTechniques: z.boolean().optional(),
    metadata: metadata.optional(),
    links: z.array(z.unknown()).optional(),
  })
  .strict();

describe('ATT&CK Navigator layers', () => {
  const attack = smallAttack();
  const report = assessCoverage({
    attack,
    threats: [],
    deployed: [rule('ps-1', ['T1059.001'])],
    reference: [rule('enc-ref', ['T1486'])],
    collection: collection({ [SYSMON]: [1] }),
    logSourceMap: MAP,
  });

  it('writes layers that validate against the 4.5 format, coloured by state', () => {
    const layer = coverageLayer(report, {
      name: 'Vigil coverage',
      description: 'test',
      attackVersion: '18.1',
    });
    expect(LayerSchema.safeParse(layer).success).toBe(true);
    expect(LayerSchema.safeParse(JSON.parse(JSON.stringify(layer))).error).toBeUndefined();
    const colours = new Map(layer.techniques.map((t) => [t.techniqueID, t.color]));
    expect(colours.get('T1059.001')).not.toBe(colours.get('T1486'));
    expect(layer.versions).toEqual({ attack: '18', navigator: '5.1.0', layer: '4.5' });
  });

  it('the schema refuses what the format does not allow', () => {
    expect(
      LayerSchema.safeParse({
        name: 'x',
        domain: 'enterprise-attack',
        versions: { navigator: '5.1.0', layer: '4.4' },
      }).success,
    ).toBe(false);
    expect(
      LayerSchema.safeParse({ name: 'x', domain: 'enterprise-attack', techniques: [{ techniqueID: 'T59' }] })
        .success,
    ).toBe(false);
    expect(LayerSchema.safeParse({ domain: 'enterprise-attack' }).success).toBe(false);
  });

  it('reads a layer as a threat profile: enabled techniques scored above zero, with comments', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vigil-layer-')), 'threat.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'APT Z',
        domain: 'enterprise-attack',
        techniques: [
          { techniqueID: 'T1059.001', score: 1, comment: 'seen' },
          { techniqueID: 'T1003', score: 0 },
          { techniqueID: 'T1486', enabled: false },
          { techniqueID: 'T1059' },
        ],
      }),
    );
    const profile = readThreatLayer(file);
    expect(profile.name).toBe('APT Z');
    expect([...profile.techniques]).toEqual([
      ['T1059.001', ['seen']],
      ['T1059', []],
    ]);
  });
});

describe('log sources recognized in logs, as collected', () => {
  it('a recognized source stands for each way a rule names it; a product alone for none', async () => {
    const pipelines = combinePipelines(await builtinPipelines());
    expect(recognizedLogsources(pipelines, 'zeek/dns')).toEqual([
      { product: 'zeek', service: 'dns' },
      { product: 'zeek', category: 'dns' },
      { category: 'dns' },
    ]);
    expect(recognizedLogsources(pipelines, 'aws/cloudtrail')).toEqual([
      { product: 'aws', service: 'cloudtrail' },
    ]);
    expect(recognizedLogsources(pipelines, 'zeek')).toEqual([]);
    expect(recognizedLogsources(pipelines, '')).toEqual([]);
  });

  it("a rule naming only a product is served by any of the product's logs, a service only by its own", () => {
    const collection: Collection = {
      windows: new Map(),
      logsources: [{ product: 'linux', service: 'sshd' }],
    };
    expect(collects(collection, logsourceNeed({ product: 'linux' }))).toBe(true);
    expect(collects(collection, logsourceNeed({ product: 'linux', service: 'sshd' }))).toBe(true);
    expect(collects(collection, logsourceNeed({ product: 'linux', service: 'auditd' }))).toBe(false);
    expect(collects(collection, logsourceNeed({ product: 'zeek' }))).toBe(false);
  });
});
