import { STATES, type TechniqueCoverage } from '../../src/coverage/index.js';
import type { Detection } from '../../src/detect/index.js';
import { type Assessment, DetectionRollup, MAX_LISTED } from '../../src/report/index.js';

/** The fourteen Enterprise tactics in matrix order, as a release lists them. */
export const TACTICS = [
  ['reconnaissance', 'Reconnaissance'],
  ['resource-development', 'Resource Development'],
  ['initial-access', 'Initial Access'],
  ['execution', 'Execution'],
  ['persistence', 'Persistence'],
  ['privilege-escalation', 'Privilege Escalation'],
  ['defense-evasion', 'Defense Evasion'],
  ['credential-access', 'Credential Access'],
  ['discovery', 'Discovery'],
  ['lateral-movement', 'Lateral Movement'],
  ['collection', 'Collection'],
  ['command-and-control', 'Command and Control'],
  ['exfiltration', 'Exfiltration'],
  ['impact', 'Impact'],
] as const;

const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
/** The first critical rule: its first host has far more events than a row keeps, and comes first. */
export const CRITICAL_RULE = 4;

/**
 * The worst case for the layout: every tactic crowded (Defense Evasion most of all, as in ATT&CK),
 * sub-technique IDs, long names with a word no column is wide enough for, hit counts from one digit
 * to six, techniques under several tactics; a hunt with more rule and host pairs than are listed,
 * long titles and host names, and one pair with far more events than are kept.
 */
export function worstCaseAssessment(): Assessment {
  const techniques: TechniqueCoverage[] = [];
  const byTechnique: Record<string, number> = {};
  const hitCounts = [1, 9, 42, 512, 1234, 98_765, 987_654];
  TACTICS.forEach(([shortName], tacticIndex) => {
    const count = shortName === 'defense-evasion' ? 45 : 6 + ((tacticIndex * 5) % 14);
    for (let i = 0; i < count; i++) {
      const id = `T9${String(tacticIndex).padStart(2, '0')}${i % 10}${i >= 3 ? `.${String(i).padStart(3, '0')}` : ''}`;
      const name =
        i % 4 === 0
          ? `Thoroughly Overlong Technique Name Number ${i} Exercising Wrapping In Narrow Columns`
          : i % 4 === 1
            ? `Unbreakable Incomprehensibilities${i}`
            : `Short ${i}`;
      techniques.push(technique(id, name, [shortName], STATES[(tacticIndex + i) % STATES.length]!));
      if (i % 2 === 0) byTechnique[id] = hitCounts[(tacticIndex + i) % hitCounts.length]!;
    }
  });
  // One technique under four tactics, as Valid Accounts is.
  techniques.push(
    technique(
      'T9999.999',
      'Valid Accounts Used Under Every Tactic They Serve',
      ['initial-access', 'persistence', 'privilege-escalation', 'defense-evasion'],
      'covered',
    ),
  );
  byTechnique['T9999.999'] = 123_456;

  const rollup = new DetectionRollup();
  const rules = 60;
  for (let r = 0; r < rules; r++) {
    for (let h = 0; h < 10; h++) {
      const events = r === CRITICAL_RULE && h === 0 ? 250 : 1 + ((r + h) % 3);
      for (let e = 0; e < events; e++) rollup.add(detection(r, h, e));
    }
  }

  const counts = Object.fromEntries(STATES.map((s) => [s, techniques.filter((t) => t.state === s).length]));
  return {
    generated: '2026-01-01T00:00:00.000Z',
    attackVersion: '18.1',
    tactics: TACTICS.map(([shortName, name], i) => ({
      id: `TA99${String(i).padStart(2, '0')}`,
      shortName,
      name,
    })),
    threats: [{ name: 'Worst case', kind: 'layer', techniques: techniques.length }],
    inventory: null,
    coverage: {
      techniques,
      counts: counts as Assessment['coverage']['counts'],
      maturity: { score: 42, parts: { visibility: 0.5, detection: 0.4, validation: 0.3 } },
      backlog: [],
      platforms: { threat: ['Windows'], inventory: ['Windows'] },
      unknownTags: [],
      rulesWithUnknownTags: 0,
    },
    ruleTitles: {},
    advisories: [],
    hunt: {
      files: 12,
      events: 1_000_000,
      detections: rollup.total,
      detectionGroups: rollup.groups(MAX_LISTED),
      detectionGroupsTotal: rollup.groupCount,
      inScopeTotal: rollup.total,
      byTechnique,
      indicatorHits: [],
      indicatorHitsTotal: 0,
      errors: 0,
    },
    exposure: null,
    hostGroups: [],
  };
}

function technique(
  id: string,
  name: string,
  tactics: string[],
  state: TechniqueCoverage['state'],
): TechniqueCoverage {
  return {
    id,
    name,
    tactics,
    platforms: ['Windows'],
    state,
    detectionScore: state === 'covered' ? 3 : 0,
    visibilityScore: state === 'covered' || state === 'available' ? 4 : 1,
    rules: { deployed: [], blind: [], available: [] },
    validated: false,
    dataComponents: [],
    missingLogs: [],
    profiles: ['Worst case'],
    evidence: [],
  };
}

function detection(rule: number, host: number, event: number): Detection {
  const timeMs = Date.UTC(2025, 0, 1 + rule, host, event);
  return {
    time: new Date(timeMs).toISOString(),
    timeMs,
    rule: {
      id: `00000000-0000-4000-8000-${String(rule).padStart(12, '0')}`,
      title: `${rule % 3 === 0 ? 'Extraordinarily Long Rule Title About Suspicious Child Processes Of Office Applications Writing Executables' : 'Rule'} ${rule}`,
      level: LEVELS[rule % LEVELS.length]!,
      author: 'Test Author',
      kind: 'detection',
      file: `/rules/windows/process_creation/proc_creation_win_rule_${rule}.yml`,
    },
    techniques: [`T9${String(rule % 14).padStart(2, '0')}0`, `T90${rule % 10}1.00${rule % 7}`],
    tactics: ['execution'],
    host: `${host % 2 ? 'dc' : 'ws'}${host}-${'a-very-long-host-name-segment-'.repeat(2)}eu-west.corp.example.org`,
    channel: 'Microsoft-Windows-Sysmon/Operational',
    eventId: 1,
    source: {
      file: `/logs/collected/2025/01/host-${host}/Microsoft-Windows-Sysmon%4Operational.evtx`,
      record: event,
    },
    matched: {
      Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      CommandLine: `powershell.exe -NoProfile -EncodedCommand ${'SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA'.repeat(6)}`,
    },
  };
}
