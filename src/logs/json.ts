import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { type FieldValue, type LogEvent, parseTimestamp, VigilError } from '../core/index.js';
import { addAuditdNames, isAuditbeatDocument } from './auditbeat.js';
import { isEventXml, parseEventXml } from './event-xml.js';
import { JsonRecordSplitter, LineSplitter, type RecordText } from './json-records.js';
import { addEsloggerNames, isEsloggerEvent } from './macos.js';
import { addAuthenticationFields } from './syslog/index.js';
import {
  flattenCollectorWindowsEvent,
  flattenGeneric,
  flattenWindowsEvent,
  flattenWinlog,
  windowsEventElement,
} from './windows-json.js';

export interface ReadOptions {
  /** Told about every record that cannot be read; reading goes on with the next one. */
  onError?: (error: VigilError) => void;
  /** Told how many bytes of the file have been consumed so far, for progress bars. */
  onProgress?: (bytes: number) => void;
}

type JsonObject = { [key: string]: FieldValue };

const TIME_FIELDS = [
  'TimeCreated',
  '@timestamp',
  'timestamp',
  'Timestamp',
  'time',
  'eventTime',
  'UtcTime',
  'date',
  // Log Analytics and Sentinel tables; the Okta System Log.
  'TimeGenerated',
  'published',
  // Microsoft 365 message trace: Get-MessageTrace and the reporting web service, Graph.
  'Received',
  'receivedDateTime',
];

/**
 * One parsed JSON record as an event: the Windows nested form, Winlogbeat, the OpenTelemetry
 * Collector's Windows event body, or any flat or nested object.
 */
export function toLogEvent(record: JsonObject, file: string, recordNumber: number, line?: number): LogEvent {
  const windows = windowsEventElement(record);
  const fields = windows
    ? flattenWindowsEvent(windows)
    : (flattenWinlog(record) ??
      flattenCollectorWindowsEvent(record) ??
      flattenGeneric(withDynamicColumns(record)));
  addSyslogEventXml(fields);
  if (!windows) {
    addSourceNames(record, fields);
    // The journal's and Sentinel's sshd and PAM messages get the fields a syslog line of them gets.
    addAuthenticationFields(fields);
  }
  let time: number | undefined;
  for (const name of TIME_FIELDS) {
    time = parseTimestamp(fields[name]);
    if (time !== undefined) break;
  }
  time ??= journalTime(fields.__REALTIME_TIMESTAMP);
  // Windows events are known by their EventRecordID (as in an EVTX file); others by position.
  const number = windows && typeof fields.EventRecordID === 'number' ? fields.EventRecordID : recordNumber;
  return { fields, raw: record, source: { file, record: number, line }, time };
}

/**
 * A Log Analytics (Sentinel) row as its query API and its exports give it: the dynamic columns
 * (SigninLogs' LocationDetails, Status, DeviceDetail ...) come as JSON text. They are read as the
 * objects they hold, so that `LocationDetails.city` is a field as it is in the table itself; the
 * event's raw record stays as it came.
 */
function withDynamicColumns(record: JsonObject): JsonObject {
  if (
    typeof record.TimeGenerated !== 'string' ||
    (record.Type === undefined && record.TenantId === undefined)
  )
    return record;
  let expanded: JsonObject | undefined;
  for (const key in record) {
    const value = record[key];
    if (typeof value !== 'string' || !looksLikeJsonObject(value)) continue;
    try {
      const parsed = JSON.parse(value) as FieldValue;
      if (typeof parsed !== 'object' || parsed === null) continue;
      expanded ??= { ...record };
      expanded[key] = parsed;
    } catch {
      // Text that only looks like JSON stays text.
    }
  }
  return expanded ?? record;
}

function looksLikeJsonObject(text: string): boolean {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return (first === 0x7b && last === 0x7d) || (first === 0x5b && last === 0x5d); // {...} or [...]
}

