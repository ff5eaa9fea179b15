export { type Asset, AssetIndex, type AssetMatch, type Criticality, readAssets } from './assets.js';
export { type CvssFacts, cvssFacts } from './cvss.js';
export { type DueDate, type DueSource, dueDate } from './due.js';
export { type GroupOptions, groupFindings, type SourceFacts, sourcesOfScans } from './findings.js';
export { staleContent } from './freshness.js';
export { importFindings } from './imports.js';
export {
  assetPort,
  BOD_TIMELINE_DAYS,
  byUrgency,
  DECISION_ORDER,
  DEFAULT_EPSS_THRESHOLD,
  type Decision,
  epssText,
  type FindingFacts,
  isPrivateAddress,
  type KnownVector,
  knownVectors,
  type Prioritized,
  type PrioritizeOptions,
  prioritize,
} from './prioritize.js';
export type { Coverage, Finding, Scanner, ScanReport } from './scan.js';
export { decide } from './ssvc.js';
export {
  type AssetScan,
  type FindingOwner,
  type ImportCounts,
  type ImportOutcome,
  type RiskAcceptance,
  type StoredSource,
  VulnStore,
} from './store.js';
export { prioritizeStored } from './stored.js';
