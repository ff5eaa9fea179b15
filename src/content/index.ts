export {
  type DecisionPoint,
  type DecisionTable,
  decisionRowKey,
  readDecisionTable,
  readSsvcTables,
} from './decision-tables.js';
export { type EpssScores, epssFile, readEpss } from './epss.js';
export { type KevCatalog, type KevEntry, readKevCatalog } from './kev.js';
export {
  type ContentLocation,
  candidateContentDirs,
  contentHelp,
  type LocateOptions,
  locateContent,
  vigilHome,
} from './locate.js';
export {
  attackReleaseUrl,
  CONTENT_SOURCES,
  type ContentSource,
  SOURCE_NAMES,
  type SourceName,
  sourceUrl,
} from './sources.js';
export {
  type ContentStatus,
  contentStatus,
  type SourceStatus,
  STALE_AFTER_DAYS,
  type StatusOptions,
} from './status.js';
export {
  contentDirIn,
  type Manifest,
  type ManifestEntry,
  type ProgressEvent,
  readManifest,
  sourcePresent,
  type UpdateOptions,
  type UpdateResult,
  updateContent,
} from './update.js';
export { type Verified, verifySource } from './verify.js';