/** Names a rule needs that a source's JSON does not have as such (auditd's, ESF's). */
function addSourceNames(record: JsonObject, fields: Record<string, FieldValue>): void {
  if (isAuditbeatDocument(record)) addAuditdNames(record, fields);
  else if (isEsloggerEvent(record)) addEsloggerNames(record, fields);
}

/** The systemd journal's `__REALTIME_TIMESTAMP`: microseconds since the epoch, as text. */
function journalTime(value: FieldValue | undefined): number | undefined {
  return typeof value === 'string' && /^\d{1,17}$/.test(value) ? Math.floor(Number(value) / 1000) : undefined;
}

/**
 * A syslog record stored as JSON whose message is a Windows-schema event in XML (Sysmon for
 * Linux in Sentinel's Syslog table: `SyslogMessage`): the event's fields are added, under
 * Sigma's names, beside the record's own.
 */
function addSyslogEventXml(fields: Record<string, FieldValue>): void {
  const message = fields.SyslogMessage;
  if (typeof message !== 'string' || !isEventXml(message)) return;
  const event = parseEventXml(message);
  const element = event && windowsEventElement(event.record);
  if (!element) return;
  const inner = flattenWindowsEvent(element);
  for (const key in inner) if (fields[key] === undefined) fields[key] = inner[key]!;
}

/** A JSON record's text with its place, numbered 1.. in its file. */
export interface JsonRecordText extends RecordText {
  number: number;
  /**
   * The record's time as the reader that took it in found it (kept beside it by the service's event
   * log: a syslog header's or body's time, an OpenTelemetry record's). It wins over the record's
   * fields, which the reader already judged: a FortiGate message's `date` field is a day, not a time.
   */
  time?: number;
}

/**
 * The keys that wrap a file's records in one object as exports write them: CloudTrail's log files
 * (`{"Records": [...]}`) and Azure Monitor's diagnostic exports (`{"records": [...]}`).
 */
const WRAPPER_KEYS = ['Records', 'records'];

function recordList(list: FieldValue | undefined): JsonObject[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return list.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))
    ? (list as JsonObject[])
    : undefined;
}

/**
 * The records a file's one object wraps: `Records`/`records` alone, an OData answer as Microsoft's
 * APIs give it (Graph's `{"@odata.context": …, "value": [...]}`, the Office 365 reporting web
 * service's `{"d": {"results": [...]}}`, as its message trace is downloaded).
 */
function wrapped(value: JsonObject): JsonObject[] | undefined {
  const keys = Object.keys(value);
  if (keys.length === 1 && WRAPPER_KEYS.includes(keys[0]!)) return recordList(value[keys[0]!]);
  if (keys.includes('value') && keys.every((key) => key === 'value' || key.startsWith('@odata.')))
    return recordList(value.value);
  const d = value.d;
  if (keys.length === 1 && typeof d === 'object' && d !== null && !Array.isArray(d))
    return recordList((d as JsonObject).results);
  return undefined;
}

/**
 * The events of one record: itself, or the records it wraps (numbered after it in the file, the
 * wrapper's line kept). A broken record is reported and gives none.
 */
export function parseJsonRecord(
  record: JsonRecordText,
  file: string,
  onError?: (error: VigilError) => void,
): LogEvent[] {
  const report = (message: string) =>
    onError?.(new VigilError('LOG_RECORD', message, { file, line: record.line, record: record.number }));
  let value: unknown;
  try {
    value = JSON.parse(record.text);
  } catch (error) {
    report(`not valid JSON: ${(error as Error).message}`);
    return [];
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    report('a record must be a JSON object');
    return [];
  }
  const inner = wrapped(value as JsonObject);
  const events = inner
    ? inner.map((item, i) => toLogEvent(item, file, record.number * WRAPPED_STRIDE + i, record.line))
    : [toLogEvent(value as JsonObject, file, record.number, record.line)];
  return record.time === undefined ? events : events.map((event) => ({ ...event, time: record.time }));
}

