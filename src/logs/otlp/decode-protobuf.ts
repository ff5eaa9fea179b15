import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';
import { DecodeProblem } from './errors.js';
import type { OtlpContext, OtlpRecord } from './model.js';
import type { RequestVisitor } from './request.js';
import { I32, I64, LEN, VARINT, WireReader } from './wire.js';

/**
 * OTLP/protobuf: the binary `ExportLogsServiceRequest`, decoded straight from the wire with the
 * field numbers of opentelemetry-proto's `collector/logs/v1`, `logs/v1`, `common/v1` and
 * `resource/v1`. Unknown fields are skipped, as protobuf requires.
 */

/** The depth of nested arrays and maps an attribute or body may have. */
const MAX_DEPTH = 64;

type Range = { start: number; end: number };

function within<T>(prefix: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw error instanceof DecodeProblem ? error.under(prefix) : error;
  }
}

function anyValue(bytes: Buffer, range: Range, depth: number): FieldValue {
  if (depth > MAX_DEPTH) throw new DecodeProblem(`values are nested more than ${MAX_DEPTH} deep`);
  const reader = new WireReader(bytes, range.start, range.end);
  let value: FieldValue = null;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    switch (field) {
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
      case 5: {
        reader.expect(wire, LEN, 'arrayValue');
        const array = reader.range();
        value = within('arrayValue', () => arrayValue(bytes, array, depth + 1));
        break;
      }
      case 6: {
        reader.expect(wire, LEN, 'kvlistValue');
        const list = reader.range();
        value = within('kvlistValue', () => keyValueList(bytes, list, depth + 1));
        break;
      }
      case 7: {
        reader.expect(wire, LEN, 'bytesValue');
        const { start, end } = reader.range();
        value = bytes.toString('base64', start, end);
        break;
      }
      default:
        reader.skip(wire);
    }
  }
  return value;
}

function arrayValue(bytes: Buffer, range: Range, depth: number): FieldValue[] {
  const reader = new WireReader(bytes, range.start, range.end);
  const values: FieldValue[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, 'values');
      const item = reader.range();
      values.push(within(`values[${values.length}]`, () => anyValue(bytes, item, depth)));
    } else reader.skip(wire);
  }
  return values;
}

function keyValueList(bytes: Buffer, range: Range, depth: number): Record<string, FieldValue> {
  const out = newFields();
  const reader = new WireReader(bytes, range.start, range.end);
  let index = 0;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, 'values');
      const item = reader.range();
      within(`values[${index++}]`, () => addKeyValue(bytes, item, out, depth));
    } else reader.skip(wire);
  }
  return out;
}

function addKeyValue(bytes: Buffer, range: Range, out: Record<string, FieldValue>, depth: number): void {
  const reader = new WireReader(bytes, range.start, range.end);
  let key = '';
  let value: FieldValue = null;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, 'key');
      key = reader.string();
    } else if (field === 2) {
      reader.expect(wire, LEN, 'value');
      const item = reader.range();
      value = within('value', () => anyValue(bytes, item, depth));
    } else reader.skip(wire);
  }
  out[key] = value;
}

/** Adds one `repeated KeyValue` element (field `name`, element `index`) to `target`, made on first use. */
function attribute(
  bytes: Buffer,
  range: Range,
  target: Record<string, FieldValue> | undefined,
  name: string,
  index: number,
): Record<string, FieldValue> {
  const out = target ?? newFields();
  within(`${name}[${index}]`, () => addKeyValue(bytes, range, out, 0));
  return out;
}

function hex(bytes: Buffer, range: Range, name: string, size: number): string | undefined {
  const length = range.end - range.start;
  if (length === 0) return undefined;
  if (length !== size) throw new DecodeProblem(`${name} must be ${size} bytes, not ${length}`, name);
  return bytes.toString('hex', range.start, range.end);
}

