import type { DecisionTable, EpssScores, KevCatalog } from '../content/index.js';
import { parseAddress } from '../core/index.js';
import type { AssetIndex, Criticality } from './assets.js';
import { type CvssFacts, cvssFacts } from './cvss.js';
import { type DueSource, dueDate } from './due.js';
import { decide } from './ssvc.js';
import type { AssetScan, RiskAcceptance } from './store.js';
import { dayOf } from './times.js';

export type Decision = 'track' | 'track*' | 'attend' | 'act';

/** The finding as prioritization needs it (imported, or read back from the store and grouped). */
export interface FindingFacts {
  /** The asset: its inventory host name when it has one, else as the scanner names it. */
  asset: string;
  /** Every name and address the scanners gave the asset. */
  aliases?: string[];
  address?: string;
  cve: string;
  port?: number;
  product?: string;
  service?: string;
  scanners?: string[];
  cvssVector?: string;
  cvssScore?: number;
  exploitAvailable?: boolean;
  /** The team's own judgement, over what the CVSS vector implies. */
  automatable?: boolean;
  technicalImpact?: 'partial' | 'total';
  /** ISO time or day when the finding was first seen, from the scan: where SLAs start. */
  firstSeen: string;
  lastSeen?: string;
  status?: 'open' | 'fixed';
  fixedAt?: string;
  reopenedAt?: string;
  /** Open, yet a later scan of the asset did not run the check that found it. */
  notRetested?: { since: string; scan: AssetScan };
  owner?: string;
  acceptance?: RiskAcceptance;
}

export interface Prioritized {
  asset: string;
  port: number | null;
  cve: string;
  product: string | null;
  service: string | null;
  scanners: string[];
  first_seen: string;
  decision: Decision;
  /** BOD 26-04 remediation timeline, by name ("14 days", "fix on system upgrade" …). */
  timeline: string;
  due: string | null;
  due_source: DueSource | null;
  overdue: boolean;
  kev: boolean;
  epss: number | null;
  cvss: number | null;
  public_facing: boolean;
  status: 'open' | 'fixed';
  fixed_at: string | null;
  not_retested_since: string | null;
  owner: string | null;
  accepted_by: string | null;
  accepted_until: string | null;
  accepted_reason: string | null;
  /** Every decision point's value and why, then what else raised it. */
  reasons: string[];
  /** A risk acceptance in force: the finding waits, and is not counted open or overdue. */
  accepted: boolean;
  /** Named in an advisory given with --advisory. */
  advisory: boolean;
  /** For ordering: remote code execution or denial of service, the timeline's urgency, the asset's stakes. */
  remoteCodeOrDos: boolean;
  timelineRank: number;
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
  /** The CVSS vector of each CVE as any finding of it gives it, for findings that have none. */
  knownVectors?: ReadonlyMap<string, KnownVector>;
  /** The day overdue is measured against (YYYY-MM-DD, UTC); today by default. */
  today?: string;
}

