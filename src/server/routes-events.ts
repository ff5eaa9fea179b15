import type { FastifyInstance } from 'fastify';
import { type DetectionService, parseJsonBody, parseNdjson } from '../service/index.js';
import { errorSchema, type RouteBook } from './api.js';
import { ApiError } from './app.js';
import { principalOf } from './scope.js';

const NDJSON = 'application/x-ndjson';

/** Ingest over HTTP: events are answered for only once they are durably in the event log. */
export function registerEventRoutes(app: FastifyInstance, book: RouteBook, service: DetectionService): void {
  const limits = service.options.config.limits;
  // Bodies are read as text here and taken apart line by line, so one bad event costs only itself.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    for (const type of ['application/json', NDJSON, 'text/plain']) {
      scope.addContentTypeParser(
        type,
        { parseAs: 'buffer', bodyLimit: limits.bodyBytes },
        (_request, body, done) => done(null, body),
      );
    }
    book.add(scope, {
      method: 'POST',
      url: '/api/v1/events',
      permission: 'ingest',
      summary: 'Send events',
      description:
        'NDJSON (`application/x-ndjson`, one event per line) or a JSON array of events, in any shape `vigil hunt` reads. Answered once the accepted events are stored (on disk, or acknowledged by JetStream); lines that are not JSON objects are rejected by number and the rest accepted.',
      tags: ['ingest'],
      bodyTypes: [NDJSON],
      bodyLimit: limits.bodyBytes,
      responses: {
        200: {
          description: 'what was accepted and rejected',
          schema: {
            type: 'object',
            properties: {
              accepted: { type: 'integer' },
              rejected: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { line: { type: 'integer' }, error: { type: 'string' } },
                },
              },
            },
          },
        },
        413: {
          description: 'the body or a line is over its limit (the message says which)',
          schema: errorSchema,
        },
        429: {
          description: 'detection is behind; retry after the seconds in Retry-After',
          schema: errorSchema,
        },
        503: {
          description:
            'the event log could not store the events (none was accepted); retry after the seconds in Retry-After',
          schema: errorSchema,
        },
      },
      handler: async (request) => {
        const principal = principalOf(request);
        if (principal.tenant === null)
          throw new ApiError(403, 'FORBIDDEN', 'events must be sent with a tenant token');
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const parsed =
          type === 'application/json'
            ? parseJsonBody(body.toString('utf8'), limits.lineBytes)
            : parseNdjson(body, limits.lineBytes);
        await service.ingest(principal.tenant, 'http', parsed.events);
        if (parsed.rejected.length) service.countRejected(principal.tenant, 'http', parsed.rejected.length);
        return { accepted: parsed.events.length, rejected: parsed.rejected };
      },
    });
  });
}
