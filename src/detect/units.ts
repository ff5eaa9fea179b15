import { extname } from 'node:path';
import type { LogEvent, VigilError } from '../core/index.js';
import {
  type JsonRecordText,
  parseChunk,
  parseJsonRecord,
  readEvtxChunks,
  readJsonRecordBatches,
  recordToEvent,
} from '../logs/index.js';

/**
 * A unit of parallel work: one 64 KiB EVTX chunk, or a batch of JSON record texts. Units are
 * independent, so workers parse and detect them in any order while results are put back in order.
 */
export type WorkUnit =
  | { kind: 'evtx'; file: string; chunk: number; buf: Buffer }
  | { kind: 'json'; file: string; records: JsonRecordText[] };

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
    if (extname(file).toLowerCase() === '.evtx') {
      for await (const { index: chunk, buf } of readEvtxChunks(file, {
        onError: options.onError,
        onProgress: progress,
      })) {
        yield { kind: 'evtx', file, chunk, buf };
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
  for (const record of unit.records) {
    const event = parseJsonRecord(record, unit.file, onError);
    if (event) events.push(event);
  }
  return events;
}
