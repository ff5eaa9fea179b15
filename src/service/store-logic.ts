import { randomBytes } from 'node:crypto';
import type { FieldValue } from '../core/index.js';
import type { Detection } from '../detect/index.js';
import type { Principal } from './access.js';
import type { AlertStatus, CloseReason, Session, SessionLimits, Suppression, TriageChange } from './store.js';
import type { AlertRow, SessionRow } from './store-rows.js';

/*
 * The decisions both stores make the same way, apart from how they read and write: which rule a
 * detection belongs to, what a suppression covers, when a session lives, what a triage changes.
 */

/** The key detections of one rule share: its id, or where it was written when it has none. */
export function ruleKey(rule: Detection['rule']): string {
  return rule.id ?? `${rule.file}#${rule.title}`;
}

function textOf(value: FieldValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Whether a suppression covers a detection (every attribute it sets must hold; text compared without case). */
export function suppresses(
  suppression: Suppression,
  detection: Detection,
  fields: () => Readonly<Record<string, FieldValue>>,
): boolean {
  const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();
  if (
    suppression.rule !== null &&
    suppression.rule !== detection.rule.id &&
    !same(detection.rule.title, suppression.rule)
  )
    return false;
  if (suppression.host !== null && !same(detection.host, suppression.host)) return false;
  if (suppression.field !== null) {
    const value = textOf(detection.matched[suppression.field]) ?? textOf(fields()[suppression.field]);
    if (suppression.value === null ? value === undefined : !same(value, suppression.value)) return false;
  }
  return true;
}

/** The suppressions that apply to a tenant's detections at `now` (ISO 8601). */
export function activeFor(suppressions: readonly Suppression[], tenant: string, now: string): Suppression[] {
  return suppressions.filter((s) => (s.tenant === null || s.tenant === tenant) && s.until > now);
}

/** A new console session's secrets (the cookie and the CSRF token) and first end. */
export function newSessionSecrets(limits: SessionLimits, now: number) {
  return {
    secret: randomBytes(32).toString('base64url'),
    csrf: randomBytes(32).toString('base64url'),
    expiresAt: now + Math.min(limits.idleMs, limits.absoluteMs),
  };
}

/** A session's idle time is renewed at most this often (or a quarter of it), so reading pages does not write on each one. */
const SESSION_TOUCH_MS = 30_000;

/**
 * The session a row stands for at `now`, or undefined when it ended, expired or its token was
 * revoked; `renewedUntil` is set when its idle time is to be renewed (the store writes it).
 */
export function liveSession(
  row: SessionRow | undefined,
  limits: SessionLimits,
  now: number,
  use: boolean,
): { session: Session; renewedUntil?: number } | undefined {
  if (!row || row.ended_at !== null || row.revoked_at !== null) return undefined;
  const absoluteEnd = row.created_at + limits.absoluteMs;
  if (now >= row.expires_at || now >= absoluteEnd || now >= row.last_seen + limits.idleMs) return undefined;
  const renew = use && now - row.last_seen >= Math.min(SESSION_TOUCH_MS, limits.idleMs / 4);
  const expiresAt = renew ? Math.min(now + limits.idleMs, absoluteEnd) : row.expires_at;
  const principal: Principal = {
    tokenId: row.token_id,
    label: row.label,
    role: row.role,
    tenant: row.token_tenant,
  };
  return {
    session: { id: row.id, principal, tenant: row.token_tenant ?? row.tenant, csrf: row.csrf, expiresAt },
    ...(renew && { renewedUntil: expiresAt }),
  };
}

/** What a triage change makes of an alert, and what of it is recorded; undefined when nothing changes. */
export function triageOutcome(
  row: AlertRow,
  change: TriageChange,
):
  | {
      status: AlertStatus;
      closeReason: CloseReason | null;
      assignee: string | null;
      recorded: Record<string, unknown>;
    }
  | undefined {
  const status = change.status ?? row.status;
  const closeReason = status === 'closed' ? (change.closeReason ?? row.close_reason) : null;
  const assignee = change.assignee === undefined ? row.assignee : change.assignee;
  const recorded: Record<string, unknown> = {};
  if (status !== row.status) recorded.status = { from: row.status, to: status };
  if (closeReason !== row.close_reason) recorded.close_reason = { from: row.close_reason, to: closeReason };
  if (assignee !== row.assignee) recorded.assignee = { from: row.assignee, to: assignee };
  if (change.note !== undefined) recorded.note = change.note;
  if (Object.keys(recorded).length === 0) return undefined;
  return { status, closeReason, assignee, recorded };
}

/** The detections of a hunt still kept (numbered from `before`) when at most `keep` are kept in all. */
export function keptHuntDetections(
  before: number,
  detections: readonly Detection[],
  keep: number,
): { n: number; detection: string }[] {
  return detections
    .slice(0, Math.max(0, keep - before))
    .map((detection, i) => ({ n: before + i, detection: JSON.stringify(detection) }));
}
