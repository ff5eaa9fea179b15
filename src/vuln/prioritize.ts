import type { DecisionTable, EpssScores, KevCatalog } from '../content/index.js';
import type { AssetIndex, Criticality } from './assets.js';
import { cvssFacts } from './cvss.js';
import { decide } from './ssvc.js';

export type Decision = 'track' | 'track*' | 'attend' | 'act';

/** The finding as prioritization needs it (imported, or read back from the store). */
export interface FindingFacts {
  asset: string;
  address?: string;
  cve: string;
  cvssVector?: string;
  cvssScore?: number;
  exploitAvailable?: boolean;
  /** The team's own judgement, over what the CVSS vector implies. */
  automatable?: boolean;
  technicalImpact?: 'partial' | 'total';
  /** YYYY-MM-DD or ISO time: when the finding was first seen, where SLAs start. */
  firstSeen: string;
  status?: 'open' | 'fixed';
}

export interface Prioritized {
  asset: string;
  cve: string;
  decision: Decision;
  /** BOD 26-04 remediation timeline, by name ("14 days", "fix on system upgrade" …). */
  timeline: string;
  due: string | null;
  kev: boolean;
  epss: number | null;
  cvss: number | null;
  public_facing: boolean;
  status: 'open' | 'fixed';
  /** Every decision point's value and why, then what else raised it. */
  reasons: string[];
  /** Named in an advisory given with --advisory. */
  advisory: boolean;
  /** For ordering within a decision. */
  remoteCodeOrDos: boolean;
  criticality: Criticality;
}

export interface PrioritizeOptions {
  coordinator: DecisionTable;
  bod: DecisionTable;
  kev?: KevCatalog;
  epss?: EpssScores;
  assets?: AssetIndex;
  /**
   * EPSS probability from which a vulnerability counts as having a public proof of concept
   * (SSVC Exploitation "public PoC") when KEV does not list it. 0.1 by default: FIRST's scores put
   * fewer than 5% of CVEs there, and those are the ones with exploit code seen in the wild.
   */
  epssThreshold?: number;
  /** CVEs named in an advisory: raised within their decision and marked. */
  advisoryCves?: Set<string>;
  /** Days per BOD timeline; a KEV due date wins when earlier. */
  timelineDays?: Record<string, number | null>;
}

export const DEFAULT_EPSS_THRESHOLD = 0.1;

/** BOD 26-04 remediation timelines in days (null: at the next upgrade, no date). */
export const BOD_TIMELINE_DAYS: Record<string, number | null> = {
  FSU: null,
  '60D': 60,
  '14D': 14,
  '3D': 3,
  '3DF': 3,
};

/** The decisions, most urgent first: the order lists and counts show them in. */
export const DECISION_ORDER: readonly Decision[] = ['act', 'attend', 'track*', 'track'];
const SSVC_DECISIONS: Record<string, Decision> = { T: 'track', 'T*': 'track*', AT: 'attend', AC: 'act' };
const DECISION_RANK = Object.fromEntries(
  DECISION_ORDER.map((d, i) => [d, DECISION_ORDER.length - i]),
) as Record<Decision, number>;
const CRITICALITY_RANK: Record<Criticality, number> = { high: 2, medium: 1, low: 0 };

/**
 * The CISA coordinator decision (Track, Track*, Attend, Act) and the BOD 26-04 remediation
 * timeline for one finding, with every decision point's value and the reason for it:
 * - Exploitation: active when CISA KEV lists the CVE; public PoC when its EPSS probability reaches
 *   the threshold or the scanner reports a public exploit; none otherwise.
 * - Automatable and Technical Impact: from the CVSS vector (network, low complexity, no privileges,
 *   no user action; high confidentiality and integrity impact = total).
 * - Mission and Well-Being: the asset's criticality (medium when the asset is not in the inventory).
 * - Publicly exposed: the asset's `public_facing`.
 */
