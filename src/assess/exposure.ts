import { VigilError } from '../core/index.js';
import { type Exposure, MAX_LISTED } from '../report/index.js';
import {
  byUrgency,
  DEFAULT_EPSS_THRESHOLD,
  groupFindings,
  importFindings,
  knownVectors,
  prioritize,
  readAssets,
  sourcesOfScans,
} from '../vuln/index.js';
import { prioritizeOptions } from './content-inputs.js';
import type { NoticeListener } from './notices.js';

export interface ExposureOptions {
  /** Scanner results, in any format `vigil vulns import` reads. */
  scans: string[];
  /** The asset inventory (public-facing, criticality). */
  assets?: string;
  /** The CVEs the threat exploits: their findings come first. */
  advisoryCves: Set<string>;
  content?: string;
}

/**
 * The scans prioritized as `vigil vulns list` would, without touching its database. Entries left
 * out are told as skipped, and a scan that cannot be read as an error: it costs the exposure its
 * findings, not the assessment.
 */
export function exposureOf(options: ExposureOptions, tell: NoticeListener): Exposure {
  const assets = options.assets ? readAssets(options.assets) : undefined;
  if (assets) tell({ severity: 'skipped', input: 'assets', problems: assets.problems });
  const prioritizing = prioritizeOptions(
    options.content,
    assets?.assets,
    DEFAULT_EPSS_THRESHOLD,
    options.advisoryCves,
    tell,
  );
  const sources = sourcesOfScans(
    options.scans.flatMap((file) => {
      try {
        const imported = importFindings(file);
        tell({ severity: 'skipped', input: 'scan', problems: imported.problems });
        return [imported];
      } catch (error) {
        if (!(error instanceof VigilError)) throw error;
        tell({ severity: 'error', input: 'scan', problems: [error] });
        return [];
      }
    }),
  );
  prioritizing.knownVectors = knownVectors(sources);
  const prioritized = groupFindings(sources, { assets: assets?.assets })
    .map((f) => prioritize(f, prioritizing))
    .sort(byUrgency);
  const byDecision: Record<string, number> = {};
  for (const p of prioritized) byDecision[p.decision] = (byDecision[p.decision] ?? 0) + 1;
  return {
    findings: prioritized.length,
    assets: new Set(prioritized.map((p) => p.asset)).size,
    byDecision,
    advisoryFindings: prioritized.filter((p) => p.advisory).slice(0, MAX_LISTED),
    top: prioritized.slice(0, MAX_LISTED),
  };
}
