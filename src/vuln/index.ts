export { type CvssFacts, cvssFacts } from './cvss.js';
export { type EpssScores, readEpss } from './epss.js';
export { type Finding, type ImportResult, importFindings } from './imports.js';
export { type DecisionPoint, type DecisionTable, decide, pointByKey, readDecisionTable } from './ssvc.js';
