import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';
import { DecodeProblem } from './errors.js';
import type { OtlpContext, OtlpRecord } from './model.js';
import type { RequestVisitor } from './request.js';

/**
 * OTLP/JSON (the proto3 JSON mapping with OTLP's rules): lowerCamelCase keys, unknown keys
 * ignored, 64-bit integers as decimal strings (numbers accepted too), enums as integers, trace
 * and span ids as hex, bytes as base64.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalObject(value: Json | undefined, name: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new DecodeProblem(`${name} must be an object`, name);
  return value;
}

function list(value: Json | undefined, name: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new DecodeProblem(`${name} must be an array`, name);
  return value;
}

function optionalString(value: Json | undefined, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new DecodeProblem(`${name} must be a string`, name);
  return value === '' ? undefined : value;
}

const INTEGER = /^-?\d{1,20}$/;

/** An int64 as JSON carries it (decimal text or number): a number when exact, else the text. */
function int64(value: Json, name: string): number | string {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && INTEGER.test(value)) {
    const number = Number(value);
    return Number.isSafeInteger(number) ? number : BigInt.asIntN(64, BigInt(value)).toString();
  }
  throw new DecodeProblem(`${name} must be an integer (a decimal string or a number)`, name);
}

/** A uint32 or enum field: an integer (as a number, or as text). */
function uint32(value: Json | undefined, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' && INTEGER.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 0xffffffff) {
    throw new DecodeProblem(`${name} must be an unsigned integer`, name);
  }
  return number;
}

/** A fixed64 of nanoseconds since the epoch, as whole milliseconds; 0 (unknown) as undefined. */
function nanosToMillis(value: Json | undefined, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) {
    const millis = value.length > 6 ? Number(value.slice(0, -6)) : 0;
    return millis === 0 && /^0+$/.test(value) ? undefined : millis;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    return value === 0 ? undefined : Math.floor(value / 1e6);
  }
  throw new DecodeProblem(`${name} must be nanoseconds since 1970 (a decimal string)`, name);
}

function hexId(value: Json | undefined, name: string, bytes: number): string | undefined {
  const text = optionalString(value, name);
  if (text === undefined) return undefined;
  if (text.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(text)) {
    throw new DecodeProblem(`${name} must be ${bytes} bytes in hex`, name);
  }
  return text.toLowerCase();
}

const DOUBLE_WORDS = new Set(['NaN', 'Infinity', '-Infinity']);

/** The depth of nested arrays and maps an attribute or body may have. */
const MAX_DEPTH = 64;

/** An AnyValue as a field value. */
export function anyValue(value: Json | undefined, depth = 0): FieldValue {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new DecodeProblem('an AnyValue must be an object');
  if (depth > MAX_DEPTH) throw new DecodeProblem(`values are nested more than ${MAX_DEPTH} deep`);
  if (value.stringValue !== undefined) {
    if (typeof value.stringValue !== 'string') throw new DecodeProblem('must be a string', 'stringValue');
    return value.stringValue;
  }
  if (value.boolValue !== undefined) {
    if (typeof value.boolValue !== 'boolean') throw new DecodeProblem('must be true or false', 'boolValue');
    return value.boolValue;
  }
  if (value.intValue !== undefined) return int64(value.intValue, 'intValue');
  if (value.doubleValue !== undefined) {
    const double = value.doubleValue;
    if (typeof double === 'number') return double;
    if (typeof double === 'string' && DOUBLE_WORDS.has(double)) return double;
    if (typeof double === 'string' && double.trim() !== '' && Number.isFinite(Number(double)))
      return Number(double);
    throw new DecodeProblem('must be a number', 'doubleValue');
  }
  if (value.arrayValue !== undefined) {
    const array = optionalObject(value.arrayValue, 'arrayValue');
    const values = list(array?.values, 'arrayValue.values');
    const out: FieldValue[] = [];
    for (let i = 0; i < values.length; i++) {
      try {
        out.push(anyValue(values[i], depth + 1));
      } catch (error) {
        throw rethrow(error, `arrayValue.values[${i}]`);
      }
    }
    return out;
  }
  if (value.kvlistValue !== undefined) {
    const kvlist = optionalObject(value.kvlistValue, 'kvlistValue');
    try {
      return keyValues(kvlist?.values, 'values', depth + 1) ?? newFields();
    } catch (error) {
      throw rethrow(error, 'kvlistValue');
    }
  }
  if (value.bytesValue !== undefined) {
    if (typeof value.bytesValue !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value.bytesValue)) {
      throw new DecodeProblem('must be base64 text', 'bytesValue');
    }
    return value.bytesValue;
  }
  return null;
}

