export {
  assessCoverage,
  type BacklogItem,
  type CoverageInput,
  type CoverageReport,
  type CoverageState,
  detectionScore,
  type Maturity,
  maturityOf,
  NEWER_ATTACK_HINT,
  STATES,
  type TechniqueCoverage,
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
export { type RuleFacts, ruleFacts } from './rules.js';
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