export interface KnownVector {
  vector: string;
  asset: string;
  scanner: string;
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
const TIMELINE_RANK: Record<string, number> = { FSU: 0, '60D': 1, '14D': 2, '3D': 3, '3DF': 4 };

/** The decisions, most urgent first: the order lists and counts show them in. */
export const DECISION_ORDER: readonly Decision[] = ['act', 'attend', 'track*', 'track'];
const SSVC_DECISIONS: Record<string, Decision> = { T: 'track', 'T*': 'track*', AT: 'attend', AC: 'act' };
const DECISION_RANK = Object.fromEntries(
  DECISION_ORDER.map((d, i) => [d, DECISION_ORDER.length - i]),
) as Record<Decision, number>;
const CRITICALITY_RANK: Record<Criticality, number> = { high: 2, medium: 1, low: 0 };

/**
 * The CISA coordinator decision (Track, Track*, Attend, Act) and the BOD 26-04 remediation
 * timeline for one finding, with every decision point's value and the reason for it. A decision
 * point that nothing tells is filled from what is known, or else takes the urgent branch, and its
 * reason says which:
 * - Exploitation: active when CISA KEV lists the CVE; public PoC when the scanner reports a public
 *   exploit, or (inferred) when its EPSS probability reaches the threshold; none otherwise. Without
 *   any EPSS scores, public PoC.
 * - Automatable and Technical Impact: the team's judgement, else the CVSS vector (2.0, 3.x, 4.0)
 *   of the finding or of another finding of the same CVE; without any, automatable and total.
 * - Mission and Well-Being: the asset's criticality; high for an asset the inventory lacks.
 * - Publicly exposed: the asset's `public_facing`; for an asset the inventory lacks, whether its
 *   address is public, and yes when it has no address.
 */
export function prioritize(finding: FindingFacts, options: PrioritizeOptions): Prioritized {
  const today = options.today ?? new Date().toISOString().slice(0, 10);
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
  } else if (finding.exploitAvailable) {
    exploitation = 'public poc';
    reasons.push('exploitation public PoC: the scanner reports a public exploit');
  } else if (epss !== null && epss >= threshold) {
    exploitation = 'public poc';
    reasons.push(
      `exploitation public PoC, inferred from EPSS ${epssText(epss, threshold)} ≥ ${threshold}: EPSS predicts exploitation, no PoC was seen`,
    );
  } else if (!options.epss) {
    exploitation = 'public poc';
    reasons.push(
      'exploitation public PoC assumed: not in KEV, and no EPSS scores to judge by (the urgent branch)',
    );
  } else {
    exploitation = 'none';
    reasons.push(
      `exploitation none: not in KEV${epss === null ? ', no EPSS score' : `, EPSS ${epssText(epss, threshold)} < ${threshold}`}`,
    );
  }

  const { facts, from } = vectorOf(finding, options.knownVectors);
  if (from) reasons.push(from);
  let automatable: boolean;
  if (finding.automatable !== undefined) {
    automatable = finding.automatable;
    reasons.push(`${automatable ? 'automatable' : 'not automatable'}: as given with the finding`);
  } else if (facts) {
    automatable = facts.automatable;
    reasons.push(
      automatable
        ? `automatable: network, low complexity, no privileges${facts.version === '2.0' ? ' (CVSS 2.0 has no user interaction)' : ', no user action'}`
        : `not automatable (per the CVSS ${facts.version} vector)`,
    );
  } else {
    automatable = true;
    reasons.push(`automatable assumed: no CVSS vector known for ${finding.cve} (the urgent branch)`);
  }
  let totalImpact: boolean;
  if (finding.technicalImpact !== undefined) {
    totalImpact = finding.technicalImpact === 'total';
    reasons.push(`technical impact ${finding.technicalImpact}: as given with the finding`);
  } else if (facts) {
    totalImpact = facts.totalImpact;
    reasons.push(
      totalImpact
        ? `technical impact total: ${facts.version === '2.0' ? 'complete' : 'high'} confidentiality and integrity impact`
        : `technical impact partial (per the CVSS ${facts.version} vector)`,
    );
  } else {
    totalImpact = true;
    reasons.push(
      `technical impact total assumed: no CVSS vector known for ${finding.cve} (the urgent branch)`,
    );
  }

  const match = options.assets?.find(finding.asset, finding.address) ?? {};
  const asset = match.asset;
  let criticality: Criticality;
  if (asset) {
    criticality = asset.criticality;
    reasons.push(`mission and well-being ${criticality}: asset criticality`);
  } else {
    criticality = 'high';
    reasons.push(
      match.ambiguous
        ? `mission and well-being high: "${finding.asset}" could be any of ${match.ambiguous.map((a) => a.hostname).join(', ')} in the inventory, so none is assumed (the urgent branch)`
        : 'mission and well-being high: asset not in the inventory (the urgent branch)',
    );
  }
  const exposure = asset
    ? { exposed: asset.publicFacing, reason: asset.publicFacing ? 'publicly exposed' : undefined }
    : inferredExposure(finding);
  if (exposure.reason) reasons.push(exposure.reason);