function rethrow(error: unknown, prefix: string): unknown {
  return error instanceof DecodeProblem ? error.under(prefix) : error;
}

/** A `repeated KeyValue` as an object of field values; undefined when empty. */
export function keyValues(
  value: Json | undefined,
  name: string,
  depth = 0,
): Record<string, FieldValue> | undefined {
  const items = list(value, name);
  if (items.length === 0) return undefined;
  const out = newFields();
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    try {
      if (!isObject(item)) throw new DecodeProblem('a KeyValue must be an object');
      const key = item.key ?? '';
      if (typeof key !== 'string') throw new DecodeProblem('must be a string', 'key');
      try {
        out[key] = anyValue(item.value, depth);
      } catch (error) {
        throw rethrow(error, 'value');
      }
    } catch (error) {
      throw rethrow(error, `${name}[${i}]`);
    }
  }
  return out;
}

function logRecord(value: Json | undefined): OtlpRecord {
  if (!isObject(value)) throw new DecodeProblem('a LogRecord must be an object');
  const record: OtlpRecord = {};
  record.time = nanosToMillis(value.timeUnixNano, 'timeUnixNano');
  record.observedTime = nanosToMillis(value.observedTimeUnixNano, 'observedTimeUnixNano');
  const severity = uint32(value.severityNumber, 'severityNumber');
  if (severity) record.severityNumber = severity;
  record.severityText = optionalString(value.severityText, 'severityText');
  if (value.body !== undefined) {
    try {
      record.body = anyValue(value.body);
    } catch (error) {
      throw rethrow(error, 'body');
    }
  }
  record.attributes = keyValues(value.attributes, 'attributes');
  record.traceId = hexId(value.traceId, 'traceId', 16);
  record.spanId = hexId(value.spanId, 'spanId', 8);
  const flags = uint32(value.flags, 'flags');
  if (flags) record.flags = flags;
  record.eventName = optionalString(value.eventName, 'eventName');
  return record;
}

/** Walks an `ExportLogsServiceRequest` in OTLP/JSON, telling `visit` each record with its context. */
export function walkJsonRequest(request: Json, visit: RequestVisitor): void {
  if (!isObject(request)) throw new DecodeProblem('an ExportLogsServiceRequest must be a JSON object');
  if (request.resourceLogs === undefined && request.resource_logs !== undefined) {
    throw new DecodeProblem(
      'OTLP/JSON keys are lowerCamelCase: resourceLogs, not resource_logs',
      'resource_logs',
    );
  }
  const resourceLogs = list(request.resourceLogs, 'resourceLogs');
  for (let r = 0; r < resourceLogs.length; r++) {
    const at = `resourceLogs[${r}]`;
    const entry = resourceLogs[r];
    let resource: Record<string, FieldValue> | undefined;
    const scopes: { entry: Json; at: string }[] = [];
    try {
      if (!isObject(entry)) throw new DecodeProblem('a ResourceLogs must be an object');
      const resourceObject = optionalObject(entry.resource, 'resource');
      try {
        resource = keyValues(resourceObject?.attributes, 'attributes');
      } catch (error) {
        throw rethrow(error, 'resource');
      }
      // Senders from before OTLP 0.19 (2022) name scopes "instrumentation library".
      for (const name of ['scopeLogs', 'instrumentationLibraryLogs']) {
        const entries = list(entry[name], name);
        for (let s = 0; s < entries.length; s++)
          scopes.push({ entry: entries[s]!, at: `${at}.${name}[${s}]` });
      }
    } catch (error) {
      throw rethrow(error, at);
    }
    for (const { entry: scopeEntry, at: scopeAt } of scopes) {
      const context: OtlpContext = { resource };
      let records: Json[];
      try {
        if (!isObject(scopeEntry)) throw new DecodeProblem('a ScopeLogs must be an object');
        const scope = optionalObject(scopeEntry.scope ?? scopeEntry.instrumentationLibrary, 'scope');
        try {
          context.scopeName = optionalString(scope?.name, 'name');
          context.scopeVersion = optionalString(scope?.version, 'version');
          context.scopeAttributes = keyValues(scope?.attributes, 'attributes');
        } catch (error) {
          throw rethrow(error, 'scope');
        }
        records = list(scopeEntry.logRecords, 'logRecords');
      } catch (error) {
        throw rethrow(error, scopeAt);
      }
      for (let l = 0; l < records.length; l++) {
        const recordAt = `${scopeAt}.logRecords[${l}]`;
        let record: OtlpRecord | DecodeProblem;
        try {
          record = logRecord(records[l]);
        } catch (error) {
          if (!(error instanceof DecodeProblem)) throw error;
          record = error;
        }
        visit(record, context, recordAt);
      }
    }
  }
}
