import type { FastifyInstance } from 'fastify';
import type { VigilError } from '../core/index.js';
import { actorName, type DetectionService } from '../service/index.js';
import { errorSchema, type RouteBook } from './api.js';
import { ApiError } from './app.js';
import { huntView } from './routes-hunts.js';
import { pageQuery, principalOf, scopeOf } from './scope.js';

function refusal(error: VigilError) {
  return {
    code: error.code,
    field: error.location.field ?? null,
    line: error.location.line ?? null,
    message: error.message,
  };
}

/** Known indicators: matched on every event beside the rules, and swept over stored events when added. */
export function registerIndicatorRoutes(
  app: FastifyInstance,
  book: RouteBook,
  service: DetectionService,
): void {
  book.add(app, {
    method: 'POST',
    url: '/api/v1/indicators',
    permission: 'manage',
    summary: 'Add indicators to match, and sweep the stored events for them',
    description:
      "Indicators as a JSON list of {type, value, source?, first_seen?, last_seen?, valid_until?, confidence?, note?}, or as text in any format `vigil hunt --iocs` reads from a file (plain list, STIX bundle, MISP event JSON or CSV, advisory parse JSON). A tenant's token adds to its tenant; a service-wide token to the tenant it names, or to every tenant. Usable entries are kept (an entry that cannot be used is refused with its place), matched on every event from the answer on, and a retro-hunt per tenant concerned sweeps its stored events for them (GET /api/v1/hunts/{id} for its matches).",
    tags: ['indicators'],
    body: {
      type: 'object',
      properties: {
        tenant: { type: 'string', description: 'for a service-wide token: the tenant (none: every tenant)' },
        indicators: { type: 'array', items: { type: 'object' }, maxItems: 1_000_000 },
        text: { type: 'string' },
      },
      additionalProperties: false,
    },
    responses: {
      202: {
        description: 'the indicators kept, the entries refused, the sweeps started',
        schema: { type: 'object' },
      },
      400: { description: 'no usable indicator', schema: errorSchema },
      404: { description: 'no such tenant', schema: errorSchema },
    },
    handler: async (request, reply) => {
      const body = request.body as { tenant?: string; indicators?: unknown[]; text?: string };
      if (!body.indicators && body.text === undefined)
        throw new ApiError(400, 'INVALID_REQUEST', 'give indicators (a list) or text');
      const tenant = scopeOf(request.principal, body.tenant);
      if (tenant !== null && !(await service.store.hasTenant(tenant)))
        throw new ApiError(404, 'UNKNOWN_TENANT', `no tenant '${tenant}'`);
      const added = await service.addIndicators(
        tenant,
        { indicators: body.indicators, text: body.text },
        actorName(principalOf(request)),
      );
      if (added.indicators.length === 0) {
        const first = added.problems[0];
        throw new ApiError(
          400,
          'NO_INDICATORS',
          first ? `no usable indicator; first refused: ${first.describe()}` : 'no indicator given',
        );
      }
      reply.status(202);
      return {
        tenant,
        added: added.indicators.length,
        refused: added.problems.map(refusal),
        hunts: added.hunts.map(huntView),
      };
    },
  });

  book.add(app, {
    method: 'GET',
    url: '/api/v1/indicators',
    permission: 'read',
    summary: 'How many indicators are matched: for every tenant, and for each tenant in scope',
    tags: ['indicators'],
    querystring: { type: 'object', properties: { tenant: pageQuery.tenant } },
    responses: { 200: { description: 'the counts', schema: { type: 'object' } } },
    handler: async (request) => {
      const tenant = scopeOf(request.principal, (request.query as { tenant?: string }).tenant);
      const counts = service.indicatorCounts();
      const tenants = [...counts.tenants].filter(([name]) => tenant === null || name === tenant);
      return { global: counts.global, tenants: Object.fromEntries(tenants) };
    },
  });
}
