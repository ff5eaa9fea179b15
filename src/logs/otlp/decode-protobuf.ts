import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';
import { DecodeProblem } from './errors.js';
import type { OtlpContext, OtlpRecord } from './model.js';
import type { RequestVisitor } from './request.js';
import { I32, I64, LEN, VARINT, WireReader } from './wire.js';

/**
 * OTLP/protobuf: the binary `ExportLogsServiceRequest`, decoded straight from the wire with the
 * field numbers of opentelemetry-proto's `collector/logs/v1`, `logs/v1`, `common/v1` and
 * `resource/v1`. Unknown fields are skipped, as protobuf requires. Paths for errors are built
 * only when there is an error.
 */

/** The depth of nested arrays and maps an attribute or body may have. */
const MAX_DEPTH = 64;

function under(error: unknown, prefix: string): unknown {
  return error instanceof DecodeProblem ? error.under(prefix) : error;
}

/** Reads a length-delimited field's content with `read`, naming `prefix` in an error from inside. */
function nested<T>(reader: WireReader, prefix: string | (() => string), read: () => T): T {
  const outer = reader.enter();
  let value: T;
  try {
    value = read();
  } catch (error) {
    throw under(error, typeof prefix === 'string' ? prefix : prefix());
  }
  reader.leave(outer);
  return value;
}

function anyValue(reader: WireReader, depth: number): FieldValue {
  if (depth > MAX_DEPTH) throw new DecodeProblem(`values are nested more than ${MAX_DEPTH} deep`);
  let value: FieldValue = null;
  while (reader.pos < reader.end) {
    const key = reader.key();
    const wire = key & 7;
    switch (key >>> 3) {
      case 1:
        reader.expect(wire, LEN, 'stringValue');
        value = reader.string();
        break;
      case 2:
        reader.expect(wire, VARINT, 'boolValue');
        value = reader.varint32() !== 0;
        break;
      case 3:
        reader.expect(wire, VARINT, 'intValue');
        value = reader.int64();
        break;
      case 4: {
        reader.expect(wire, I64, 'doubleValue');
        const double = reader.double();
        value = Number.isFinite(double) ? double : String(double);
        break;
      }
      case 5:
        reader.expect(wire, LEN, 'arrayValue');
        value = nested(reader, 'arrayValue', () => arrayValue(reader, depth + 1));
        break;
      case 6:
        reader.expect(wire, LEN, 'kvlistValue');
        value = nested(reader, 'kvlistValue', () => keyValues(reader, newFields(), 'values', depth + 1));
        break;
      case 7: {
        reader.expect(wire, LEN, 'bytesValue');
        const length = reader.skipLength();
        value = reader.bytes.toString('base64', reader.pos - length, reader.pos);
        break;
      }
      default:
        reader.skip(wire);
    }
  }
  return value;
}

function arrayValue(reader: WireReader, depth: number): FieldValue[] {
  const values: FieldValue[] = [];
  while (reader.pos < reader.end) {
    const key = reader.key();
    if (key >>> 3 === 1) {
      reader.expect(key & 7, LEN, 'values');
      const index = values.length;
      values.push(
        nested(
          reader,
          () => `values[${index}]`,
          () => anyValue(reader, depth),
        ),
      );
    } else reader.skip(key & 7);
  }
  return values;
}

/**
 * The `repeated KeyValue` field `field` (number 1 in KeyValueList, other numbers elsewhere) of the
 * message being read, added to `out`; other fields are skipped.
 */
function keyValues(
  reader: WireReader,
  out: Record<string, FieldValue>,
  name: string,
  depth: number,
  field = 1,
): Record<string, FieldValue> {
  let index = 0;
  while (reader.pos < reader.end) {
    const key = reader.key();
    if (key >>> 3 === field) {
      reader.expect(key & 7, LEN, name);
      const at = index++;
      nested(
        reader,
        () => `${name}[${at}]`,
        () => addKeyValue(reader, out, depth),
      );
    } else reader.skip(key & 7);
  }
  return out;
}

function addKeyValue(reader: WireReader, out: Record<string, FieldValue>, depth: number): void {
  let name = '';
  let value: FieldValue = null;
  while (reader.pos < reader.end) {
    const key = reader.key();
    if (key >>> 3 === 1) {
      reader.expect(key & 7, LEN, 'key');
      name = reader.string();
    } else if (key >>> 3 === 2) {
      reader.expect(key & 7, LEN, 'value');
      value = nested(reader, 'value', () => anyValue(reader, depth));
    } else reader.skip(key & 7);
  }
  out[name] = value;
}

function hex(reader: WireReader, name: string, size: number): string | undefined {
  const length = reader.skipLength();
  if (length === 0) return undefined;
  if (length !== size) throw new DecodeProblem(`${name} must be ${size} bytes, not ${length}`, name);
  return reader.bytes.toString('hex', reader.pos - length, reader.pos);
}

