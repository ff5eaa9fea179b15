import { closeSync, openSync, readSync } from 'node:fs';
import { type FieldValue, type LogEvent, parseTimestamp, VigilError } from '../../core/index.js';
import { flattenWindowsEvent } from '../windows-json.js';
import { BinXmlError, ChunkBinXml, type XmlElement } from './binxml.js';
import { crc32 } from './crc32.js';
import { elementToJson } from './render.js';
import { fileTime } from './values.js';

/**
 * The EVTX file format: a 4 KiB file header, then 64 KiB chunks, each with a 512-byte header
 * (checksummed), string and template tables, and event records of Binary XML. Chunks are
 * independent, which is what lets them be parsed in parallel.
 */
export const FILE_HEADER_SIZE = 4096;
export const CHUNK_SIZE = 65536;
const CHUNK_HEADER_SIZE = 512;
const RECORD_SIGNATURE = 0x00002a2a;
const FILE_SIGNATURE = Buffer.from('ElfFile\0', 'latin1');
const CHUNK_SIGNATURE = Buffer.from('ElfChnk\0', 'latin1');

export interface EvtxRecord {
  /** 0-based index of the chunk in the file. */
  chunk: number;
  /** The record identifier (EventRecordID). */
  id: number;
  /** When the record was written, ISO 8601. */
  written: string;
  /** The `Event` element. */
  event: XmlElement;
}

export interface EvtxFileHeader {
  dirty: boolean;
  full: boolean;
  chunkCount: number;
  nextRecordId: number;
  version: string;
}

/** Problems are reported with the file, the chunk and the record, and reading goes on. */
export type IssueSink = (error: VigilError) => void;

function issue(file: string, message: string, record?: number): VigilError {
  return new VigilError('EVTX_DAMAGED', message, record === undefined ? { file } : { file, record });
}

export function parseFileHeader(buf: Buffer, file: string, report: IssueSink): EvtxFileHeader {
  if (buf.length === 0) throw new VigilError('LOG_EMPTY', 'the file is empty', { file });
  if (buf.length < 128 || !buf.subarray(0, 8).equals(FILE_SIGNATURE)) {
    throw new VigilError('EVTX_NOT_EVTX', 'not an EVTX file (no ElfFile signature)', { file });
  }
  const checksum = buf.readUInt32LE(124);
  if (crc32(buf, 0, 120) !== checksum) report(issue(file, 'file header checksum mismatch; reading on'));
  const flags = buf.readUInt32LE(120);
  return {
    dirty: (flags & 1) !== 0,
    full: (flags & 2) !== 0,
    chunkCount: buf.readUInt16LE(42),
    nextRecordId: Number(buf.readBigUInt64LE(24)),
    version: `${buf.readUInt16LE(38)}.${buf.readUInt16LE(36)}`,
  };
}

function allZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Every record of one chunk. A chunk whose signature is wrong is reported and skipped; checksum
 * mismatches are reported and the records still read, each checked on its own (a dirty file's
 * last chunk is routinely out of date). Records past the header's end of data are read while
 * their numbers follow on, which recovers what a not-closed file wrote last without picking up
 * stale slack.
 */
export function parseChunk(buf: Buffer, index: number, file: string, report: IssueSink): EvtxRecord[] {
  const where = `chunk ${index}`;
  if (buf.length < CHUNK_HEADER_SIZE) {
    if (!allZero(buf, 0, buf.length))
      report(issue(file, `${where}: truncated to ${buf.length} bytes, no records`));
    return [];
  }
  if (!buf.subarray(0, 8).equals(CHUNK_SIGNATURE)) {
    if (!allZero(buf, 0, CHUNK_HEADER_SIZE))
      report(issue(file, `${where}: not a chunk (bad signature); skipped`));
    return [];
  }
  const headerSum = crc32(buf, 128, CHUNK_HEADER_SIZE, crc32(buf, 0, 120));
  if (headerSum !== buf.readUInt32LE(124))
    report(issue(file, `${where}: header checksum mismatch; reading its records one by one`));
  const freeSpace = buf.readUInt32LE(48);
  if (freeSpace >= CHUNK_HEADER_SIZE && freeSpace <= buf.length) {
    if (crc32(buf, CHUNK_HEADER_SIZE, freeSpace) !== buf.readUInt32LE(52)) {
      report(issue(file, `${where}: record data checksum mismatch; reading its records one by one`));
    }
  }
  const end = Math.min(buf.length, CHUNK_SIZE);
  const dataEnd = freeSpace >= CHUNK_HEADER_SIZE && freeSpace <= end ? freeSpace : end;
  const parser = new ChunkBinXml(buf);
  const records: EvtxRecord[] = [];
  let pos = CHUNK_HEADER_SIZE;
  let lastId = -1;
  while (pos + 28 <= end) {
    const beyond = pos >= dataEnd;
    if (buf.readUInt32LE(pos) !== RECORD_SIGNATURE) {
      if (beyond || allZero(buf, pos, Math.min(end, pos + 32))) break;
      report(issue(file, `${where}: no record at offset ${pos}; looking for the next one`));
      pos = resync(buf, pos + 8, end);
      continue;
    }
    const size = buf.readUInt32LE(pos + 4);
    const id = Number(buf.readBigUInt64LE(pos + 8));
    if (beyond && id !== lastId + 1) break;
    if (size < 28 || pos + size > end || buf.readUInt32LE(pos + size - 4) !== size) {
      if (beyond) break;
      report(issue(file, `${where}: record at offset ${pos} has a damaged size (${size}); skipped`, id));
      pos = resync(buf, pos + 8, end);
      continue;
    }
    try {
      const elements = parser.parseRecord(pos + 24, pos + size - 4);
      const event = elements.find((element) => element.name === 'Event') ?? elements[0];
      if (!event) throw new BinXmlError('the record holds no element');
      records.push({ chunk: index, id, written: fileTime(buf.readBigUInt64LE(pos + 16)), event });
    } catch (error) {
      if (!(error instanceof BinXmlError) && !(error instanceof RangeError)) throw error;
      report(issue(file, `${where}: record ${id} could not be decoded (${error.message}); skipped`, id));
    }
    lastId = id;
    pos += size;
  }
  return records;
}

