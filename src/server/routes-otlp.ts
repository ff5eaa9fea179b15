import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { decodeOtlpLogs, OtlpError } from '../logs/index.js';
import type { DetectionService } from '../service/index.js';
import { errorSchema, type RouteBook } from './api.js';
import { ApiError } from './app.js';
import { principalOf } from './scope.js';

const PROTOBUF = ['application/x-protobuf', 'application/protobuf'];

/** A varint as protobuf writes it. */
function varint(value: number): number[] {
  const out: number[] = [];
  let n = value;
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * ExportLogsServiceResponse in protobuf: empty when every record was taken, else its
 * partial_success (field 1) with rejected_log_records (1) and error_message (2).
 */
function protobufAnswer(rejected: number, message: string): Buffer {
  if (rejected === 0) return Buffer.alloc(0);
  const text = Buffer.from(message);
  const inner = [0x08, ...varint(rejected), 0x12, ...varint(text.length), ...text];
  return Buffer.from([0x0a, ...varint(inner.length), ...inner]);
}

/**
 * OTLP/HTTP logs at /v1/logs, the path OpenTelemetry exporters use by default, so the Collector,
 * Vector, Fluent Bit and Grafana Alloy send to Vigil unchanged (with the token as a header).
 */
export function registerOtlpRoutes(app: FastifyInstance, book: RouteBook, service: DetectionService): void {
  const limits = service.options.config.limits;
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: limits.bodyBytes },
      (request, body, done) => {
        const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (encoding === 'identity') return done(null, body);
        if (encoding !== 'gzip')
          return done(
            new ApiError(
              415,
              'UNSUPPORTED_ENCODING',
              `Content-Encoding '${encoding}' is not supported (gzip is)`,
            ),
          );
        try {
          done(null, gunzipSync(body as Buffer, { maxOutputLength: limits.bodyBytes }));
        } catch (error) {
          const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
          done(
            tooLarge
              ? new ApiError(
                  413,
                  'TOO_LARGE',
                  `the decompressed body is larger than the limit of ${limits.bodyBytes} bytes`,
                )
              : new ApiError(
                  400,
                  'INVALID_REQUEST',
                  `the gzip body cannot be read: ${(error as Error).message}`,
                ),
          );
        }
      },
    );
    book.add(scope, {
      method: 'POST',
      url: '/v1/logs',
      permission: 'ingest',
      summary: 'Send OpenTelemetry logs (OTLP/HTTP)',
      description:
        'An ExportLogsServiceRequest in protobuf (`application/x-protobuf`) or JSON (`application/json`), gzip or not. Each log record becomes an event; records that cannot be read are counted in the partial-success answer.',
      tags: ['ingest'],
      bodyTypes: [...PROTOBUF, 'application/json'],
      bodyLimit: limits.bodyBytes,
      responses: {
        200: { description: 'ExportLogsServiceResponse (partialSuccess when records were rejected)' },
        400: { description: 'the request cannot be read', schema: errorSchema },
        415: { description: 'a content type or encoding other than those above', schema: errorSchema },
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
      handler: async (request, reply: FastifyReply) => {
        const principal = principalOf(request);
        if (principal.tenant === null)
          throw new ApiError(403, 'FORBIDDEN', 'events must be sent with a tenant token');
        const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        let decoded: ReturnType<typeof decodeOtlpLogs>;
        try {
          decoded = decodeOtlpLogs(type, request.body as Buffer);
        } catch (error) {
          if (!(error instanceof OtlpError)) throw error;
          const unsupported = !PROTOBUF.includes(type) && type !== 'application/json';
          throw new ApiError(unsupported ? 415 : 400, error.code, error.message);
        }
        await service.ingest(
          principal.tenant,
          'otlp',
          decoded.events.map((event) => ({ event: JSON.stringify(event.fields), time: event.time })),
        );
        const rejected = decoded.rejected.length;
        if (rejected) service.countRejected(principal.tenant, 'otlp', rejected);
        const message = decoded.rejected
          .slice(0, 5)
          .map((e) => e.message)
          .join('; ');
        if (PROTOBUF.includes(type)) {
          reply.type('application/x-protobuf');
          return protobufAnswer(rejected, message);
        }
        return rejected
          ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message } }
          : {};
      },
    });
  });
}
