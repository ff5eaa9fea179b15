export { type Asset, AssetIndex, type Criticality, readAssets } from './assets.js';
export { type CvssFacts, cvssFacts } from './cvss.js';
export { type Finding, type ImportResult, importFindings } from './imports.js';
export {
  BOD_TIMELINE_DAYS,
  byUrgency,
  DECISION_ORDER,
  DEFAULT_EPSS_THRESHOLD,
  type Decision,
  type FindingFacts,
  type Prioritized,
  type PrioritizeOptions,
  prioritize,
} from './prioritize.js';
export { decide } from './ssvc.js';
export { type ImportCounts, type StoredFinding, VulnStore } from './store.js';
