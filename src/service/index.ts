export {
  actorName,
  allows,
  checkTenantName,
  type Permission,
  type Principal,
  ROLES,
  type Role,
  tenantScope,
} from './access.js';
export { hostTimeline, ruleSource, type TimelineEvent } from './alert-context.js';
export { type AuditEntry, type AuditVerdict, verifyAuditChain } from './audit.js';
export {
  type BusConfig,
  CONFIG_FILE,
  DEFAULT_BUS_PREFIX,
  DEFAULT_LISTEN,
  loadServiceConfig,
  NODE_NAME,
  parseBusUrl,
  parseServiceConfig,
  parseSize,
  type ServiceConfig,
  type SyslogListener,
} from './config.js';
export type { EventLog, LogRecord, NewRecord } from './event-log.js';
export { FileEventLog } from './file-event-log.js';
export { FolderWatch } from './folder-watch.js';
export { type IndicatorSets, ServiceIndicators } from './indicators.js';
export { BodyTooLarge, type ParsedBody, parseJsonBody, parseNdjson } from './ingest.js';
export { describeEventLogPlace, type EventLogPlace, eventLogPlace, openEventLog } from './open-event-log.js';
export type { LeaseRow, NodeRow } from './postgres-leases.js';
export { POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';
export type { PostgresServiceStore } from './postgres-store.js';
export { isPostgresUrl, redactUrl } from './postgres-url.js';
export {
  type PlaybookChoice,
  playbookChoices,
  Responder,
  type ResponderOptions,
  ResponseConflict,
  type RunRequest,
} from './responder.js';
export { alertFacts } from './response-facts.js';
export {
  ACTIONABLE_CONFIDENCE,
  type LookupSources,
  ServiceEnricher,
  tenantVulnDb,
} from './response-lookups.js';
export { HUNT_DETECTIONS_KEPT, type RetroHuntRequest } from './retro-hunts.js';
export { deployedRuleKey, type TenantRules, tenantRulesPath } from './rules.js';
export {
  Backpressure,
  DetectionService,
  dataPaths,
  type IndicatorsAdded,
  noVulnDecisions,
  type OpenedAlert,
  type RulesStatus,
  type ServiceOptions,
} from './service.js';
export { SqliteServiceStore } from './sqlite-store.js';
export {
  ALERT_SORTS,
  ALERT_STATUSES,
  type Alert,
  type AlertDetail,
  type AlertFacets,
  type AlertGroup,
  type AlertQuery,
  type AlertSort,
  type AlertStatus,
  type BatchOutcome,
  CLOSE_REASONS,
  type CloseReason,
  type DisabledRule,
  type NewDetection,
  type ResponseRecord,
  type ResponseState,
  type RetroHunt,
  type RuleHits,
  type ServiceStore,
  type Session,
  type SessionInfo,
  type SessionLimits,
  type StoredDetection,
  type Suppression,
  type TokenInfo,
  type TriageChange,
} from './store.js';
export { migrateServiceStore, openServiceStore, type StoreChoice, storeChoice } from './store-choice.js';
export { storedEventUnits } from './stored-units.js';
export { SyslogInput } from './syslog-listener.js';
export { checkRuleText, RULE_FILE } from './tenant-rule-files.js';
export { triageAlert } from './triage.js';
