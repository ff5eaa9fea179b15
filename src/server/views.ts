import type {
  Alert,
  AlertDetail,
  SessionInfo,
  StoredDetection,
  Suppression,
  TokenInfo,
} from '../service/index.js';

/** The API's JSON shapes: snake_case, stable, built from the store's records in one place. */

export function alertView(alert: Alert) {
  return {
    id: alert.id,
    tenant: alert.tenant,
    rule: alert.rule,
    host: alert.host,
    techniques: alert.techniques,
    first_seen: alert.firstSeen,
    last_seen: alert.lastSeen,
    count: alert.count,
    status: alert.status,
    assignee: alert.assignee,
    close_reason: alert.closeReason,
    created_at: alert.createdAt,
    updated_at: alert.updatedAt,
  };
}

export function detectionView(stored: StoredDetection) {
  const d = stored.detection;
  const correlation = d.correlation !== undefined;
  return {
    id: stored.id,
    tenant: stored.tenant,
    alert_id: stored.alertId,
    suppressed_by: stored.suppressionId,
    seq: stored.seq,
    time: d.time ?? null,
    received_at: stored.receivedAt,
    created_at: stored.createdAt,
    rule: {
      id: d.rule.id ?? null,
      title: d.rule.title,
      level: d.rule.level,
      author: d.rule.author ?? null,
      kind: d.rule.kind,
    },
    techniques: d.techniques,
    tactics: d.tactics,
    host: d.host ?? null,
    record: d.source.record,
    matched: d.matched,
    ...(d.indicator ? { indicator: d.indicator } : {}),
    ...(correlation
      ? { correlation: d.correlation, events: stored.events }
      : { event: stored.events[0] ?? null }),
  };
}

export function alertDetailView(alert: AlertDetail) {
  return {
    ...alertView(alert),
    detections: alert.detections.map(detectionView),
    history: alert.history,
  };
}

export function suppressionView(s: Suppression) {
  return {
    id: s.id,
    tenant: s.tenant,
    rule: s.rule,
    host: s.host,
    field: s.field,
    value: s.value,
    until: s.until,
    created_by: s.createdBy,
    reason: s.reason,
    created_at: s.createdAt,
    hits: s.hits,
  };
}

export function tokenView(t: TokenInfo) {
  return {
    id: t.id,
    label: t.label,
    role: t.role,
    tenant: t.tenant,
    created_at: t.createdAt,
    revoked_at: t.revokedAt,
  };
}

export function sessionView(s: SessionInfo) {
  return {
    id: s.id,
    token: { id: s.tokenId, label: s.label, role: s.role },
    tenant: s.tenant,
    signed_in_at: s.createdAt,
    last_used_at: s.lastSeen,
    expires_at: s.expiresAt,
    ended_at: s.endedAt,
  };
}
