import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { type FieldValue, type LogEvent, VigilError } from '../../core/index.js';
import { LineSplitter, type RecordText } from '../json-records.js';
import { parseSyslog } from '../syslog/index.js';
import { readAccessLine } from './access.js';
import { type AssembledRecord, type TextContext, TextRecordAssembler } from './assemble.js';
import { joinAuditRecords } from './auditd.js';
import { readCsvLine } from './csv.js';
import { readEximLine } from './exim.js';
import { type LogFormat, sniffFormat, type TextFormat } from './formats.js';
import { readMessageTrackingLine } from './message-tracking.js';
import { readSquidLine } from './squid.js';
import { readW3cLine } from './w3c.js';
import { readZeekLine } from './zeek-tsv.js';

export interface TextReadOptions {
  onError?: (error: VigilError) => void;
  onProgress?: (bytes: number) => void;
  batchBytes?: number;
}

/** A record of a text log: one line, or the lines of one audit event. Numbered 1.. in its file. */
export interface TextRecord extends RecordText {
  number: number;
}

/** The format of a file, from its first 64 KiB. */
export async function detectFormat(file: string): Promise<LogFormat | undefined> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(1 << 16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return sniffFormat(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * The records of a text log in batches of about `batchBytes`, each with the context it is read
 * in (a header line of Zeek or W3C closes the batch before it). The records of one audit event
 * (consecutive lines of one serial) are one record.
 */
export async function* readTextRecordBatches(
  file: string,
  format: TextFormat,
  options: TextReadOptions = {},
): AsyncGenerator<{ context: TextContext; records: TextRecord[] }> {
  const batchBytes = options.batchBytes ?? 1 << 20;
  let context: TextContext;
  try {
    context = { format, receivedAt: (await stat(file)).mtimeMs };
  } catch (error) {
    options.onError?.(
      new VigilError('FILE_UNREADABLE', `cannot read log file: ${(error as Error).message}`, { file }),
    );
    return;
  }
  let batch: TextRecord[] = [];
  let size = 0;
  let number = 0;
  let bytes = 0;
  const assembler = new TextRecordAssembler(context);
  const ready: { context: TextContext; records: TextRecord[] }[] = [];
  const flush = () => {
    if (batch.length) ready.push({ context, records: batch });
    batch = [];
    size = 0;
  };
  const take = (line: RecordText) => {
    for (const record of assembler.feed(line.text, line.line, 0, 0)) push(record);
  };
  const push = (record: AssembledRecord) => {
    // A header line closes the batch read in the context before it.
    if (record.context !== context) {
      flush();
      context = record.context;
    }
    batch.push({ text: record.text, line: record.line, number: ++number });
    size += record.text.length;
    if (size >= batchBytes) flush();
  };
  const splitter = new LineSplitter();
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (const record of splitter.feed(bytes === chunk.length ? stripBom(chunk) : chunk)) take(record);
      options.onProgress?.(bytes);
      yield* ready.splice(0);
    }
    const rest = splitter.end();
    if (rest) take(rest);
    for (const record of assembler.finish()) push(record);
    flush();
    yield* ready.splice(0);
    if (number === 0) {
      options.onError?.(
        new VigilError('LOG_EMPTY', bytes === 0 ? 'the file is empty' : 'the file holds no records', {
          file,
        }),
      );
    }
  } catch (error) {
    options.onError?.(
      new VigilError('FILE_UNREADABLE', `cannot read log file: ${(error as Error).message}`, { file }),
    );
  }
}

function stripBom(chunk: Buffer): Buffer {
  return chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? chunk.subarray(3) : chunk;
}

const FORMAT_NAMES: Record<TextFormat, string> = {
  auditd: 'an audit record',
  syslog: 'a syslog line',
  access: 'an access log line (Common or Combined Log Format)',
  w3c: 'a W3C extended log line',
  'zeek-tsv': 'a Zeek TSV line',
  squid: 'a Squid access.log line',
  exim: 'an Exim mainlog line',
  'message-tracking': 'a message tracking log line',
  csv: 'a CSV line',
};

/** One record as an event; a damaged one is reported (file, line) and gives undefined. */
export function parseTextRecord(
  record: TextRecord,
  context: TextContext,
  file: string,
  onError?: (error: VigilError) => void,
): LogEvent | undefined {
  const report = (message: string, line = record.line) =>
    onError?.(new VigilError('LOG_RECORD', message, { file, line, record: record.number }));
  const shown = (text: string) => (text.length > 80 ? `${text.slice(0, 80)}…` : text);
  let read: { fields: Record<string, FieldValue>; time?: number } | string | undefined;
  switch (context.format) {
    case 'auditd': {
      const lines = record.text.split('\n');
      const joined = joinAuditRecords(lines);
      for (const index of joined.bad)
        report(`not ${FORMAT_NAMES.auditd}: '${shown(lines[index]!)}'`, record.line + index);
      if (joined.bad.length === lines.length) return undefined;
      read = joined;
      break;
    }
    case 'syslog':
      read = readSyslogLine(record.text, context);
      break;
    case 'access':
      read = readAccessLine(record.text);
      break;
    case 'squid':
      read = readSquidLine(record.text);
      break;
    case 'exim':
      // Exim sends its lines to syslog too, where they arrive with a syslog header before its own.
      read = readEximLine(record.text) ?? readSyslogLine(record.text, context);
      break;
    case 'w3c':
      read = readW3cLine(record.text, context.w3c);
      break;
    case 'zeek-tsv':
      read = readZeekLine(record.text, context.zeek);
      break;
    case 'message-tracking':
      read = readMessageTrackingLine(record.text, context.columns);
      break;
    case 'csv':
      read = readCsvLine(record.text, context.columns);
      break;
  }
  if (read === undefined) {
    report(`not ${FORMAT_NAMES[context.format]}: '${shown(record.text)}'`);
    return undefined;
  }
  if (typeof read === 'string') {
    report(read);
    return undefined;
  }
  return {
    fields: read.fields,
    raw: record.text,
    source: { file, record: record.number, line: record.line },
    time: read.time,
  };
}

/** A syslog line of a file; undefined (damaged) when its header cannot be read or has no time. */
function readSyslogLine(
  text: string,
  context: TextContext,
): { fields: Record<string, FieldValue>; time?: number } | undefined {
  const parsed = parseSyslog(text, { receivedAt: context.receivedAt });
  if ((parsed.error && parsed.error.code !== 'SYSLOG_BODY') || parsed.time === undefined) return undefined;
  return parsed;
}

/** Events of a text log, streamed; damaged records are reported and skipped. */
export async function* readTextEvents(
  file: string,
  format: TextFormat,
  options: TextReadOptions = {},
): AsyncGenerator<LogEvent> {
  for await (const { context, records } of readTextRecordBatches(file, format, {
    ...options,
    batchBytes: 1,
  })) {
    for (const record of records) {
      const event = parseTextRecord(record, context, file, options.onError);
      if (event) yield event;
    }
  }
}