function logRecord(bytes: Buffer, range: Range): OtlpRecord {
  const record: OtlpRecord = {};
  const reader = new WireReader(bytes, range.start, range.end);
  let attributes = 0;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    switch (field) {
      case 1: {
        reader.expect(wire, I64, 'timeUnixNano');
        const time = reader.fixed64Millis();
        record.time = time === 0 ? undefined : time;
        break;
      }
      case 11: {
        reader.expect(wire, I64, 'observedTimeUnixNano');
        const time = reader.fixed64Millis();
        record.observedTime = time === 0 ? undefined : time;
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
      case 5: {
        reader.expect(wire, LEN, 'body');
        const body = reader.range();
        record.body = within('body', () => anyValue(bytes, body, 0));
        break;
      }
      case 6: {
        reader.expect(wire, LEN, 'attributes');
        record.attributes = attribute(bytes, reader.range(), record.attributes, 'attributes', attributes++);
        break;
      }
      case 8:
        reader.expect(wire, I32, 'flags');
        record.flags = reader.fixed32() || undefined;
        break;
      case 9:
        reader.expect(wire, LEN, 'traceId');
        record.traceId = hex(bytes, reader.range(), 'traceId', 16);
        break;
      case 10:
        reader.expect(wire, LEN, 'spanId');
        record.spanId = hex(bytes, reader.range(), 'spanId', 8);
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

function resource(bytes: Buffer, range: Range, context: OtlpContext): void {
  const reader = new WireReader(bytes, range.start, range.end);
  let index = 0;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, 'attributes');
      context.resource = attribute(bytes, reader.range(), context.resource, 'attributes', index++);
    } else reader.skip(wire);
  }
}

function scope(bytes: Buffer, range: Range, context: OtlpContext): void {
  const reader = new WireReader(bytes, range.start, range.end);
  let index = 0;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, 'name');
      context.scopeName = reader.string() || undefined;
    } else if (field === 2) {
      reader.expect(wire, LEN, 'version');
      context.scopeVersion = reader.string() || undefined;
    } else if (field === 3) {
      reader.expect(wire, LEN, 'attributes');
      context.scopeAttributes = attribute(
        bytes,
        reader.range(),
        context.scopeAttributes,
        'attributes',
        index++,
      );
    } else reader.skip(wire);
  }
}

/** ScopeLogs (or the older InstrumentationLibraryLogs, the same on the wire). */
function scopeLogs(
  bytes: Buffer,
  range: Range,
  resourceContext: OtlpContext,
  at: string,
  visit: RequestVisitor,
): void {
  const context: OtlpContext = { resource: resourceContext.resource };
  const records: Range[] = [];
  const reader = new WireReader(bytes, range.start, range.end);
  within(at, () => {
    while (!reader.done) {
      const { field, wire } = reader.tag();
      if (field === 1) {
        reader.expect(wire, LEN, 'scope');
        const scopeRange = reader.range();
        within('scope', () => scope(bytes, scopeRange, context));
      } else if (field === 2) {
        reader.expect(wire, LEN, 'logRecords');
        records.push(reader.range());
      } else reader.skip(wire);
    }
  });
  for (let l = 0; l < records.length; l++) {
    let record: OtlpRecord | DecodeProblem;
    try {
      record = logRecord(bytes, records[l]!);
    } catch (error) {
      if (!(error instanceof DecodeProblem)) throw error;
      record = error;
    }
    visit(record, context, `${at}.logRecords[${l}]`);
  }
}

function resourceLogs(bytes: Buffer, range: Range, at: string, visit: RequestVisitor): void {
  const context: OtlpContext = {};
  const scopes: { range: Range; at: string }[] = [];
  let current = 0;
  let legacy = 0;
  const reader = new WireReader(bytes, range.start, range.end);
  within(at, () => {
    while (!reader.done) {
      const { field, wire } = reader.tag();
      if (field === 1) {
        reader.expect(wire, LEN, 'resource');
        const resourceRange = reader.range();
        within('resource', () => resource(bytes, resourceRange, context));
      } else if (field === 2) {
        reader.expect(wire, LEN, 'scopeLogs');
        scopes.push({ range: reader.range(), at: `${at}.scopeLogs[${current++}]` });
      } else if (field === 1000) {
        reader.expect(wire, LEN, 'instrumentationLibraryLogs');
        scopes.push({ range: reader.range(), at: `${at}.instrumentationLibraryLogs[${legacy++}]` });
      } else reader.skip(wire);
    }
  });
  // Resource first: the wire may give it after the scopes.
  for (const entry of scopes) scopeLogs(bytes, entry.range, context, entry.at, visit);
}

/** Walks a binary `ExportLogsServiceRequest`, telling `visit` each record with its context. */
export function walkProtobufRequest(bytes: Buffer, visit: RequestVisitor): void {
  const reader = new WireReader(bytes, 0, bytes.length);
  const entries: Range[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, 'resourceLogs');
      entries.push(reader.range());
    } else reader.skip(wire);
  }
  for (let r = 0; r < entries.length; r++) resourceLogs(bytes, entries[r]!, `resourceLogs[${r}]`, visit);
}