  const a = automatable ? 'yes' : 'no';
  const impact = totalImpact ? 'total' : 'partial';
  const level = decide(options.coordinator, { E: exploitation, A: a, TI: impact, MWI: criticality });
  const timeline = decide(options.bod, {
    KEV: kevEntry ? 'yes' : 'no',
    PE: exposure.exposed ? 'yes' : 'no',
    A: a,
    TI: impact,
  });
  const days = options.timelineDays ?? BOD_TIMELINE_DAYS;
  const due = dueDate({
    timeline,
    firstSeen: finding.firstSeen,
    kev: kevEntry,
    days,
    overridden: days[timeline.key] !== BOD_TIMELINE_DAYS[timeline.key],
  });
  reasons.push(...due.reasons);

  const status = finding.status ?? 'open';
  const acceptance = finding.acceptance;
  const accepted = status === 'open' && acceptance !== undefined && acceptance.until >= today;
  if (acceptance && status === 'open') {
    reasons.push(
      accepted
        ? `risk accepted by ${acceptance.by} until ${acceptance.until}: ${acceptance.reason}`
        : `risk acceptance by ${acceptance.by} expired on ${acceptance.until}: open again`,
    );
  }
  const overdue = status === 'open' && !accepted && due.due !== null && due.due < today;
  if (overdue) reasons.push(`overdue since ${due.due}`);
  if (finding.notRetested && status === 'open') {
    const scan = finding.notRetested.scan;
    reasons.push(
      `not re-tested since ${dayOf(finding.notRetested.since)}: the asset was scanned on ${dayOf(scan.at)} (${scan.scanner}) without the check that found it`,
    );
  }
  if (finding.reopenedAt && status === 'open')
    reasons.push(`reopened on ${dayOf(finding.reopenedAt)}: seen again after it was fixed`);
  const advisory = options.advisoryCves?.has(finding.cve) ?? false;
  if (advisory) reasons.push('named in the advisory');
  return {
    asset: finding.asset,
    port: finding.port ?? null,
    cve: finding.cve,
    product: finding.product ?? null,
    service: finding.service ?? null,
    scanners: finding.scanners ?? [],
    first_seen: finding.firstSeen,
    decision: SSVC_DECISIONS[level.key] ?? 'track',
    timeline: timeline.name.toLowerCase(),
    due: due.due,
    due_source: due.source,
    overdue,
    kev: kevEntry !== undefined,
    epss,
    cvss: facts?.score ?? finding.cvssScore ?? null,
    public_facing: exposure.exposed,
    status,
    fixed_at: finding.fixedAt ?? null,
    not_retested_since: status === 'open' ? (finding.notRetested?.since ?? null) : null,
    owner: finding.owner ?? asset?.owner ?? null,
    accepted_by: acceptance?.by ?? null,
    accepted_until: acceptance?.until ?? null,
    accepted_reason: acceptance?.reason ?? null,
    reasons,
    accepted,
    advisory,
    remoteCodeOrDos: facts ? facts.remoteCodeExecution || facts.denialOfService : false,
    timelineRank: TIMELINE_RANK[timeline.key] ?? 0,
    criticality,
  };
}

function vectorOf(
  finding: FindingFacts,
  knownVectors: ReadonlyMap<string, KnownVector> | undefined,
): { facts?: CvssFacts; from?: string } {
  const own = finding.cvssVector ? cvssFacts(finding.cvssVector) : undefined;
  if (own) return { facts: own };
  const known = knownVectors?.get(finding.cve);
  const facts = known ? cvssFacts(known.vector) : undefined;
  const unusable = finding.cvssVector ? `"${finding.cvssVector}" is no CVSS vector; ` : '';
  if (facts && known)
    return {
      facts,
      from: `${unusable}CVSS vector of ${finding.cve} as ${known.scanner} reports it on ${known.asset}`,
    };
  return { from: unusable ? unusable.slice(0, -2) : undefined };
}

