export {
  type EventWatch,
  HuntCollector,
  memberLevels,
  type ProblemData,
  referenceResolver,
  silencedRules,
  slim,
  UnitEvaluator,
  type UnitResult,
  type Watched,
} from './collector.js';
export {
  type Detection,
  detectionFromCorrelation,
  detectionFromMatch,
  type IndicatorContext,
  LEVEL_ORDER,
} from './detection.js';
export { DetectionEngine, type EngineOptions, type RoutingStats, type RuleMatch } from './engine.js';
export { type HuntOptions, type HuntProgress, hunt, huntUnits, type UnitProgress } from './hunt.js';
export { type FieldRole, fieldRole, roleFields } from './ioc-fields.js';
export {
  detectionFromIoc,
  IndicatorIndex,
  type IocHit,
  IocMatcher,
  indicatorLevel,
} from './ioc-match.js';
export { type IndicatorTable, indicatorAt, indicatorTable, type WatchedIndicator } from './ioc-table.js';
export {
  csvCell,
  csvHeader,
  csvRow,
  type DetectionFormat,
  indicatorText,
  jsonLine,
  matchedText,
} from './output.js';
export { runOrdered, type WorkerInit } from './parallel.js';
export { WorkerPool, workerScript } from './pool.js';
export { recognizedLogsources, UNRECOGNIZED } from './recognize.js';
export { passesRegression, type RegressionCase, regressionCase } from './regression.js';
export { type DumpFormat, type RenderedUnit, renderUnit } from './render-unit.js';
export { type EventScope, eventScopeTest, type ReportScope, reportsRule } from './scope.js';
export {
  type SearchHit,
  type SearchOptions,
  type SearchQuery,
  type SearchSummary,
  search,
  searchTerms,
} from './search.js';
export {
  type DetectionSetup,
  loadDetectionSetup,
  loadRuleSetup,
  loadSetupPipelines,
  type RuleSetup,
  ruleSetDigest,
  type SetupOptions,
} from './setup.js';
export { type Count, type HuntSummary, type RuleCount, SummaryBuilder } from './summary.js';
export {
  addSweep,
  IndicatorSweep,
  type SweepHit,
  type SweepResult,
  type SweepTarget,
} from './sweep.js';
export { ReadTally } from './tally.js';
export { type WorkUnit, workUnits } from './units.js';
