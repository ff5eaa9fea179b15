export { type BacklogAction, type BacklogItem, RELEVANCE, type Relevance } from './backlog.js';
export {
  assessCoverage,
  type CoverageInput,
  type CoverageReport,
  detectionScore,
  type Maturity,
  maturityOf,
  NEWER_ATTACK_HINT,
  type ThreatProfile,
  threatScope,
} from './coverage.js';
export {
  type CollectedLogSource,
  CollectedLogs,
  type Collection,
  type Inventory,
  parseInventory,
  readInventory,
} from './inventory.js';
export { coverageLayer, type LayerOptions, readThreatLayer, STATE_COLORS, STATE_LABELS } from './layer.js';
export { ANY_PLATFORM, platformsNamedIn } from './platforms.js';
export { type RuleFacts, ruleFacts, rulesUnknownTags, type UnknownTags } from './rules.js';
export {
  type CoverageState,
  isPreCompromise,
  PRE_COMPROMISE_TACTICS,
  STATES,
  type TechniqueCoverage,
} from './states.js';
export {
  collects,
  componentNeeds,
  DEFAULT_LOG_SOURCE_MAP,
  type LogNeed,
  type LogSourceMap,
  logsourceNeed,
  needText,
  readLogSourceMap,
} from './visibility.js';
