export { type Detection, detectionFromCorrelation, detectionFromMatch, LEVEL_ORDER } from './detection.js';
export { DetectionEngine, type EngineOptions, type RoutingStats, type RuleMatch } from './engine.js';
export { type HuntOptions, type HuntProgress, hunt, referenceResolver } from './hunt.js';
export { csvHeader, csvRow, type DetectionFormat, jsonLine, matchedText } from './output.js';
export { type DetectionSetup, loadDetectionSetup, type SetupOptions } from './setup.js';
export { type Count, type HuntSummary, type RuleCount, SummaryBuilder } from './summary.js';
