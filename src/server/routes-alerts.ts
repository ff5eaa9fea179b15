import type { FastifyInstance } from 'fastify';
import {
  ALERT_STATUSES,
  type AlertStatus,
  actorName,
  CLOSE_REASONS,
  type CloseReason,
  type DetectionService,
  triageAlert,
} from '../service/index.js';
import { LEVELS } from '../sigma/index.js';
import { errorSchema, type RouteBook, type Schema } from './api.js';
import { ApiError } from './app.js';
import { pageQuery, principalOf, queryTime, scopeOf } from './scope.js';
import { alertDetailView, alertView, detectionView, suppressionView } from './views.js';

const idParams: Schema = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1 } },
  required: ['id'],
};

const alertSchema: Schema = {
  type: 'object',
  description: 'an alert: detections of one rule on one host, close in time',
};

function list(text: string | undefined, allowed: readonly string[], name: string): string[] | undefined {
  if (text === undefined) return undefined;
  const values = text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const bad = values.find((v) => !allowed.includes(v));
  if (bad)
    throw new ApiError(400, 'INVALID_REQUEST', `${name} must be among ${allowed.join(', ')}, not '${bad}'`);
  return values;
}

export function registerAlertRoutes(app: FastifyInstance, book: RouteBook, service: DetectionService): void {
  const store = service.store;

  book.add(app, {
    method: 'GET',
    url: '/api/v1/alerts',
    permission: 'read',
    summary: 'List alerts, newest first',
    tags: ['alerts'],
    querystring: {
      type: 'object',
      properties: {
        ...pageQuery,
        status: { type: 'string', description: `comma-separated: ${ALERT_STATUSES.join(', ')}` },
        rule: { type: 'string', description: 'rule id or title' },
        host: { type: 'string' },
        level: { type: 'string', description: `comma-separated: ${LEVELS.join(', ')}` },
        technique: { type: 'string', description: 'an ATT&CK technique id (sub-techniques included)' },
        since: { type: 'string', description: 'alerts whose last detection is at or after this time' },
        until: { type: 'string', description: 'alerts whose first detection is at or before this time' },
      },
      additionalProperties: false,
    },
    responses: {
      200: {
        description: 'a page of alerts',
        schema: {
          type: 'object',
          properties: { alerts: { type: 'array', items: alertSchema }, next: { type: ['string', 'null'] } },
        },
      },
    },
    handler: async (request) => {
      const q = request.query as Record<string, string | number | undefined>;
      const page = await store.alerts({
        tenant: scopeOf(request.principal, q.tenant as string | undefined),
        status: list(q.status as string | undefined, ALERT_STATUSES, 'status') as AlertStatus[] | undefined,
        rule: q.rule as string | undefined,
        host: q.host as string | undefined,
        level: list(q.level as string | undefined, LEVELS, 'level'),
        technique: q.technique as string | undefined,
        since: queryTime(q.since as string | undefined, 'since'),
        until: queryTime(q.until as string | undefined, 'until'),
        limit: q.limit as number,
        cursor: q.cursor as string | undefined,
      });
      return { alerts: page.items.map(alertView), next: page.next };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/alerts/:id',
    permission: 'read',
    summary: 'One alert with its detections, their events, and its triage history',
    tags: ['alerts'],
    params: idParams,
    querystring: { type: 'object', properties: { tenant: pageQuery.tenant } },
    responses: {
      200: { description: 'the alert', schema: alertSchema },
      404: { description: 'no such alert for this token', schema: errorSchema },
    },
    handler: async (request) => {
      const { id } = request.params as { id: number };
      const alert = await store.alert(
        scopeOf(request.principal, (request.query as { tenant?: string }).tenant),
        id,
      );
      if (!alert) throw new ApiError(404, 'NOT_FOUND', `no alert ${id}`);
      return alertDetailView(alert);
    },
  });

  book.add(app, {
    method: 'PATCH',
    url: '/api/v1/alerts/:id',
    permission: 'triage',
    summary: 'Triage an alert: status, assignee, close reason, a note',
    description: `Closing needs a close_reason (${CLOSE_REASONS.join(', ')}). Every change is kept in the alert's history and the audit log.`,
    tags: ['alerts'],
    params: idParams,
    body: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: [...ALERT_STATUSES] },
        assignee: { type: ['string', 'null'], maxLength: 200 },
        close_reason: { type: 'string', enum: [...CLOSE_REASONS] },
        note: { type: 'string', maxLength: 10_000 },
      },
      additionalProperties: false,
      minProperties: 1,
    },
    responses: {
      200: { description: 'the alert as it is now', schema: alertSchema },
      404: { description: 'no such alert for this token', schema: errorSchema },
    },
    handler: async (request) => {
      const { id } = request.params as { id: number };
      const body = request.body as {
        status?: AlertStatus;
        assignee?: string | null;
        close_reason?: CloseReason;
        note?: string;
      };
      const updated = await triageAlert(
        store,
        scopeOf(request.principal, undefined),
        id,
        { status: body.status, assignee: body.assignee, closeReason: body.close_reason, note: body.note },
        actorName(principalOf(request)),
      );
      if (!updated) throw new ApiError(404, 'NOT_FOUND', `no alert ${id}`);
      return alertView(updated);
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/detections',
    permission: 'read',
    summary: 'List detections, newest first, each with its event',
    tags: ['alerts'],
    querystring: {
      type: 'object',
      properties: {
        ...pageQuery,
        rule: { type: 'string', description: 'rule id or title' },
        since: { type: 'string', description: 'detections of events at or after this time' },
      },
      additionalProperties: false,
    },
    responses: { 200: { description: 'a page of detections', schema: { type: 'object' } } },
    handler: async (request) => {
      const q = request.query as Record<string, string | number | undefined>;
      const page = await store.detections({
        tenant: scopeOf(request.principal, q.tenant as string | undefined),
        rule: q.rule as string | undefined,
        since: queryTime(q.since as string | undefined, 'since'),
        limit: q.limit as number,
        cursor: q.cursor as string | undefined,
      });
      return { detections: page.items.map(detectionView), next: page.next };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/suppressions',
    permission: 'read',
    summary: "Suppressions that apply to the token's tenants, expired ones included",
    tags: ['alerts'],
    querystring: { type: 'object', properties: { tenant: pageQuery.tenant } },
    responses: { 200: { description: 'the suppressions', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, (request.query as { tenant?: string }).tenant);
      return { suppressions: (await store.suppressions(tenant)).map(suppressionView) };
    },
  });

  book.add(app, {
    method: 'POST',
    url: '/api/v1/suppressions',
    permission: 'triage',
    summary: 'Silence a rule, a host or a field value until a time',
    description:
      'Detections that match are still stored (with `suppressed_by`), but join no alert. At least one of rule, host or field is needed; a service-wide token may leave out the tenant to suppress for every tenant.',
    tags: ['alerts'],
    body: {
      type: 'object',
      properties: {
        tenant: { type: 'string' },
        rule: { type: 'string', description: 'rule id or title' },
        host: { type: 'string' },
        field: { type: 'string', description: 'an event field' },
        value: { type: 'string', description: 'its value (without: the field being present is enough)' },
        until: { type: 'string', description: 'ISO 8601 time the suppression ends' },
        reason: { type: 'string', minLength: 1, maxLength: 2000 },
      },
      required: ['until', 'reason'],
      additionalProperties: false,
    },
    responses: { 201: { description: 'the suppression', schema: { type: 'object' } } },
    handler: async (request, reply) => {
      const body = request.body as {
        tenant?: string;
        rule?: string;
        host?: string;
        field?: string;
        value?: string;
        until: string;
        reason: string;
      };
      if (!body.rule && !body.host && !body.field) {
        throw new ApiError(400, 'INVALID_REQUEST', 'a suppression needs a rule, a host or a field');
      }
      if (body.value !== undefined && !body.field)
        throw new ApiError(400, 'INVALID_REQUEST', 'a value needs its field');
      const until = queryTime(body.until, 'until')!;
      if (until <= Date.now()) throw new ApiError(400, 'INVALID_REQUEST', 'until must be in the future');
      const tenant = scopeOf(request.principal, body.tenant);
      const created = await store.addSuppression(
        {
          tenant,
          rule: body.rule ?? null,
          host: body.host ?? null,
          field: body.field ?? null,
          value: body.value ?? null,
          until: new Date(until).toISOString(),
          reason: body.reason,
        },
        actorName(principalOf(request)),
      );
      reply.status(201);
      return suppressionView(created);
    },
  });

  book.add(app, {
    method: 'DELETE',
    url: '/api/v1/suppressions/:id',
    permission: 'triage',
    summary: 'End a suppression now',
    tags: ['alerts'],
    params: idParams,
    responses: {
      204: { description: 'ended' },
      404: { description: 'no such suppression for this token', schema: errorSchema },
    },
    handler: async (request, reply) => {
      const { id } = request.params as { id: number };
      if (
        !(await store.removeSuppression(
          scopeOf(request.principal, undefined),
          id,
          actorName(principalOf(request)),
        ))
      ) {
        throw new ApiError(404, 'NOT_FOUND', `no suppression ${id}`);
      }
      reply.status(204);
      return null;
    },
  });
}
