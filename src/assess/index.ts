export {
  type AssessmentOptions,
  type AssessmentResult,
  assessmentFiles,
  runAssessment,
} from './assessment.js';
export {
  advisorySources,
  defaultRulePaths,
  openAttack,
  prioritizeOptions,
  warningListsFrom,
} from './content-inputs.js';
export { coverageDescription, coverageJson, navigatorLayer } from './coverage-output.js';
export {
  type CoverageInputs,
  type CoverageOptions,
  type CoverageRun,
  computeCoverage,
  loadCoverageInputs,
  runCoverage,
} from './coverage-run.js';
export { type InventoryOptions, RecognizedLogs } from './inventory.js';
export { incomplete, type Notice, type NoticeInput, type NoticeListener } from './notices.js';
export type { RuleOptions } from './rules.js';
export type { ThreatOptions } from './threats.js';
