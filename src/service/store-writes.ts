import type { AlertGrowth, PlacedDetection } from './alert-grouping.js';
import type { AuditEntry } from './audit.js';
import type { NewSuppression, ResponseChange } from './store.js';

/*
 * The rows both stores insert, as their columns and the values of one row in that order: the
 * stores write the same columns and differ only in how a statement names its parameters.
 */

export const ALERT_COLUMNS =
  'tenant, rule_key, rule_id, rule_title, level, level_rank, host, techniques, first_seen, last_seen, count, status, created_at, updated_at';

/** An alert a batch opens, with what the batch brought to it. */
export function newAlertValues(tenant: string, growth: AlertGrowth, now: string): unknown[] {
  const { opener } = growth;
  return [
    tenant,
    growth.ruleKey,
    opener.rule.id ?? null,
    opener.rule.title,
    growth.level,
    growth.rank,
    growth.host,
    JSON.stringify(opener.techniques),
    growth.first,
    growth.last,
    growth.count,
    'open',
    now,
    now,
  ];
}

export const DETECTION_COLUMNS =
  'tenant, key, seq, time, received, rule_key, rule_id, rule_title, level, host, alert_id, suppression_id, detection, events, created_at';

export function detectionValues(tenant: string, placed: PlacedDetection, now: string): unknown[] {
  const { found, ruleKey, suppression, growth } = placed;
  const { detection } = found;
  return [
    tenant,
    found.key,
    found.seq,
    detection.timeMs ?? null,
    found.received,
    ruleKey,
    detection.rule.id ?? null,
    detection.rule.title,
    detection.rule.level,
    detection.host ?? null,
    growth?.id ?? null,
    suppression?.id ?? null,
    JSON.stringify(detection),
    found.events,
    now,
  ];
}

export const SUPPRESSION_COLUMNS = 'tenant, rule, host, field, value, until, created_by, reason, created_at';

export function suppressionValues(suppression: NewSuppression, actor: string, now: string): unknown[] {
  const { tenant, rule, host, field, value, until, reason } = suppression;
  return [tenant, rule, host, field, value, until, actor, reason, now];
}

export const AUDIT_COLUMNS = 'seq, time, actor, action, tenant, target, details, prev_hash, hash';

export function auditValues(entry: AuditEntry): unknown[] {
  const { seq, time, actor, action, tenant, target, details, prevHash, hash } = entry;
  return [seq, time, actor, action, tenant, target, JSON.stringify(details), prevHash, hash];
}

export const RESPONSE_COLUMNS =
  'key, tenant, alert_id, playbook, step, action, mode, state, params, request, result, error, attempts, kept, facts, ttl_ms, revert_at, expires_at, decided_by, created_at, updated_at';

/** What a later change of a response step (by key) replaces: everything but what names the step. */
export const RESPONSE_UPDATE = `mode = excluded.mode, state = excluded.state, params = excluded.params,
  request = excluded.request, result = excluded.result, error = excluded.error, attempts = excluded.attempts,
  kept = excluded.kept, facts = excluded.facts, ttl_ms = excluded.ttl_ms, revert_at = excluded.revert_at,
  expires_at = excluded.expires_at, decided_by = excluded.decided_by, updated_at = excluded.updated_at`;

export function responseValues(change: ResponseChange, now: string): unknown[] {
  return [
    change.key,
    change.tenant,
    change.alertId,
    change.playbook,
    change.step,
    change.action,
    change.mode,
    change.state,
    JSON.stringify(change.params),
    change.request,
    change.result,
    change.error,
    change.attempts,
    change.kept === null ? null : JSON.stringify(change.kept),
    change.facts === null ? null : JSON.stringify(change.facts),
    change.ttlMs,
    change.revertAt,
    change.expiresAt,
    change.decidedBy,
    now,
    now,
  ];
}

/** The parameters of a row of `count` values, as a dialect names them: `?, ?` or `$1, $2`. */
export function placeholders(count: number, param: (n: number) => string): string {
  return Array.from({ length: count }, (_, i) => param(i + 1)).join(', ');
}

/** `INSERT INTO table (columns) VALUES (...)` with a parameter per column. */
export function insertInto(table: string, columns: string, param: (n: number) => string): string {
  return `INSERT INTO ${table} (${columns}) VALUES (${placeholders(columns.split(',').length, param)})`;
}
