import type { AssetIndex } from './assets.js';
import { cvssFacts } from './cvss.js';
import type { FindingFacts } from './prioritize.js';
import type { ScanReport } from './scan.js';
import type { AssetScan, FindingOwner, RiskAcceptance, StoredSource } from './store.js';

/** A source as grouping needs it: stored, or read from a scan file that is not stored. */
export type SourceFacts = Omit<StoredSource, 'scope' | 'check'> & { scope?: string; check?: string };

export interface GroupOptions {
  assets?: AssetIndex;
  /** When each asset name was last scanned, for "not re-tested since". */
  assetScans?: ReadonlyMap<string, AssetScan>;
  acceptances?: readonly RiskAcceptance[];
  owners?: readonly FindingOwner[];
}

/**
 * One finding per asset, CVE and port, whatever scanners reported it and whatever they call the
 * asset (its inventory host name when it has one). It is open while any scanner still reports
 * it: each source closes only on its own scanner's re-test. Its CVSS vector is the newest version
 * any source gives.
 */
export function groupFindings(sources: readonly SourceFacts[], options: GroupOptions = {}): FindingFacts[] {
  const groups = new Map<string, SourceFacts[]>();
  const displayNames = new Map<string, string>();
  for (const source of sources) {
    const match = options.assets?.find(source.asset, source.address);
    const asset = match?.asset?.hostname ?? source.asset;
    const key = `${asset.toLowerCase()}\u0000${source.cve}\u0000${source.port ?? 0}`;
    const group = groups.get(key);
    if (group) group.push(source);
    else {
      groups.set(key, [source]);
      displayNames.set(key, asset);
    }
  }
  const findings: FindingFacts[] = [];
  for (const [key, group] of groups) {
    const newestFirst = [...group].sort((a, b) =>
      a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0,
    );
    const first = newestFirst[0]!;
    const open = group.filter((s) => s.status === 'open');
    const asset = displayNames.get(key)!;
    const aliases = [...new Set(group.flatMap((s) => [s.asset, ...(s.address ? [s.address] : [])]))];
    const vector = newestFirst
      .map((s) => ({ s, facts: s.cvssVector ? cvssFacts(s.cvssVector) : undefined }))
      .filter((v) => v.facts)
      .sort((a, b) => Number(b.facts!.version) - Number(a.facts!.version))[0];
    const lastSeen = max(group.map((s) => s.lastSeen))!;
    const finding: FindingFacts = {
      asset,
      aliases,
      address: newestFirst.find((s) => s.address)?.address,
      cve: first.cve,
      port: first.port,
      product: distinct(newestFirst.map((s) => s.product)),
      service: distinct(newestFirst.map((s) => s.service)),
      scanners: [...new Set(group.map((s) => s.scanner))].sort(),
      cvssVector: vector?.s.cvssVector ?? newestFirst.find((s) => s.cvssVector)?.cvssVector,
      cvssScore: vector?.s.cvssScore ?? newestFirst.find((s) => s.cvssScore !== undefined)?.cvssScore,
      exploitAvailable: group.some((s) => s.exploitAvailable) || undefined,
      automatable: newestFirst.find((s) => s.automatable !== undefined)?.automatable,
      technicalImpact: newestFirst.find((s) => s.technicalImpact !== undefined)?.technicalImpact,
      firstSeen: min(group.map((s) => s.firstSeen))!,
      lastSeen,
      status: open.length ? 'open' : 'fixed',
      fixedAt: open.length ? undefined : max(group.map((s) => s.fixedAt)),
      reopenedAt: max(group.map((s) => s.reopenedAt)),
    };
    const names = new Set([asset.toLowerCase(), ...aliases.map((a) => a.toLowerCase())]);
    if (open.length && options.assetScans) {
      // Any scan of the asset counts, under whichever of its names or addresses the scanner used.
      const known = options.assets?.find(asset).asset;
      const everyName = new Set([...names, ...(known?.addresses ?? []).map((a) => a.toLowerCase())]);
      const confirmed = max(open.map((s) => s.lastSeen))!;
      const scans = [...everyName]
        .map((name) => options.assetScans!.get(name))
        .filter((s): s is AssetScan => s !== undefined);
      const latest = scans.sort((a, b) => (a.at < b.at ? 1 : -1))[0];
      if (latest && latest.at > confirmed) finding.notRetested = { since: confirmed, scan: latest };
    }
    const applies = (target: { asset: string; cve: string; port?: number }) =>
      target.cve === finding.cve &&
      names.has(target.asset) &&
      (target.port === undefined || target.port === (finding.port ?? 0));
    finding.acceptance = latestOf((options.acceptances ?? []).filter(applies));
    finding.owner =
      latestOf((options.owners ?? []).filter(applies))?.owner ?? options.assets?.find(asset).asset?.owner;
    findings.push(finding);
  }
  return findings;
}

function latestOf<T extends { recordedAt: string; port?: number }>(items: T[]): T | undefined {
  // A decision about one port is more specific than one about the whole finding.
  return [...items].sort(
    (a, b) =>
      Number(b.port !== undefined) - Number(a.port !== undefined) || (a.recordedAt < b.recordedAt ? 1 : -1),
  )[0];
}

function distinct(values: (string | undefined)[]): string | undefined {
  const kept = [...new Set(values.filter((v): v is string => Boolean(v)))];
  return kept.length ? kept.join('; ') : undefined;
}

function min(values: (string | undefined)[]): string | undefined {
  let least: string | undefined;
  for (const v of values) if (v && (!least || v < least)) least = v;
  return least;
}

function max(values: (string | undefined)[]): string | undefined {
  let most: string | undefined;
  for (const v of values) if (v && (!most || v > most)) most = v;
  return most;
}

/**
 * The findings of scan files as sources, without a store: each open, first seen when its scan
 * (or the team's `first_seen`) says. Rows that say a finding was fixed are left out.
 */
export function sourcesOfScans(reports: readonly ScanReport[]): SourceFacts[] {
  return reports.flatMap((report) =>
    report.findings
      .filter((f) => f.present)
      .map((f) => ({
        ...f,
        firstSeen: f.firstSeen && f.firstSeen < f.seenAt ? f.firstSeen : f.seenAt,
        lastSeen: f.seenAt,
        status: 'open' as const,
      })),
  );
}
