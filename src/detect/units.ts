import type { LogEvent, VigilError } from '../core/index.js';
import {
  formatOf,
  type JsonRecordText,
  parseChunk,
  parseJsonRecord,
  parseTextRecord,
  readEvtxChunks,
  readJsonRecordBatches,
  readTextRecordBatches,
  recordToEvent,
  type TextContext,
  type TextRecord,
} from '../logs/index.js';

/**
 * A unit of parallel work: one 64 KiB EVTX chunk, or a batch of JSON record texts, or a batch of
 * text log records with what reading them needs. Units are independent, so workers parse and
 * detect them in any order while results are put back in order.
 */
export type WorkUnit =
  | { kind: 'evtx'; file: string; chunk: number; buf: Buffer }
  | { kind: 'json'; file: string; records: JsonRecordText[] }
  | { kind: 'text'; file: string; context: TextContext; records: TextRecord[] };

export interface UnitSourceOptions {
  onError?: (error: VigilError) => void;
  /** Bytes read so far over all files. */
  onProgress?: (bytes: number) => void;
}

/** The units of the files, read one after the other; memory stays at the units in flight. */
export async function* workUnits(
  files: readonly string[],
  sizes: readonly number[],
  options: UnitSourceOptions = {},
): AsyncGenerator<WorkUnit> {
  let before = 0;
  for (const [index, file] of files.entries()) {
    const progress = (bytes: number) => options.onProgress?.(before + bytes);
    const format = await formatOf(file);
    if (format === 'evtx') {
      for await (const { index: chunk, buf } of readEvtxChunks(file, {
        onError: options.onError,
        onProgress: progress,
      })) {
        yield { kind: 'evtx', file, chunk, buf };
      }
    } else if (format !== 'json') {
      for await (const { context, records } of readTextRecordBatches(file, format, {
        onError: options.onError,
        onProgress: progress,
      })) {
        yield { kind: 'text', file, context, records };
      }
    } else {
      for await (const records of readJsonRecordBatches(file, {
        onError: options.onError,
        onProgress: progress,
      })) {
        yield { kind: 'json', file, records };
      }
    }
    before += sizes[index] ?? 0;
    options.onProgress?.(before);
  }
}

/** The events of a unit; damaged records are reported and left out. */
export function unitEvents(unit: WorkUnit, onError: (error: VigilError) => void): LogEvent[] {
  if (unit.kind === 'evtx') {
    return parseChunk(unit.buf, unit.chunk, unit.file, onError).map((record) =>
      recordToEvent(record, unit.file),
    );
  }
  const events: LogEvent[] = [];
  if (unit.kind === 'text') {
    for (const record of unit.records) {
      const event = parseTextRecord(record, unit.context, unit.file, onError);
      if (event) events.push(event);
    }
    return events;
  }
  for (const record of unit.records) events.push(...parseJsonRecord(record, unit.file, onError));
  return events;
}
