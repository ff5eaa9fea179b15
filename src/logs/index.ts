import { extname } from 'node:path';
import type { LogEvent } from '../core/index.js';
import { readEvtxEvents } from './evtx/index.js';
import { type ReadOptions, readJsonEvents } from './json.js';

export { isEventXml, parseEventXml } from './event-xml.js';
export {
  type EvtxRecord,
  elementToJson,
  elementToXml,
  parseChunk,
  readEvtxChunks,
  readEvtxEvents,
  recordToEvent,
} from './evtx/index.js';
export {
  type JsonRecordText,
  parseJsonRecord,
  type ReadOptions,
  readJsonEvents,
  readJsonRecordBatches,
  toLogEvent,
} from './json.js';
export { JsonRecordSplitter } from './json-records.js';
export {
  decodeOtlpLogs,
  decodeOtlpLogsJson,
  decodeOtlpLogsProtobuf,
  OtlpError,
  type OtlpLogs,
  type OtlpOptions,
} from './otlp/index.js';
export {
  CEF_HEADER_FIELDS,
  FACILITY_NAMES,
  type ParsedSyslog,
  parseCef,
  parseKeyValues,
  parseSyslog,
  SEVERITY_NAMES,
  SyslogError,
  type SyslogFrame,
  SyslogFrameSplitter,
  type SyslogOptions,
  syslogEvent,
} from './syslog/index.js';

/** File extensions Vigil reads as logs when given a folder. */
export const LOG_EXTENSIONS = ['.evtx', '.json', '.jsonl', '.ndjson'];

/** Events of one log file, whatever its format. */
export function readEvents(file: string, options: ReadOptions = {}): AsyncGenerator<LogEvent> {
  switch (extname(file).toLowerCase()) {
    case '.evtx':
      return readEvtxEvents(file, options);
    default:
      return readJsonEvents(file, options);
  }
}
