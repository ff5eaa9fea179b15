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
export { readAdvisoryIndicators, readMispCsv, readMispEvent, readPlainList } from './ioc-formats.js';
export {
  type IocSourceOptions,
  type LoadedIndicators,
  loadIndicators,
  readIndicatorList,
  readIndicatorSource,
  readIndicatorText,
  type SourceCount,
} from './ioc-sources.js';
export { type IocSink, type PatternValue, parsePattern, stixIndicators } from './ioc-stix.js';
export {
  DEFAULT_CONFIDENCE,
  decayLifetimeDays,
  type Indicator,
  type IndicatorInput,
  IndicatorStore,
  IOC_DECAY,
  type StoreCounts,
  type StoreOptions,
} from './ioc-store.js';
export { readTaxii, TAXII_MEDIA_TYPE, type TaxiiCollection, type TaxiiOptions } from './ioc-taxii.js';
export { IOC_TYPES, type IocType, inferIocType, isIocType, normalizeIoc } from './ioc-values.js';
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