/** The next offset holding a record signature (records are 8-byte aligned), or the end. */
function resync(buf: Buffer, from: number, end: number): number {
  for (let pos = from + ((8 - (from % 8)) % 8); pos + 28 <= end; pos += 8) {
    if (buf.readUInt32LE(pos) === RECORD_SIGNATURE) return pos;
  }
  return end;
}

/** A record as Vigil's event: fields by their Sigma names, the nested form kept as `raw`. */
export function recordToEvent(record: EvtxRecord, file: string): LogEvent {
  const json = elementToJson(record.event);
  const eventObject = (
    json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {}
  ) as Record<string, FieldValue>;
  const fields = eventObject.System ? flattenWindowsEvent(eventObject) : {};
  const time = parseTimestamp(fields.TimeCreated) ?? parseTimestamp(record.written);
  // The record as Windows numbers it (System/EventRecordID); the chunk's own number otherwise.
  const number = typeof fields.EventRecordID === 'number' ? fields.EventRecordID : record.id;
  return { fields, raw: { Event: eventObject }, source: { file, record: number }, time };
}

export interface EvtxReadOptions {
  onError?: IssueSink;
  onProgress?: (bytes: number) => void;
  /** Told once the file header is read. */
  onHeader?: (header: EvtxFileHeader) => void;
}

/**
 * Streams the chunks of an EVTX file: the header first, then each 64 KiB chunk, whatever count
 * the header claims (it can be stale). Memory stays at one chunk whatever the file size.
 *
 * Reads are synchronous. Parsing is the slow part, not the disk, and every asynchronous read
 * waits for a turn of the event loop: over a folder of small files those waits added a third
 * to a whole hunt. A 64 KiB read from the page cache takes microseconds.
 */
export async function* readEvtxChunks(
  file: string,
  options: EvtxReadOptions = {},
): AsyncGenerator<{ index: number; buf: Buffer; header: EvtxFileHeader }> {
  const report = options.onError ?? (() => {});
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    report(new VigilError('FILE_UNREADABLE', `cannot read log file: ${(error as Error).message}`, { file }));
    return;
  }
  try {
    const headerBuf = Buffer.alloc(FILE_HEADER_SIZE);
    const headerBytes = readSync(fd, headerBuf, 0, FILE_HEADER_SIZE, 0);
    let header: EvtxFileHeader;
    try {
      header = parseFileHeader(headerBuf.subarray(0, headerBytes), file, report);
    } catch (error) {
      if (error instanceof VigilError) {
        report(error);
        return;
      }
      throw error;
    }
    options.onHeader?.(header);
    let position = FILE_HEADER_SIZE;
    for (let index = 0; ; index++) {
      const buf = Buffer.allocUnsafe(CHUNK_SIZE);
      const got = readSync(fd, buf, 0, CHUNK_SIZE, position);
      if (got === 0) break;
      if (got < CHUNK_SIZE)
        report(issue(file, `chunk ${index}: the file ends after ${got} of ${CHUNK_SIZE} bytes (truncated)`));
      position += got;
      options.onProgress?.(position);
      yield { index, buf: got < CHUNK_SIZE ? buf.subarray(0, got) : buf, header };
      if (got < CHUNK_SIZE) break;
    }
  } finally {
    closeSync(fd);
  }
}

/** Every record of an EVTX file, as events. */
export async function* readEvtxEvents(file: string, options: EvtxReadOptions = {}): AsyncGenerator<LogEvent> {
  const report = options.onError ?? (() => {});
  for await (const { index, buf } of readEvtxChunks(file, options)) {
    for (const record of parseChunk(buf, index, file, report)) yield recordToEvent(record, file);
  }
}
