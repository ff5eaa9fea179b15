import type {
  BacklogItem,
  CoverageReport,
  CoverageState,
  Inventory,
  ThreatProfile,
} from '../coverage/index.js';
import type { SweepHit } from '../detect/index.js';
import type { Advisory, CveFinding, ToolMention } from '../intel/index.js';
import type { Prioritized } from '../vuln/index.js';
import type { DetectionGroup } from './rollup.js';

/** Everything `vigil assess` found, as data: report.json, and what report.md and report.html show. */
export interface Assessment {
  generated: string;
  attackVersion?: string;
  /** Tactics of the loaded ATT&CK release in matrix order: the report's matrix shows them all. */
  tactics: { id: string; shortName: string; name: string }[];
  threats: { name: string; kind: ThreatProfile['kind']; techniques: number }[];
  inventory: { name: string; origin: string; inferred: boolean } | null;
  coverage: CoverageReport;
  /** Rule id -> title, for the rules the report names. */
  ruleTitles: Record<string, string>;
  advisories: Advisory[];
  hunt: HuntFindings | null;
  /** With --vulns: the scanner findings, prioritized, CVEs of the advisory first within a decision. */
  exposure: Exposure | null;
  /** The inventory's host groups that collect differently, each assessed on its own. */
  hostGroups: HostGroupCoverage[];
}

export interface HostGroupCoverage {
  name: string;
  counts: Record<CoverageState, number>;
  maturity: number;
  /** Techniques covered across the estate but not on this group: where its hosts go unwatched. */
  weaker: { id: string; name: string; state: CoverageState }[];
}

export interface Exposure {
  findings: number;
  assets: number;
  byDecision: Record<string, number>;
  /** Findings of CVEs the advisory names: the systems it says are at risk. */
  advisoryFindings: Prioritized[];
  /** Most urgent first, at most MAX_LISTED. */
  top: Prioritized[];
}

export interface HuntFindings {
  files: number;
  events: number;
  /** All detections of the deployed rules. */
  detections: number;
  /**
   * Detections of techniques in the threat's scope, one group per rule and host with its earliest
   * events (the most severe first, at most MAX_LISTED groups).
   */
  detectionGroups: DetectionGroup[];
  /** Rule and host groups in all, listed or not. */
  detectionGroupsTotal: number;
  inScopeTotal: number;
  /** Technique ID -> detections. */
  byTechnique: Record<string, number>;
  /** The first MAX_LISTED indicator hits. */
  indicatorHits: SweepHit[];
  indicatorHitsTotal: number;
  errors: number;
}

export const MAX_LISTED = 500;

/** The confidence of the advisory's verdict on each indicator the hunt found, by type and value. */
export function hitConfidence(a: Pick<Assessment, 'advisories'>): (hit: SweepHit) => string {
  const confidence = new Map(
    a.advisories.flatMap((x) => x.indicators).map((i) => [`${i.type}\u0000${i.value}`, i.confidence]),
  );
  return (hit) => confidence.get(`${hit.type}\u0000${hit.value}`) ?? '';
}

/** A Windows binary the advisories name: binary, source, techniques, a line that names it. */
export function toolCells(tool: ToolMention): string[] {
  return [
    tool.name,
    tool.source === 'lolbas' ? 'LOLBAS' : 'Windows',
    tool.techniques.join(' '),
    tool.context[0] ?? '',
  ];
}

/** A CVE's row in the report's tables: id, in KEV, date added, known ransomware use. */
export function cveCells(cve: CveFinding): string[] {
  return [
    cve.id,
    cve.kev === null ? 'unknown' : cve.kev ? 'yes' : 'no',
    cve.kevDateAdded ?? '',
    cve.knownRansomwareUse ? 'yes' : '',
  ];
}

/** A backlog row in the report's tables: the fix, the techniques it serves, its rules, why it ranks there. */
export const BACKLOG_HEAD = ['Fix', 'Techniques', 'Rules', 'Why here'];

export function backlogCells(item: BacklogItem): string[] {
  const techniques = item.techniques.map((t) => (t.closes ? `${t.id} (closes its gap)` : t.id));
  const shown =
    techniques.length > 6 ? [...techniques.slice(0, 6), `${techniques.length - 6} more`] : techniques;
  return [item.fix, shown.join(', '), item.action === 'write a rule' ? '—' : String(item.rules), item.why];
}

/** The pre-compromise techniques of the threat in a sentence, or nothing when it has none. */
export function outsideTelemetry(coverage: CoverageReport): string {
  const outside = coverage.techniques.filter((t) => t.state === 'outside');
  if (outside.length === 0) return '';
  return `Not in the backlog: ${outside.length} pre-compromise technique(s) (reconnaissance, resource development) happen before and outside your network, where your logs cannot show them; they are not counted as gaps or in the maturity score: ${outside.map((t) => `${t.id} ${t.name}`).join(', ')}.`;
}

export function buildAssessment(parts: {
  attack: { version?: string; tactics: readonly { id: string; shortName: string; name: string }[] };
  threats: ThreatProfile[];
  inventory: Inventory | undefined;
  coverage: CoverageReport;
  ruleTitles: Map<string, string>;
  advisories: Advisory[];
  hunt: HuntFindings | null;
  exposure?: Exposure | null;
  /** Coverage per host group of the inventory (see runCoverage). */
  groups?: ReadonlyMap<string, CoverageReport>;
  now?: Date;
}): Assessment {
  const wanted = new Set(
    parts.coverage.techniques.flatMap((t) => [...t.rules.deployed, ...t.rules.blind, ...t.rules.available]),
  );
  return {
    generated: (parts.now ?? new Date()).toISOString(),
    attackVersion: parts.attack.version,
    tactics: parts.attack.tactics.map(({ id, shortName, name }) => ({ id, shortName, name })),
    threats: parts.threats.map((t) => ({ name: t.name, kind: t.kind, techniques: t.techniques.size })),
    inventory: parts.inventory
      ? { name: parts.inventory.name, origin: parts.inventory.origin, inferred: parts.inventory.inferred }
      : null,
    coverage: parts.coverage,
    ruleTitles: Object.fromEntries([...parts.ruleTitles].filter(([id]) => wanted.has(id))),
    advisories: parts.advisories,
    hunt: parts.hunt,
    exposure: parts.exposure ?? null,
    hostGroups: [...(parts.groups ?? [])].map(([name, group]) => hostGroup(name, group, parts.coverage)),
  };
}

function hostGroup(name: string, group: CoverageReport, whole: CoverageReport): HostGroupCoverage {
  const wholeState = new Map(whole.techniques.map((t) => [t.id, t.state]));
  return {
    name,
    counts: group.counts,
    maturity: group.maturity.score,
    weaker: group.techniques
      .filter((t) => t.state !== 'covered' && wholeState.get(t.id) === 'covered')
      .map((t) => ({ id: t.id, name: t.name, state: t.state })),
  };
}
