import type { FieldValue } from '../core/index.js';
import type { Detection } from '../detect/index.js';
import type { Facts } from '../respond/index.js';
import type { Principal, Role } from './access.js';
import type { AuditEntry, AuditRecord, AuditVerdict } from './audit.js';
import type { Fence } from './ownership.js';

export const ALERT_STATUSES = ['open', 'acknowledged', 'closed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const CLOSE_REASONS = [
  'true_positive',
  'benign_true_positive',
  'false_positive',
  'duplicate',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

export interface Alert {
  id: number;
  tenant: string;
  rule: { id: string | null; title: string; level: string };
  host: string;
  techniques: string[];
  /** Event times of the first and last detection (ISO 8601). */
  firstSeen: string;
  lastSeen: string;
  count: number;
  status: AlertStatus;
  assignee: string | null;
  closeReason: CloseReason | null;
  createdAt: string;
  updatedAt: string;
}

export interface AlertChange {
  time: string;
  actor: string;
  change: Record<string, unknown>;
}

export interface StoredDetection {
  id: number;
  tenant: string;
  alertId: number | null;
  suppressionId: number | null;
  /** Position in the tenant's event log of the event (the last one, for a correlation). */
  seq: number;
  /** When the service accepted that event, and when it stored the detection (ISO 8601). */
  receivedAt: string;
  createdAt: string;
  detection: Detection;
  /** The event as received, or a correlation's events. */
  events: unknown[];
}

export interface AlertDetail extends Alert {
  detections: StoredDetection[];
  history: AlertChange[];
}

/** A detection the processor found, ready to be stored (and grouped into an alert). */
export interface NewDetection {
  /** The same detection found again (a replay after a crash) has the same key: it is stored once. */
  key: string;
  seq: number;
  /** When the service accepted the event (the last one, for a correlation). */
  received: number;
  detection: Detection;
  /** The event as received, or a correlation's events: a JSON array. */
  events: string;
  /**
   * The event's flat fields, for suppressions by field value: read only when one asks (most
   * detections never need them, and carrying them from the detection thread would cost).
   */
  fields: () => Readonly<Record<string, FieldValue>>;
  /** Detections of the same rule and host this close in time join one alert. */
  alertWindowMs: number;
}

export interface BatchOutcome {
  tenant: string;
  detections: NewDetection[];
  /** The last position whose events are fully handled. */
  processed: number;
  /** Correlation state as of position `seq`, to resume from after a restart. */
  snapshot?: { seq: number; state: string };
  /**
   * The committing node's lease on the tenant: a store shared by nodes refuses the batch (LeaseLost)
   * once another node took the tenant over. The embedded store has one node and ignores it.
   */
  fence?: Fence;
}

export interface CommitResult {
  /** Detections stored now (not seen before). */
  stored: number;
  suppressed: number;
  /** Alerts opened by this batch. */
  opened: Alert[];
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface AlertQuery {
  /** The tenant, or null for every tenant (service-wide principals). */
  tenant: string | null;
  status?: AlertStatus[];
  rule?: string;
  host?: string;
  level?: string[];
  technique?: string;
  /** An assignee (without case), or null for alerts nobody has taken. */
  assignee?: string | null;
  /** On the alert's last detection time (ms). */
  since?: number;
  until?: number;
  /** Only alerts opened after this one (the console's live queue asks for what is new). */
  afterId?: number;
  /** Newest first (by id) unless told; every order pages by keyset, never by offset. */
  sort?: AlertSort;
  limit: number;
  cursor?: string;
}

export const ALERT_SORTS = ['newest', 'last_seen', 'level', 'count'] as const;
export type AlertSort = (typeof ALERT_SORTS)[number];

/** Alerts of a tenant counted by status and by level (every status). */
export interface AlertFacets {
  status: Record<AlertStatus, number>;
  level: Record<string, number>;
}

/** One group of the alerts a query selects: a rule or a host, with how many alerts it has. */
export interface AlertGroup {
  /** What filters the queue to this group: the rule's id (or title) or the host. */
  key: string;
  label: string;
  count: number;
}

export interface DetectionQuery {
  tenant: string | null;
  rule?: string;
  /** On the detection's event time (ms). */
  since?: number;
  limit: number;
  cursor?: string;
}

export interface TriageChange {
  status?: AlertStatus;
  assignee?: string | null;
  closeReason?: CloseReason;
  note?: string;
}

export interface Suppression {
  id: number;
  /** Null: every tenant. */
  tenant: string | null;
  rule: string | null;
  host: string | null;
  field: string | null;
  value: string | null;
  until: string;
  createdBy: string;
  reason: string;
  createdAt: string;
  hits: number;
}

export type NewSuppression = Pick<
  Suppression,
  'tenant' | 'rule' | 'host' | 'field' | 'value' | 'until' | 'reason'
>;

export interface TokenInfo {
  id: number;
  label: string | null;
  role: Role;
  tenant: string | null;
  createdAt: string;
  revokedAt: string | null;
}

/** How long a console session lives: since its last use, and at most since it started. */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

/** A live console session: the token it was opened with, and what the console needs of it. */
export interface Session {
  id: number;
  principal: Principal;
  /** The tenant a service-wide principal chose to look at; null: every tenant. */
  tenant: string | null;
  /** The synchronizer token every state-changing request of this session must carry. */
  csrf: string;
  /** When it ends unless used again (ms). */
  expiresAt: number;
}

export interface SessionInfo {
  id: number;
  tokenId: number;
  label: string | null;
  role: Role;
  tenant: string | null;
  createdAt: string;
  lastSeen: string;
  expiresAt: string;
  endedAt: string | null;
}

/** What became of a response step (see respond/): the states of StepOutcome, and those of time. */
export type ResponseState =
  | 'planned'
  | 'awaiting-approval'
  | 'rejected'
  | 'expired'
  | 'skipped'
  | 'running'
  | 'done'
  | 'failed'
  | 'reverted';

/** One step of a playbook run on an alert, as the store keeps it. */
export interface ResponseRecord {
  id: number;
  key: string;
  tenant: string;
  alertId: number;
  playbook: string;
  step: string;
  action: string;
  mode: string;
  state: ResponseState;
  params: Record<string, string>;
  request: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  kept: Record<string, string> | null;
  /** What an enrich step found (its facts by name); null for other steps. */
  facts: Facts | null;
  ttlMs: number | null;
  /** When a containment ends by itself (ms). */
  revertAt: number | null;
  /** When an approval request lapses (ms). */
  expiresAt: number | null;
  decidedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export type ResponseChange = Omit<ResponseRecord, 'id' | 'createdAt' | 'updatedAt'>;

/** A retro-hunt: stored events replayed through rules, apart from live detection and alerts. */
export interface RetroHunt {
  id: number;
  tenant: string;
  requestedBy: string;
  /** `current` (the tenant's rules as deployed) or how many rule files the request brought. */
  rules: string;
  since: number | null;
  until: number | null;
  status: 'running' | 'done' | 'failed';
  error: string | null;
  events: number;
  detections: number;
  startedAt: string;
  finishedAt: string | null;
}

/** How far a watched file has been read: bytes, and for EVTX the last record taken. */
export interface WatchPosition {
  path: string;
  tenant: string;
  /** The file's device and inode: another file under the same name is read from its start. */
  identity: string;
  offset: number;
  record: number;
}

/** A rule a tenant turned off: its detections stop until it is turned on again. */
export interface DisabledRule {
  tenant: string;
  /** The rule's id, or `file#title` for a rule without one (as detections name it). */
  rule: string;
  disabledBy: string;
  disabledAt: string;
}

/** Detections of one rule on one day (UTC) for a tenant, suppressed ones included. */
export interface RuleHits {
  rule: string;
  title: string;
  /** YYYY-MM-DD. */
  day: string;
  detections: number;
}

export interface TenantStats {
  processed: number;
  detections: number;
  alerts: number;
}

/**
 * Everything the service keeps besides the events: tenants, tokens, the audit log, processing
 * positions and correlation snapshots, detections, alerts, triage and suppressions. Embedded:
 * SQLite (SqliteServiceStore); in a cluster, PostgreSQL. Every method is asynchronous so the two
 * are interchangeable, and every change that is audited is audited in the same transaction.
 */
export interface ServiceStore {
  addTenant(name: string, actor: string): Promise<void>;
  tenants(): Promise<{ name: string; createdAt: string }[]>;
  hasTenant(name: string): Promise<boolean>;

  addToken(
    token: { role: Role; tenant: string | null; label: string | null },
    actor: string,
  ): Promise<{ id: number; secret: string }>;
  /** The principal a bearer token stands for; undefined when unknown or revoked. */
  authenticate(secret: string): Promise<Principal | undefined>;
  listTokens(): Promise<TokenInfo[]>;
  /** Revokes a token: its console sessions end with it. */
  revokeToken(id: number, actor: string): Promise<boolean>;

  /** Opens a console session for a principal; the secret is the cookie, only its hash is kept. */
  startSession(principal: Principal, limits: SessionLimits): Promise<{ secret: string; session: Session }>;
  /**
   * The session a cookie stands for, its idle time renewed when `use` says a person used it
   * (not a page's own background requests); undefined when unknown, ended, expired (idle or
   * absolute) or when its token was revoked.
   */
  session(secret: string, limits: SessionLimits, use?: boolean): Promise<Session | undefined>;
  /** A service-wide principal's choice of tenant (null: every tenant). */
  chooseSessionTenant(id: number, tenant: string | null): Promise<void>;
  /** Ends a session (sign-out, or an admin's revocation); false when it was not live. */
  endSession(id: number, actor: string, reason: 'sign-out' | 'revoked'): Promise<boolean>;
  listSessions(): Promise<SessionInfo[]>;

  audit(record: AuditRecord): Promise<AuditEntry>;
  verifyAudit(): Promise<AuditVerdict>;
  auditEntries(after: number, limit: number): Promise<AuditEntry[]>;

  position(tenant: string): Promise<number>;
  snapshot(tenant: string): Promise<{ seq: number; state: string } | undefined>;
  /** Stores a processed batch at once: its new detections, their alerts, the position and snapshot. */
  commit(batch: BatchOutcome): Promise<CommitResult>;

  alerts(query: AlertQuery): Promise<Page<Alert>>;
  alert(tenant: string | null, id: number): Promise<AlertDetail | undefined>;
  /** Applies a triage change; undefined when the alert is not in the tenant's scope. */
  triage(tenant: string | null, id: number, change: TriageChange, actor: string): Promise<Alert | undefined>;
  detections(query: DetectionQuery): Promise<Page<StoredDetection>>;
  stats(tenant: string | null): Promise<TenantStats>;
  alertCounts(tenant: string | null): Promise<Record<AlertStatus, number>>;
  alertFacets(tenant: string | null): Promise<AlertFacets>;
  /** The biggest groups (by rule or host) of the alerts a query selects, at most `limit`. */
  alertGroups(query: Omit<AlertQuery, 'cursor' | 'sort'>, by: 'rule' | 'host'): Promise<AlertGroup[]>;

  addSuppression(suppression: NewSuppression, actor: string): Promise<Suppression>;
  suppressions(tenant: string | null): Promise<Suppression[]>;
  removeSuppression(tenant: string | null, id: number, actor: string): Promise<boolean>;

  /** Turns a tenant's rule off or on again (audited); false when it already was. */
  setRuleDisabled(tenant: string, rule: string, disabled: boolean, actor: string): Promise<boolean>;
  /** Rules turned off, of a tenant or (null) of every tenant. */
  disabledRules(tenant: string | null): Promise<DisabledRule[]>;
  /** A tenant's detections per rule and day since a time (ms). */
  ruleHits(tenant: string, since: number): Promise<RuleHits[]>;

  startHunt(hunt: Pick<RetroHunt, 'tenant' | 'rules' | 'since' | 'until'>, actor: string): Promise<RetroHunt>;
  /** Keeps up to `keep` detections of a hunt in all; counts them all. */
  addHuntDetections(id: number, detections: readonly Detection[], keep: number): Promise<void>;
  finishHunt(id: number, outcome: { events: number; error?: string }): Promise<void>;
  /** Hunts left running by a service that stopped are failed. */
  failRunningHunts(reason: string): Promise<number>;
  hunts(tenant: string | null): Promise<RetroHunt[]>;
  hunt(
    tenant: string | null,
    id: number,
    limit: number,
    offset: number,
  ): Promise<{ hunt: RetroHunt; detections: Detection[] } | undefined>;

  /** Creates or updates a response step (by key) and audits the change with it, in one transaction. */
  saveResponse(change: ResponseChange, audit: AuditRecord): Promise<ResponseRecord>;
  responses(tenant: string | null, alertId: number): Promise<ResponseRecord[]>;
  response(tenant: string | null, id: number): Promise<ResponseRecord | undefined>;
  responseByKey(key: string): Promise<ResponseRecord | undefined>;
  /** Approvals that lapsed, containments whose time is up, at `now` (ms), and steps left running. */
  dueResponses(now: number): Promise<ResponseRecord[]>;

  watchPosition(path: string): Promise<WatchPosition | undefined>;
  saveWatchPosition(position: WatchPosition): Promise<void>;

  close(): Promise<void>;
}
