import { extname } from 'node:path';
import type { LogEvent } from '../core/index.js';
import { readEvtxEvents } from './evtx/index.js';
import { type ReadOptions, readJsonEvents } from './json.js';
import { detectFormat, type LogFormat, readTextEvents } from './text/index.js';

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

export {
  type AssembledRecord,
  detectFormat,
  type LogFormat,
  parseTextRecord,
  readTextEvents,
  readTextRecordBatches,
  sniffFormat,
  TEXT_FORMATS,
  type TextContext,
  type TextFormat,
  type TextRecord,
  TextRecordAssembler,
} from './text/index.js';

/**
 * File extensions Vigil reads as logs when given a folder. A file named on the command line is
 * read whatever its name: its format is told by its content.
 */
/**
 * What a folder given to hunt, search or assess is searched for. Not `.csv`: a folder of logs often
 * holds a manifest or an inventory in CSV; a CSV export of logs (a message trace) is read when named.
 */
export const LOG_EXTENSIONS = ['.evtx', '.json', '.jsonl', '.ndjson', '.log'];

/** The format to read a file in: by its content, else (empty, unreadable, unknown) by its extension. */
export async function formatOf(file: string): Promise<LogFormat> {
  const sniffed = await detectFormat(file).catch(() => undefined);
  return sniffed ?? (extname(file).toLowerCase() === '.evtx' ? 'evtx' : 'json');
}

/** Events of one log file, whatever its format. */
export async function* readEvents(file: string, options: ReadOptions = {}): AsyncGenerator<LogEvent> {
  const format = await formatOf(file);
  if (format === 'evtx') yield* readEvtxEvents(file, options);
  else if (format === 'json') yield* readJsonEvents(file, options);
  else yield* readTextEvents(file, format, options);
}