/** Exposure of an asset the inventory lacks: its address says, or else the urgent branch. */
function inferredExposure(finding: FindingFacts): { exposed: boolean; reason?: string } {
  const address = [finding.address, finding.asset, ...(finding.aliases ?? [])].find(
    (a) => a !== undefined && parseAddress(a) !== undefined,
  );
  if (address === undefined)
    return {
      exposed: true,
      reason: 'publicly exposed assumed: not in the inventory, no address (the urgent branch)',
    };
  if (isPrivateAddress(address))
    return {
      exposed: false,
      reason: `not publicly exposed: not in the inventory, private address ${address}`,
    };
  return { exposed: true, reason: `publicly exposed: not in the inventory, public address ${address}` };
}

const PRIVATE_V4: [number, number][] = [
  [0x0a000000, 8], // 10/8
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16
  [0x64400000, 10], // 100.64/10, carrier-grade NAT
];

/** RFC 1918, loopback, link-local and shared (CGNAT) IPv4; unique-local, link-local and loopback IPv6. */
export function isPrivateAddress(text: string): boolean {
  const address = parseAddress(text);
  if (!address) return false;
  if ('v4' in address)
    return PRIVATE_V4.some(([net, bits]) => address.v4 >>> (32 - bits) === net >>> (32 - bits));
  const [first = 0] = address.v6;
  const loopback = address.v6.slice(0, 7).every((g) => g === 0) && address.v6[7] === 1;
  return loopback || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

/** The asset with the finding's port (`mail.example.org:443`): findings on two ports are two findings. */
export function assetPort(p: Pick<Prioritized, 'asset' | 'port'>): string {
  return p.port ? `${p.asset}:${p.port}` : p.asset;
}

/**
 * An EPSS probability with as many decimals as it takes not to round across the threshold:
 * 0.0996 is printed 0.0996, not 0.100, when the threshold is 0.1.
 */
export function epssText(probability: number, threshold: number): string {
  for (let digits = 3; digits <= 9; digits++) {
    const text = probability.toFixed(digits);
    if (Number(text) >= threshold === probability >= threshold) return text;
  }
  return String(probability);
}

/**
 * What must be done first, first: open before fixed, then unaccepted before accepted; overdue
 * first, then by due date and by the urgency of the BOD timeline, then by decision; within
 * those, CVEs named in the advisory, public-facing assets, remote code execution or denial of
 * service, EPSS, CVSS and the asset's criticality.
 */
export function byUrgency(a: Prioritized, b: Prioritized): number {
  return (
    Number(a.status !== 'open') - Number(b.status !== 'open') ||
    Number(a.accepted) - Number(b.accepted) ||
    Number(b.overdue) - Number(a.overdue) ||
    (a.due ?? '9999').localeCompare(b.due ?? '9999') ||
    b.timelineRank - a.timelineRank ||
    DECISION_RANK[b.decision] - DECISION_RANK[a.decision] ||
    Number(b.advisory) - Number(a.advisory) ||
    Number(b.public_facing) - Number(a.public_facing) ||
    Number(b.remoteCodeOrDos) - Number(a.remoteCodeOrDos) ||
    (b.epss ?? -1) - (a.epss ?? -1) ||
    (b.cvss ?? -1) - (a.cvss ?? -1) ||
    CRITICALITY_RANK[b.criticality] - CRITICALITY_RANK[a.criticality] ||
    a.asset.localeCompare(b.asset) ||
    (a.port ?? 0) - (b.port ?? 0) ||
    a.cve.localeCompare(b.cve)
  );
}

/** The vector each CVE has in any finding, the newest CVSS version first: for findings without one. */
export function knownVectors(
  findings: Iterable<{
    cve: string;
    cvssVector?: string;
    asset: string;
    scanner?: string;
    scanners?: string[];
  }>,
): Map<string, KnownVector> {
  const best = new Map<string, KnownVector & { version: number }>();
  for (const f of findings) {
    const facts = f.cvssVector ? cvssFacts(f.cvssVector) : undefined;
    if (!facts) continue;
    const version = Number(facts.version);
    const held = best.get(f.cve);
    if (!held || version > held.version)
      best.set(f.cve, {
        vector: facts.vector,
        asset: f.asset,
        scanner: f.scanner ?? f.scanners?.join('+') ?? '',
        version,
      });
  }
  return new Map([...best].map(([cve, { vector, asset, scanner }]) => [cve, { vector, asset, scanner }]));
}
