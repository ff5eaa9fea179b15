import type { LogEvent } from '../../core/index.js';
import { walkJsonRequest } from './decode-json.js';
import { walkProtobufRequest } from './decode-protobuf.js';
import { DecodeProblem, OtlpError } from './errors.js';
import { otlpRecordEvent } from './events.js';
import type { OtlpContext, OtlpRecord } from './model.js';

/** Told each log record of a request (or why it cannot be read), with its context and path. */
export type RequestVisitor = (record: OtlpRecord | DecodeProblem, context: OtlpContext, path: string) => void;

export interface OtlpOptions {
  /** Name events are filed under (`source.file`); default `otlp`. */
  source?: string;
  /** Number of the request's first record (`source.record`), so a stream of requests numbers on. Default 1. */
  firstRecord?: number;
}

/**
 * The events of an OTLP logs request, one per LogRecord, and the records rejected (each an
 * `OTLP_RECORD` error with its path), for OTLP's partial-success answer
 * (`rejectedLogRecords` = `rejected.length`). Rejected records keep their numbers, so
 * `source.record` is the record's position in the request.
 */
export interface OtlpLogs {
  events: LogEvent[];
  rejected: OtlpError[];
}

function collect(walk: (visit: RequestVisitor) => void, options: OtlpOptions): OtlpLogs {
  const file = options.source ?? 'otlp';
  let number = options.firstRecord ?? 1;
  const events: LogEvent[] = [];
  const rejected: OtlpError[] = [];
  try {
    walk((record, context, path) => {
      const source = { file, record: number++ };
      if (record instanceof DecodeProblem) {
        rejected.push(
          new OtlpError('OTLP_RECORD', record.message, record.path ? `${path}.${record.path}` : path),
        );
      } else {
        events.push(otlpRecordEvent(record, context, source));
      }
    });
  } catch (error) {
    if (!(error instanceof DecodeProblem)) throw error;
    throw new OtlpError('OTLP_REQUEST', error.message, error.path || undefined);
  }
  return { events, rejected };
}

/**
 * Decodes an `ExportLogsServiceRequest` in OTLP/JSON (`Content-Type: application/json`). A request
 * that is not JSON, or whose structure above the log records is wrong, throws an `OTLP_REQUEST`
 * error (nothing of it is accepted); a bad log record is rejected on its own.
 */
export function decodeOtlpLogsJson(body: string | Uint8Array, options: OtlpOptions = {}): OtlpLogs {
  let request: unknown;
  try {
    request = JSON.parse(
      typeof body === 'string'
        ? body
        : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'),
    );
  } catch (error) {
    throw new OtlpError('OTLP_REQUEST', `the request is not JSON: ${(error as Error).message}`);
  }
  return collect(
    (visit) => walkJsonRequest(request as Parameters<typeof walkJsonRequest>[0], visit),
    options,
  );
}

/**
 * Decodes a binary `ExportLogsServiceRequest` (`Content-Type: application/x-protobuf`). Damage
 * outside the log records throws an `OTLP_REQUEST` error; a damaged log record is rejected on its
 * own (its length tells where the next one starts).
 */
export function decodeOtlpLogsProtobuf(body: Uint8Array, options: OtlpOptions = {}): OtlpLogs {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return collect((visit) => walkProtobufRequest(bytes, visit), options);
}

/**
 * Decodes an OTLP/HTTP logs request by its content type (`application/json` or
 * `application/x-protobuf`, parameters ignored). Another type is an `OTLP_REQUEST` error, which an
 * HTTP face answers with 415. The body must already be decompressed (`Content-Encoding: gzip`).
 */
export function decodeOtlpLogs(contentType: string, body: Uint8Array, options: OtlpOptions = {}): OtlpLogs {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return decodeOtlpLogsJson(body, options);
  if (type === 'application/x-protobuf' || type === 'application/protobuf')
    return decodeOtlpLogsProtobuf(body, options);
  throw new OtlpError(
    'OTLP_REQUEST',
    `unsupported content type '${contentType}' (application/json or application/x-protobuf)`,
  );
}