/**
 * Records wrapped in one object are numbered `wrapper × 1,000,000 + index`: distinct, and in
 * file order, whatever the number of records around them.
 */
const WRAPPED_STRIDE = 1_000_000;

/**
 * The record texts of a `.json`, `.jsonl` or `.ndjson` file, in batches of about `batchBytes`,
 * streamed (the unit of parallel work). Text between records is reported.
 */
export async function* readJsonRecordBatches(
  file: string,
  options: ReadOptions & { batchBytes?: number } = {},
): AsyncGenerator<JsonRecordText[]> {
  const byLine = ['.jsonl', '.ndjson'].includes(extname(file).toLowerCase());
  const splitter = byLine ? new LineSplitter() : new JsonRecordSplitter();
  const batchBytes = options.batchBytes ?? 1 << 20;
  let number = 0;
  let bytes = 0;
  let problems = 0;
  const report = (error: VigilError) => {
    problems++;
    options.onError?.(error);
  };
  let batch: JsonRecordText[] = [];
  let batchSize = 0;
  const add = (record: RecordText) => {
    batch.push({ ...record, number: ++number });
    batchSize += record.text.length;
  };
  try {
    for await (const read of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      // A UTF-8 byte order mark (as Windows tools write) is not part of the first record.
      const chunk =
        bytes > 0
          ? read
          : withoutPreamble(
              read[0] === 0xef && read[1] === 0xbb && read[2] === 0xbf ? read.subarray(3) : read,
            );
      bytes += read.length;
      for (const record of splitter.feed(chunk)) add(record);
      if (splitter instanceof JsonRecordSplitter) {
        for (const stray of splitter.stray.splice(0)) {
          report(
            new VigilError('LOG_RECORD', `unexpected text outside a JSON object: '${stray.text}'`, {
              file,
              line: stray.line,
            }),
          );
        }
      }
      options.onProgress?.(bytes);
      if (batchSize >= batchBytes) {
        yield batch;
        batch = [];
        batchSize = 0;
      }
    }
    const rest = splitter.end();
    if (rest && splitter instanceof JsonRecordSplitter) {
      report(
        new VigilError('LOG_RECORD', 'the file ends inside a JSON object (truncated?)', {
          file,
          line: rest.line,
          record: ++number,
        }),
      );
    } else if (rest) {
      add(rest);
    }
    if (batch.length) yield batch;
    // A file without a single record is not a log that happened to be quiet: say what it is.
    if (number === 0 && problems === 0) {
      report(
        new VigilError('LOG_EMPTY', bytes === 0 ? 'the file is empty' : 'the file holds no records', {
          file,
        }),
      );
    }
  } catch (error) {
    report(new VigilError('FILE_UNREADABLE', `cannot read log file: ${(error as Error).message}`, { file }));
  }
}

const PREAMBLE = Buffer.from('Filtering the log data');

/**
 * Without the line macOS's `log show` and `log stream` write before their JSON when given a
 * predicate (`Filtering the log data using "process == "sshd""`): not a record, and not damage.
 * Its line end is kept, so lines keep their numbers.
 */
function withoutPreamble(chunk: Buffer): Buffer {
  if (!chunk.subarray(0, PREAMBLE.length).equals(PREAMBLE)) return chunk;
  const end = chunk.indexOf(0x0a);
  return end < 0 ? chunk.subarray(chunk.length) : chunk.subarray(end);
}

/** Events of a `.json`, `.jsonl` or `.ndjson` file, streamed; broken records are reported and skipped. */
export async function* readJsonEvents(file: string, options: ReadOptions = {}): AsyncGenerator<LogEvent> {
  for await (const batch of readJsonRecordBatches(file, { ...options, batchBytes: 1 })) {
    for (const record of batch) yield* parseJsonRecord(record, file, options.onError);
  }
}
