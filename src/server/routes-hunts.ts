import type { FastifyInstance } from 'fastify';
import { actorName, type DetectionService, type RetroHunt } from '../service/index.js';
import { errorSchema, type RouteBook } from './api.js';
import { ApiError } from './app.js';
import { pageQuery, principalOf, queryTime, scopeOf } from './scope.js';

export function huntView(hunt: RetroHunt) {
  return {
    id: hunt.id,
    tenant: hunt.tenant,
    requested_by: hunt.requestedBy,
    rules: hunt.rules,
    since: hunt.since === null ? null : new Date(hunt.since).toISOString(),
    until: hunt.until === null ? null : new Date(hunt.until).toISOString(),
    status: hunt.status,
    error: hunt.error,
    events: hunt.events,
    detections: hunt.detections,
    started_at: hunt.startedAt,
    finished_at: hunt.finishedAt,
  };
}

/** Retro-hunts: stored events replayed through new rules or the deployed ones, apart from live state. */
export function registerHuntRoutes(app: FastifyInstance, book: RouteBook, service: DetectionService): void {
  const store = service.store;

  book.add(app, {
    method: 'POST',
    url: '/api/v1/hunts',
    permission: 'triage',
    summary: 'Start a retro-hunt over stored events',
    description:
      'Runs the given rules (YAML texts, one rule file each) or, without them, the rules deployed for the tenant over the events it has stored, optionally between two times. Runs apart from live detection: its detections stay with the hunt and join no alert. Answers at once; GET the hunt for its progress and results.',
    tags: ['hunts'],
    body: {
      type: 'object',
      properties: {
        tenant: { type: 'string', description: 'for a service-wide token: the tenant whose events to hunt' },
        rules: {
          type: 'array',
          items: { type: 'string', maxLength: 1_000_000 },
          minItems: 1,
          maxItems: 1000,
        },
        since: { type: 'string', description: 'events at or after this time (ISO 8601)' },
        until: { type: 'string', description: 'events at or before this time (ISO 8601)' },
      },
      additionalProperties: false,
    },
    responses: {
      202: { description: 'the hunt, started', schema: { type: 'object' } },
      400: { description: 'a rule that cannot be used (with its place), or a bad time', schema: errorSchema },
    },
    handler: async (request, reply) => {
      const body = request.body as { tenant?: string; rules?: string[]; since?: string; until?: string };
      const tenant = scopeOf(request.principal, body.tenant);
      if (tenant === null)
        throw new ApiError(400, 'INVALID_REQUEST', 'a service-wide token names the tenant to hunt: tenant');
      if (!(await store.hasTenant(tenant)))
        throw new ApiError(404, 'UNKNOWN_TENANT', `no tenant '${tenant}'`);
      const hunt = await service.hunts.start(
        {
          tenant,
          rules: body.rules,
          since: queryTime(body.since, 'since'),
          until: queryTime(body.until, 'until'),
        },
        actorName(principalOf(request)),
      );
      reply.status(202);
      return huntView(hunt);
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/hunts',
    permission: 'read',
    summary: 'Retro-hunts, newest first',
    tags: ['hunts'],
    querystring: { type: 'object', properties: { tenant: pageQuery.tenant } },
    responses: { 200: { description: 'the hunts', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, (request.query as { tenant?: string }).tenant);
      return { hunts: (await store.hunts(tenant)).map(huntView) };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/hunts/:id',
    permission: 'read',
    summary: 'A retro-hunt: its progress, and its detections (in the form vigil hunt writes them)',
    tags: ['hunts'],
    params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
    querystring: {
      type: 'object',
      properties: {
        tenant: pageQuery.tenant,
        limit: pageQuery.limit,
        offset: { type: 'integer', minimum: 0, default: 0, description: 'detections to skip' },
      },
    },
    responses: {
      200: { description: 'the hunt', schema: { type: 'object' } },
      404: { description: 'no such hunt for this token', schema: errorSchema },
    },
    handler: async (request) => {
      const { id } = request.params as { id: number };
      const q = request.query as { tenant?: string; limit: number; offset: number };
      const found = await store.hunt(scopeOf(request.principal, q.tenant), id, q.limit, q.offset);
      if (!found) throw new ApiError(404, 'NOT_FOUND', `no hunt ${id}`);
      return { ...huntView(found.hunt), results: found.detections };
    },
  });
}
