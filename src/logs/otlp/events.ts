import type { EventSource, FieldValue, LogEvent } from '../../core/index.js';
import { isEventXml, parseEventXml } from '../event-xml.js';
import { toLogEvent } from '../json.js';
import { addAuthenticationFields, isCef, parseCef } from '../syslog/index.js';
import { newFields } from '../windows-json.js';
import type { OtlpContext, OtlpRecord } from './model.js';

type JsonObject = { [key: string]: FieldValue };

function isObject(value: FieldValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A body text that is a JSON object or a Windows-schema event in XML, as JSON; else undefined. */
function objectText(text: string): JsonObject | undefined {
  return isEventXml(text) ? parseEventXml(text)?.record : jsonObjectText(text);
}

/** A body text that is a JSON object, parsed; undefined for any other text. */
function jsonObjectText(text: string): JsonObject | undefined {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  try {
    const value = JSON.parse(text) as FieldValue;
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Sets a field unless an earlier source set it; nested objects become dotted names. */
function addAttributes(
  fields: Record<string, FieldValue>,
  attributes: Record<string, FieldValue> | undefined,
): void {
  if (!attributes) return;
  const visit = (name: string, value: FieldValue, depth: number): void => {
    if (isObject(value) && depth < 16) {
      for (const key in value) visit(`${name}.${key}`, value[key]!, depth + 1);
    } else if (fields[name] === undefined) {
      fields[name] = value;
    }
  };
  for (const key in attributes) visit(key, attributes[key]!, 0);
}

function setOnce(fields: Record<string, FieldValue>, name: string, value: FieldValue | undefined): void {
  if (value !== undefined && fields[name] === undefined) fields[name] = value;
}

/**
 * One LogRecord as an event. The body gives the first fields: a map body, or a text body that is
 * a JSON object, is read as `vigil hunt` reads a JSON record (Windows events get Sigma's names),
 * as is a text body holding a Windows event in XML (the Collector's `raw: true`);
 * a CEF text body is read as CEF; any other body is `message`. Then, where the body did not set
 * the same name: `severityText`, `severityNumber`, `traceId`, `spanId`, `eventName`, the record's
 * attributes, the resource's attributes (`host.name`, `service.name`), `scope.name`,
 * `scope.version` and the scope's attributes. The time is `timeUnixNano`, else the body's own
 * time, else `observedTimeUnixNano`.
 */
export function otlpRecordEvent(record: OtlpRecord, context: OtlpContext, source: EventSource): LogEvent {
  const body = record.body;
  let fields: Record<string, FieldValue>;
  let raw: FieldValue | undefined;
  let bodyTime: number | undefined;
  const object = isObject(body) ? body : typeof body === 'string' ? objectText(body) : undefined;
  if (object) {
    const event = toLogEvent(object, source.file, source.record);
    fields = event.fields as Record<string, FieldValue>;
    raw = object;
    bodyTime = event.time;
  } else {
    fields = newFields();
    if (typeof body === 'string' && isCef(body)) {
      const cef = parseCef(body);
      if (!(cef instanceof Error)) Object.assign(fields, cef);
    }
    if (body !== undefined && body !== null) fields.message = body;
  }
  setOnce(fields, 'severityText', record.severityText);
  setOnce(fields, 'severityNumber', record.severityNumber);
  setOnce(fields, 'traceId', record.traceId);
  setOnce(fields, 'spanId', record.spanId);
  setOnce(fields, 'eventName', record.eventName);
  addAttributes(fields, record.attributes);
  addAttributes(fields, context.resource);
  setOnce(fields, 'scope.name', context.scopeName);
  setOnce(fields, 'scope.version', context.scopeVersion);
  addAttributes(fields, context.scopeAttributes);
  // sshd's messages get the fields a syslog line of sshd gets, once `service.name` names the program.
  addAuthenticationFields(fields);
  const time = record.time ?? bodyTime ?? record.observedTime;
  return raw === undefined ? { fields, source, time } : { fields, raw, source, time };
}