function logRecord(reader: WireReader): OtlpRecord {
  const record: OtlpRecord = {};
  let attributes = 0;
  while (reader.pos < reader.end) {
    const key = reader.key();
    const wire = key & 7;
    switch (key >>> 3) {
      case 1: {
        reader.expect(wire, I64, 'timeUnixNano');
        record.time = reader.fixed64Millis() || undefined;
        break;
      }
      case 11: {
        reader.expect(wire, I64, 'observedTimeUnixNano');
        record.observedTime = reader.fixed64Millis() || undefined;
        break;
      }
      case 2:
        reader.expect(wire, VARINT, 'severityNumber');
        record.severityNumber = reader.varint32() || undefined;
        break;
      case 3:
        reader.expect(wire, LEN, 'severityText');
        record.severityText = reader.string() || undefined;
        break;
      case 5:
        reader.expect(wire, LEN, 'body');
        record.body = nested(reader, 'body', () => anyValue(reader, 0));
        break;
      case 6: {
        reader.expect(wire, LEN, 'attributes');
        record.attributes ??= newFields();
        const out = record.attributes;
        const at = attributes++;
        nested(
          reader,
          () => `attributes[${at}]`,
          () => addKeyValue(reader, out, 0),
        );
        break;
      }
      case 8:
        reader.expect(wire, I32, 'flags');
        record.flags = reader.fixed32() || undefined;
        break;
      case 9:
        reader.expect(wire, LEN, 'traceId');
        record.traceId = hex(reader, 'traceId', 16);
        break;
      case 10:
        reader.expect(wire, LEN, 'spanId');
        record.spanId = hex(reader, 'spanId', 8);
        break;
      case 12:
        reader.expect(wire, LEN, 'eventName');
        record.eventName = reader.string() || undefined;
        break;
      default:
        reader.skip(wire);
    }
  }
  return record;
}

function scope(reader: WireReader, context: OtlpContext): void {
  let index = 0;
  while (reader.pos < reader.end) {
    const key = reader.key();
    const wire = key & 7;
    if (key >>> 3 === 1) {
      reader.expect(wire, LEN, 'name');
      context.scopeName = reader.string() || undefined;
    } else if (key >>> 3 === 2) {
      reader.expect(wire, LEN, 'version');
      context.scopeVersion = reader.string() || undefined;
    } else if (key >>> 3 === 3) {
      reader.expect(wire, LEN, 'attributes');
      context.scopeAttributes ??= newFields();
      const out = context.scopeAttributes;
      const at = index++;
      nested(
        reader,
        () => `attributes[${at}]`,
        () => addKeyValue(reader, out, 0),
      );
    } else reader.skip(wire);
  }
}

/** ScopeLogs (or the older InstrumentationLibraryLogs, the same on the wire), from `start` to `end`. */
function scopeLogs(
  reader: WireReader,
  start: number,
  end: number,
  resource: Record<string, FieldValue> | undefined,
  at: string,
  visit: RequestVisitor,
): void {
  const context: OtlpContext = { resource };
  const records: number[] = []; // start, end of each record
  reader.pos = start;
  reader.end = end;
  try {
    while (reader.pos < reader.end) {
      const key = reader.key();
      if (key >>> 3 === 1) {
        reader.expect(key & 7, LEN, 'scope');
        nested(reader, 'scope', () => scope(reader, context));
      } else if (key >>> 3 === 2) {
        reader.expect(key & 7, LEN, 'logRecords');
        const length = reader.skipLength();
        records.push(reader.pos - length, reader.pos);
      } else reader.skip(key & 7);
    }
  } catch (error) {
    throw under(error, at);
  }
  for (let i = 0; i < records.length; i += 2) {
    reader.pos = records[i]!;
    reader.end = records[i + 1]!;
    let record: OtlpRecord | DecodeProblem;
    try {
      record = logRecord(reader);
    } catch (error) {
      if (!(error instanceof DecodeProblem)) throw error;
      record = error;
    }
    visit(record, context, `${at}.logRecords[${i / 2}]`);
  }
}

function resourceLogs(
  reader: WireReader,
  start: number,
  end: number,
  at: string,
  visit: RequestVisitor,
): void {
  let resource: Record<string, FieldValue> | undefined;
  const scopes: { start: number; end: number; at: string }[] = [];
  let current = 0;
  let legacy = 0;
  reader.pos = start;
  reader.end = end;
  try {
    while (reader.pos < reader.end) {
      const key = reader.key();
      const field = key >>> 3;
      if (field === 1) {
        reader.expect(key & 7, LEN, 'resource');
        resource ??= newFields();
        const out = resource;
        nested(reader, 'resource', () => keyValues(reader, out, 'attributes', 0));
      } else if (field === 2 || field === 1000) {
        const name = field === 2 ? 'scopeLogs' : 'instrumentationLibraryLogs';
        reader.expect(key & 7, LEN, name);
        const length = reader.skipLength();
        const index = field === 2 ? current++ : legacy++;
        scopes.push({ start: reader.pos - length, end: reader.pos, at: `${at}.${name}[${index}]` });
      } else reader.skip(key & 7);
    }
  } catch (error) {
    throw under(error, at);
  }
  // The resource is read first: the wire may give it after the scopes.
  for (const scopeEntry of scopes)
    scopeLogs(reader, scopeEntry.start, scopeEntry.end, resource, scopeEntry.at, visit);
}

/** Walks a binary `ExportLogsServiceRequest`, telling `visit` each record with its context. */
export function walkProtobufRequest(bytes: Buffer, visit: RequestVisitor): void {
  const reader = new WireReader(bytes);
  const entries: number[] = [];
  while (reader.pos < reader.end) {
    const key = reader.key();
    if (key >>> 3 === 1) {
      reader.expect(key & 7, LEN, 'resourceLogs');
      const length = reader.skipLength();
      entries.push(reader.pos - length, reader.pos);
    } else reader.skip(key & 7);
  }
  for (let i = 0; i < entries.length; i += 2) {
    resourceLogs(reader, entries[i]!, entries[i + 1]!, `resourceLogs[${i / 2}]`, visit);
  }
}
