export {
  type CompiledDetection,
  compileDetection,
  compileSelection,
  type FieldMap,
  type Predicate,
} from './compile.js';
export { type ConditionNode, parseCondition } from './condition.js';
export { MatchContext } from './context.js';
export {
  type BaselineSnapshot,
  type CorrelatedRule,
  CorrelationEngine,
  type CorrelationEngineOptions,
  type CorrelationResult,
  type EngineSnapshot,
  needsGeolocation,
  percentileOf,
} from './correlation.js';
export { type Detection, type DetectionItem, parseDetection, type SearchNode } from './detection.js';
export { SigmaError, type SigmaErrorCode } from './errors.js';
export { applyFilter, filterApplies } from './filters.js';
export {
  assembleRuleSet,
  type LoadOptions,
  loadRules,
  parseRuleText,
  type RuleSet,
  readRuleFiles,
} from './loader.js';
export {
  type LogSourceGap,
  type LogSourceMapping,
  loadLogSourceGaps,
  logSourceMappings,
} from './logsource-map.js';
export { base64Offsets, MODIFIERS } from './modifiers.js';
export {
  BUILTIN_PIPELINE_DIR,
  builtinPipelines,
  combinePipelines,
  loadPipeline,
  type Pipeline,
  type PipelineSet,
  type PipelineSource,
  parsePipeline,
  type Route,
  routeFor,
} from './pipeline.js';
export { loadPlaceholders, parsePlaceholders } from './placeholders.js';
export { type Atom, AtomIndex, detectionRequirement, type Requirement } from './prefilter.js';
export { compileSigmaRegex, translatePcre } from './regex.js';
export {
  type AnyRule,
  attackTags,
  type Correlation,
  type CorrelationRule,
  type CorrelationType,
  type DetectionRule,
  type FilterRule,
  LEVELS,
  type Level,
  type LogSource,
  parseTimespan,
  type RuleMeta,
  STATUSES,
  type Status,
} from './rule.js';
export { parseSigmaString, type SigmaValue } from './values.js';
export { VIGIL_RULES_DIR } from './vigil-rules.js';
