export {
  type Confidence,
  DECAY_MODELS,
  DECAY_THRESHOLD,
  type DecayModel,
  decayScore,
  judgeIndicator,
  type Verdict,
} from './actionability.js';
export {
  type Advisory,
  type AdvisoryContext,
  advisoryDate,
  analyzeAdvisory,
  type CveFinding,
  type MitigationFinding,
} from './advisory.js';
export type { IndicatorFinding, ToolMention } from './advisory-indicators.js';
export {
  type AdvisoryDocument,
  decodeAdvisory,
  htmlText,
  type ReadAdvisoryOptions,
  readAdvisory,
} from './documents.js';
export {
  type ExtractedIndicator,
  extractIndicators,
  INDICATOR_TYPES,
  type IndicatorType,
  isPublicDomain,
} from './indicators.js';
export { refang } from './refang.js';
export { type AsideLabel, asideSentence, type LineRole, lineRoles, type SectionKind } from './sections.js';
export { patternIndicators, stixStatements } from './stix-objects.js';
export {
  type ActorMention,
  DEFAULT_MIN_CONFIDENCE,
  type ExtractOptions,
  TechniqueExtractor,
  type TechniqueFinding,
  type TechniqueSignal,
} from './techniques.js';
export { type KnownBinary, readLolbas, WindowsBinaries } from './tools.js';
export {
  readWarningLists,
  type WarningHit,
  type WarningList,
  WarningListIndex,
  type WarningListKind,
  warningListKind,
} from './warninglists.js';
