import { VigilError } from '../../core/index.js';

/**
 * An OTLP logs request, or one of its log records, that cannot be read. `OTLP_REQUEST`: the
 * request as a whole (not JSON or protobuf, wrong shape above the log records); `OTLP_RECORD`: one
 * log record, rejected while the others are read. `field` is the path in the request
 * (`resourceLogs[0].scopeLogs[1].logRecords[3].body`).
 */
export class OtlpError extends VigilError {
  constructor(code: 'OTLP_REQUEST' | 'OTLP_RECORD', message: string, path?: string) {
    super(code, message, path ? { field: path } : {});
    this.name = 'OtlpError';
  }
}

/** A problem found while decoding, with the path below the place that catches it. */
export class DecodeProblem extends Error {
  constructor(
    message: string,
    readonly path: string = '',
  ) {
    super(message);
  }

  /** The same problem seen from one level up. */
  under(prefix: string): DecodeProblem {
    return new DecodeProblem(this.message, this.path ? `${prefix}.${this.path}` : prefix);
  }
}
