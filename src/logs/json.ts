import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { type FieldValue, type LogEvent, parseTimestamp, VigilError } from '../core/index.js';
import { JsonRecordSplitter, LineSplitter, type RecordText } from './json-records.js';
import { flattenGeneric, flattenWindowsEvent, flattenWinlog, windowsEventElement } from './windows-json.js';

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
];

/** One parsed JSON record as an event: the Windows nested form, Winlogbeat, or any flat or nested object. */
export function toLogEvent(record: JsonObject, file: string, recordNumber: number, line?: number): LogEvent {
  const windows = windowsEventElement(record);
  const fields = windows ? flattenWindowsEvent(windows) : (flattenWinlog(record) ?? flattenGeneric(record));
  let time: number | undefined;
  for (const name of TIME_FIELDS) {
    time = parseTimestamp(fields[name]);
    if (time !== undefined) break;
  }
  return { fields, raw: record, source: { file, record: recordNumber, line }, time };
}

/** Events of a `.json`, `.jsonl` or `.ndjson` file, streamed; broken records are reported and skipped. */
export async function* readJsonEvents(file: string, options: ReadOptions = {}): AsyncGenerator<LogEvent> {
  const byLine = ['.jsonl', '.ndjson'].includes(extname(file).toLowerCase());
  const splitter = byLine ? new LineSplitter() : new JsonRecordSplitter();
  let recordNumber = 0;
  let bytes = 0;
  const report = (line: number, message: string) =>
    options.onError?.(new VigilError('LOG_RECORD', message, { file, line, record: recordNumber }));

  const parse = (record: RecordText): LogEvent | undefined => {
    recordNumber++;
    let value: unknown;
    try {
      value = JSON.parse(record.text);
    } catch (error) {
      report(record.line, `not valid JSON: ${(error as Error).message}`);
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      report(record.line, 'a record must be a JSON object');
      return undefined;
    }
    return toLogEvent(value as JsonObject, file, recordNumber, record.line);
  };

  try {
    for await (const read of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      // A UTF-8 byte order mark (as Windows tools write) is not part of the first record.
      const chunk =
        bytes === 0 && read[0] === 0xef && read[1] === 0xbb && read[2] === 0xbf ? read.subarray(3) : read;
      bytes += read.length;
      for (const record of splitter.feed(chunk)) {
        const event = parse(record);
        if (event) yield event;
      }
      if (splitter instanceof JsonRecordSplitter) {
        for (const stray of splitter.stray.splice(0)) {
          options.onError?.(
            new VigilError('LOG_RECORD', `unexpected text outside a JSON object: '${stray.text}'`, {
              file,
              line: stray.line,
            }),
          );
        }
      }
      options.onProgress?.(bytes);
    }
    const rest = splitter.end();
    if (rest && splitter instanceof JsonRecordSplitter) {
      recordNumber++;
      report(rest.line, 'the file ends inside a JSON object (truncated?)');
    } else if (rest) {
      const event = parse(rest);
      if (event) yield event;
    }
  } catch (error) {
    options.onError?.(
      new VigilError('FILE_UNREADABLE', `cannot read log file: ${(error as Error).message}`, { file }),
    );
  }
}