export function prioritize(finding: FindingFacts, options: PrioritizeOptions): Prioritized {
  const reasons: string[] = [];
  const kevEntry = options.kev?.entries.get(finding.cve);
  const epss = options.epss?.scores.get(finding.cve)?.epss ?? null;
  const threshold = options.epssThreshold ?? DEFAULT_EPSS_THRESHOLD;
  let exploitation: 'none' | 'public poc' | 'active';
  if (kevEntry) {
    exploitation = 'active';
    reasons.push(
      `exploitation active: in CISA KEV since ${kevEntry.dateAdded}${kevEntry.knownRansomwareCampaignUse === 'Known' ? ', used by ransomware' : ''}`,
    );
  } else if (epss !== null && epss >= threshold) {
    exploitation = 'public poc';
    reasons.push(`exploitation public PoC: EPSS ${epss.toFixed(3)} ≥ ${threshold}`);
  } else if (finding.exploitAvailable) {
    exploitation = 'public poc';
    reasons.push('exploitation public PoC: the scanner reports a public exploit');
  } else {
    exploitation = 'none';
    reasons.push(
      `exploitation none: not in KEV${epss === null ? ', no EPSS score' : `, EPSS ${epss.toFixed(3)} < ${threshold}`}`,
    );
  }
  const facts = finding.cvssVector ? cvssFacts(finding.cvssVector) : undefined;
  let automatable = facts?.automatable ?? false;
  let totalImpact = facts?.totalImpact ?? false;
  if (finding.automatable !== undefined) {
    automatable = finding.automatable;
    reasons.push(`${automatable ? 'automatable' : 'not automatable'}: as given with the finding`);
  } else if (facts) {
    reasons.push(
      automatable
        ? 'automatable: network, low complexity, no privileges, no user action'
        : 'not automatable (per the CVSS vector)',
    );
  }
  if (finding.technicalImpact !== undefined) {
    totalImpact = finding.technicalImpact === 'total';
    reasons.push(`technical impact ${finding.technicalImpact}: as given with the finding`);
  } else if (facts) {
    reasons.push(
      totalImpact
        ? 'technical impact total: high confidentiality and integrity impact'
        : 'technical impact partial (per the CVSS vector)',
    );
  }
  if (!facts && (finding.automatable === undefined || finding.technicalImpact === undefined)) {
    reasons.push('no usable CVSS vector: taken as not automatable, partial technical impact');
  }
  const asset = options.assets?.find(finding.asset, finding.address);
  const criticality: Criticality = asset?.criticality ?? 'medium';
  reasons.push(
    asset
      ? `mission and well-being ${criticality}: asset criticality`
      : 'mission and well-being medium: asset not in the inventory',
  );
  const publicFacing = asset?.publicFacing ?? false;
  if (publicFacing) reasons.push('publicly exposed');

  const a = automatable ? 'yes' : 'no';
  const impact = totalImpact ? 'total' : 'partial';
  const level = decide(options.coordinator, { E: exploitation, A: a, TI: impact, MWI: criticality });
  const timeline = decide(options.bod, {
    KEV: kevEntry ? 'yes' : 'no',
    PE: publicFacing ? 'yes' : 'no',
    A: a,
    TI: impact,
  });
  const days = (options.timelineDays ?? BOD_TIMELINE_DAYS)[timeline.key];
  let due = days === null || days === undefined ? null : addDays(finding.firstSeen, days);
  if (kevEntry?.dueDate && (due === null || kevEntry.dueDate < due)) {
    due = kevEntry.dueDate;
    reasons.push(`due ${kevEntry.dueDate}: the KEV due date is stricter`);
  }
  const advisory = options.advisoryCves?.has(finding.cve) ?? false;
  if (advisory) reasons.push('named in the advisory');
  return {
    asset: finding.asset,
    cve: finding.cve,
    decision: SSVC_DECISIONS[level.key] ?? 'track',
    timeline: timeline.name.toLowerCase(),
    due,
    kev: kevEntry !== undefined,
    epss,
    cvss: facts?.score ?? finding.cvssScore ?? null,
    public_facing: publicFacing,
    status: finding.status ?? 'open',
    reasons,
    advisory,
    remoteCodeOrDos: facts ? facts.remoteCodeExecution || facts.denialOfService : false,
    criticality,
  };
}

/**
 * Most urgent first: by decision; within a decision, CVEs named in the advisory, then
 * public-facing assets, then remote code execution or denial of service, then EPSS, CVSS and the
 * asset's criticality.
 */
export function byUrgency(a: Prioritized, b: Prioritized): number {
  return (
    DECISION_RANK[b.decision] - DECISION_RANK[a.decision] ||
    Number(b.advisory) - Number(a.advisory) ||
    Number(b.public_facing) - Number(a.public_facing) ||
    Number(b.remoteCodeOrDos) - Number(a.remoteCodeOrDos) ||
    (b.epss ?? -1) - (a.epss ?? -1) ||
    (b.cvss ?? -1) - (a.cvss ?? -1) ||
    CRITICALITY_RANK[b.criticality] - CRITICALITY_RANK[a.criticality] ||
    a.asset.localeCompare(b.asset) ||
    a.cve.localeCompare(b.cve)
  );
}

function addDays(start: string, days: number): string {
  const date = new Date(start.length === 10 ? `${start}T00:00:00Z` : start);
  const base = Number.isNaN(date.getTime()) ? new Date() : date;
  return new Date(base.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}
