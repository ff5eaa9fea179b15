import type { Detection } from '../detect/index.js';
import type { Facts } from '../respond/index.js';
import type { Role } from './access.js';
import type { AuditEntry } from './audit.js';
import type {
  Alert,
  AlertStatus,
  CloseReason,
  DisabledRule,
  ResponseRecord,
  RetroHunt,
  SessionInfo,
  StoredDetection,
  Suppression,
  TokenInfo,
} from './store.js';

/*
 * The rows of the service's tables as both stores read them, and their mapping to the store's
 * shapes. Both schemas keep the same columns: times of events in milliseconds, times of changes as
 * ISO 8601 text (PostgreSQL's timestamptz, read back as ISO text), JSON as its text.
 */

export interface AlertRow {
  id: number;
  tenant: string;
  rule_key: string;
  rule_id: string | null;
  rule_title: string;
  level: string;
  level_rank: number;
  host: string;
  techniques: string;
  first_seen: number;
  last_seen: number;
  count: number;
  status: AlertStatus;
  assignee: string | null;
  close_reason: CloseReason | null;
  created_at: string;
  updated_at: string;
}

export interface DetectionRow {
  id: number;
  tenant: string;
  alert_id: number | null;
  suppression_id: number | null;
  seq: number;
  received: number;
  created_at: string;
  detection: string;
  events: string;
}

export interface SuppressionRow {
  id: number;
  tenant: string | null;
  rule: string | null;
  host: string | null;
  field: string | null;
  value: string | null;
  until: string;
  created_by: string;
  reason: string;
  created_at: string;
  hits: number;
}

export interface HuntRow {
  id: number;
  tenant: string;
  requested_by: string;
  rules: string;
  since: number | null;
  until: number | null;
  status: RetroHunt['status'];
  error: string | null;
  events: number;
  detections: number;
  started_at: string;
  finished_at: string | null;
}

export interface AuditRow {
  seq: number;
  time: string;
  actor: string;
  action: string;
  tenant: string | null;
  target: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface TokenRow {
  id: number;
  label: string | null;
  role: Role;
  tenant: string | null;
  created_at: string;
  revoked_at: string | null;
}

/** A session joined with its token (times in milliseconds). */
export interface SessionRow {
  id: number;
  token_id: number;
  csrf: string;
  tenant: string | null;
  created_at: number;
  last_seen: number;
  expires_at: number;
  ended_at: number | null;
  label: string | null;
  role: Role;
  token_tenant: string | null;
  revoked_at: string | null;
}

export interface ResponseRow {
  id: number;
  key: string;
  tenant: string;
  alert_id: number;
  playbook: string;
  step: string;
  action: string;
  mode: string;
  state: ResponseRecord['state'];
  params: string;
  request: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  kept: string | null;
  facts: string | null;
  ttl_ms: number | null;
  revert_at: number | null;
  expires_at: number | null;
  decided_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface DisabledRuleRow {
  tenant: string;
  rule_key: string;
  disabled_by: string;
  disabled_at: string;
}

export function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    tenant: row.tenant,
    rule: { id: row.rule_id, title: row.rule_title, level: row.level },
    host: row.host,
    techniques: JSON.parse(row.techniques) as string[],
    firstSeen: new Date(row.first_seen).toISOString(),
    lastSeen: new Date(row.last_seen).toISOString(),
    count: row.count,
    status: row.status,
    assignee: row.assignee,
    closeReason: row.close_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toDetection(row: DetectionRow): StoredDetection {
  return {
    id: row.id,
    tenant: row.tenant,
    alertId: row.alert_id,
    suppressionId: row.suppression_id,
    seq: row.seq,
    receivedAt: new Date(row.received).toISOString(),
    createdAt: row.created_at,
    detection: JSON.parse(row.detection) as Detection,
    events: JSON.parse(row.events) as unknown[],
  };
}

export function toSuppression(row: SuppressionRow): Suppression {
  return {
    id: row.id,
    tenant: row.tenant,
    rule: row.rule,
    host: row.host,
    field: row.field,
    value: row.value,
    until: row.until,
    createdBy: row.created_by,
    reason: row.reason,
    createdAt: row.created_at,
    hits: row.hits,
  };
}

export function toHunt(row: HuntRow): RetroHunt {
  return {
    id: row.id,
    tenant: row.tenant,
    requestedBy: row.requested_by,
    rules: row.rules,
    since: row.since,
    until: row.until,
    status: row.status,
    error: row.error,
    events: row.events,
    detections: row.detections,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    time: row.time,
    actor: row.actor,
    action: row.action,
    tenant: row.tenant,
    target: row.target,
    details: JSON.parse(row.details) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function toTokenInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    label: row.label,
    role: row.role,
    tenant: row.tenant,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function toSessionInfo(row: SessionRow): SessionInfo {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: row.id,
    tokenId: row.token_id,
    label: row.label,
    role: row.role,
    tenant: row.token_tenant,
    createdAt: iso(row.created_at),
    lastSeen: iso(row.last_seen),
    expiresAt: iso(row.expires_at),
    endedAt: row.ended_at === null ? (row.revoked_at ?? null) : iso(row.ended_at),
  };
}

export function toResponseRecord(row: ResponseRow): ResponseRecord {
  return {
    id: row.id,
    key: row.key,
    tenant: row.tenant,
    alertId: row.alert_id,
    playbook: row.playbook,
    step: row.step,
    action: row.action,
    mode: row.mode,
    state: row.state,
    params: JSON.parse(row.params) as Record<string, string>,
    request: row.request,
    result: row.result,
    error: row.error,
    attempts: row.attempts,
    kept: row.kept === null ? null : (JSON.parse(row.kept) as Record<string, string>),
    facts: row.facts === null ? null : (JSON.parse(row.facts) as Facts),
    ttlMs: row.ttl_ms,
    revertAt: row.revert_at,
    expiresAt: row.expires_at,
    decidedBy: row.decided_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toDisabledRule(row: DisabledRuleRow): DisabledRule {
  return { tenant: row.tenant, rule: row.rule_key, disabledBy: row.disabled_by, disabledAt: row.disabled_at };
}
