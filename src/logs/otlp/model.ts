import type { FieldValue } from '../../core/index.js';

/**
 * One OTLP LogRecord as both decoders give it: values in Vigil's JSON shape (a kvlist is an
 * object, bytes are base64 text, int64 beyond 2^53 is decimal text), times in milliseconds.
 */
export interface OtlpRecord {
  /** `timeUnixNano` in ms; absent when 0 (unknown). */
  time?: number;
  /** `observedTimeUnixNano` in ms; absent when 0. */
  observedTime?: number;
  severityNumber?: number;
  severityText?: string;
  body?: FieldValue;
  attributes?: Record<string, FieldValue>;
  /** Trace and span ids as lower-case hex. */
  traceId?: string;
  spanId?: string;
  flags?: number;
  eventName?: string;
}

/** What the records of one ScopeLogs share: their resource's and scope's attributes and names. */
export interface OtlpContext {
  resource?: Record<string, FieldValue>;
  scopeName?: string;
  scopeVersion?: string;
  scopeAttributes?: Record<string, FieldValue>;
}
