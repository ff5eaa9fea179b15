import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { type FileHandle, open, readFile, rename, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { VigilError } from '../core/index.js';
import {
  type EventLog,
  type LogRecord,
  type NewRecord,
  parseRecordLine,
  type RetentionPolicy,
  type RetentionResult,
  recordLine,
} from './event-log.js';

const gzipAsync = promisify(gzip);
/** Sealed segments are compressed fast rather than small: JSON logs shrink several times even so, and the CPU goes to detection. */
const GZIP_LEVEL = 1;

/** A segment is sealed (and compressed) once it grows past this. */
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** How much of the newest events a tenant's log keeps in memory for detection to read. */
const RECENT_BYTES = 64 * 1024 * 1024;
/** Every this many records of an uncompressed segment, its byte offset is remembered. */
const INDEX_EVERY = 256;
const SEGMENT_NAME = /^(\d{16})\.jsonl(\.gz)?$/;

interface Segment {
  /** Position of its first record. */
  first: number;
  path: string;
  compressed: boolean;
  bytes: number;
  /** When it was last written (its newest record's arrival, near enough). */
  modified: number;
  /** No more appends: it waits to be, or has been, compressed. */
  sealed: boolean;
  /** Uncompressed segments: [seq, byte offset] every INDEX_EVERY records, from the first. */
  index?: [number, number][];
}

interface Pending {
  records: readonly NewRecord[];
  resolve: (positions: number[]) => void;
  reject: (error: Error) => void;
}

const RECORD_START = Buffer.from('{"seq":');

/** The position a record line starts with, read from its bytes (undefined when it is not one of ours). */
function leadingSeq(data: Buffer, lineStart: number): number | undefined {
  if (data.compare(RECORD_START, 0, RECORD_START.length, lineStart, lineStart + RECORD_START.length) !== 0)
    return undefined;
  let seq = 0;
  let i = lineStart + RECORD_START.length;
  const first = i;
  for (let digit = data[i]! - 0x30; digit >= 0 && digit <= 9; digit = data[++i]! - 0x30)
    seq = seq * 10 + digit;
  return i > first && data[i] === 0x2c ? seq : undefined;
}

function segmentPath(dir: string, first: number, compressed: boolean): string {
  return join(dir, `${String(first).padStart(16, '0')}.jsonl${compressed ? '.gz' : ''}`);
}

/** Makes a new or renamed file in `dir` survive a crash: the folder's entry is what is synced. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * One tenant's log: numbered segment files, the newest one appended to, older ones gzipped.
 * Appends wait in a queue and are written and synced together (group commit), so many small
 * requests cost one sync between them.
 */
class TenantLog {
  segments: Segment[] = [];
  head = 0;
  private handle: FileHandle | undefined;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  /** Sealing in the background; awaited on close. */
  private sealing = new Set<Promise<void>>();
  /** The last compressed segment read, decompressed (retro-hunts read one segment after another). */
  private inflated: { first: number; lines: string[] } | undefined;
  /**
   * The newest records written, still in memory: detection, when it keeps up, reads what was just
   * appended from here instead of from the file. `recentFirst` is the position of `recent[0]`.
   */
  private recent: LogRecord[] = [];
  private recentFirst = 1;
  private recentBytes = 0;

  constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    /** A reader beside the running service: it changes nothing on disk. */
    private readonly readOnly = false,
    /** Told after each write that made the log longer. */
    private readonly grew: () => void = () => undefined,
  ) {
    if (!readOnly) mkdirSync(dir, { recursive: true });
    this.recover();
  }

  /**
   * Reads the folder back after a stop or a crash: an unfinished last line (the write that was
   * under way, never acknowledged) is cut off; a segment found both plain and compressed was being
   * sealed, and the plain one is the copy to drop only if the compressed one is complete.
   */
  private recover(): void {
    const byFirst = new Map<number, { plain?: string; gz?: string }>();
    for (const name of readdirSync(this.dir)) {
      const match = SEGMENT_NAME.exec(name);
      if (!match) continue;
      const first = Number(match[1]);
      const entry = byFirst.get(first) ?? {};
      if (match[2]) entry.gz = name;
      else entry.plain = name;
      byFirst.set(first, entry);
    }
    const firsts = [...byFirst.keys()].sort((a, b) => a - b);
    for (const first of firsts) {
      const entry = byFirst.get(first)!;
      if (entry.gz && entry.plain) {
        // Sealing was under way. The compressed copy is renamed into place whole, so it is the one to keep.
        if (!this.readOnly) unlinkSync(join(this.dir, entry.plain));
        entry.plain = undefined;
      }
      const compressed = entry.plain === undefined;
      const path = join(this.dir, compressed ? entry.gz! : entry.plain!);
      const stats = statSync(path);
      this.segments.push({
        first,
        path,
        compressed,
        bytes: stats.size,
        modified: stats.mtimeMs,
        sealed: compressed || first !== firsts.at(-1),
      });
    }
    const last = this.segments.at(-1);
    if (!last) return;
    if (!last.compressed && !this.readOnly) this.cutTornWrite(last);
    let head = last.first - 1;
    for (const line of this.segmentLines(last)) {
      const record = parseRecordLine(line);
      if (record) head = record.seq;
    }
    this.head = head;
    // Segments a crash left sealed but plain are compressed now.
    for (const segment of this.segments)
      if (segment.sealed && !segment.compressed) this.startCompressing(segment);
  }

  /** An unfinished last line is a write that was under way and never acknowledged: cut it off. */
  private cutTornWrite(segment: Segment): void {
    const data = readFileSync(segment.path);
    const complete = data.lastIndexOf(0x0a) + 1;
    if (complete === data.length) return;
    const fd = openSync(segment.path, 'r+');
    try {
      ftruncateSync(fd, complete);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    segment.bytes = complete;
  }

  private segmentLines(segment: Segment): string[] {
    if (segment.compressed) {
      if (this.inflated?.first !== segment.first) {
        const text = gunzipSync(readFileSync(segment.path)).toString('utf8');
        this.inflated = { first: segment.first, lines: text.split('\n') };
      }
      return this.inflated.lines;
    }
    const text = readFileSync(segment.path, 'utf8');
    const complete = text.lastIndexOf('\n') + 1;
    return text.slice(0, complete).split('\n').slice(0, -1);
  }

  append(records: readonly NewRecord[]): Promise<number[]> {
    if (this.readOnly) return Promise.reject(new Error('this event log was opened read-only'));
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // Appends that came while the last write was finishing found a flush under way: start one for them.
      if (this.queue.length) this.kick();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0);
      const firstSeq = this.head + 1;
      let seq = this.head;
      const positions: number[][] = [];
      const parts: string[] = [];
      const offsets: number[] = [];
      let bytes = 0;
      const written: LogRecord[] = [];
      for (const pending of batch) {
        const given: number[] = [];
        for (const record of pending.records) {
          const full = { ...record, seq: ++seq };
          given.push(seq);
          written.push(full);
          const line = recordLine(full);
          offsets.push(bytes);
          parts.push(line);
          bytes += Buffer.byteLength(line);
        }
        positions.push(given);
      }
      try {
        const segment = await this.activeSegment(firstSeq);
        const start = segment.bytes;
        const data = Buffer.from(parts.join(''));
        try {
          await this.handle!.write(data, 0, data.length, start);
          await this.handle!.datasync();
        } catch (error) {
          // Take back what may have been written, so the next write starts on a whole line.
          await this.handle!.truncate(start).catch(() => undefined);
          throw error;
        }
        segment.bytes += data.length;
        segment.modified = Date.now();
        for (let i = 0; i < offsets.length; i++) {
          const recordSeq = firstSeq + i;
          if ((recordSeq - segment.first) % INDEX_EVERY === 0)
            segment.index?.push([recordSeq, start + offsets[i]!]);
        }
        this.head = seq;
        this.remember(written, bytes);
        for (const [i, pending] of batch.entries()) pending.resolve(positions[i]!);
        if (written.length) this.grew();
      } catch (error) {
        const failure = new VigilError(
          'EVENT_LOG_WRITE',
          `cannot write the event log: ${(error as Error).message}`,
          {
            file: this.dir,
          },
        );
        for (const pending of batch) pending.reject(failure);
        continue;
      }
      const active = this.segments.at(-1)!;
      // Sealing is housekeeping: what was written is durable whatever happens to it.
      if (active.bytes >= this.segmentBytes) await this.seal().catch(() => undefined);
    }
  }

  private async activeSegment(firstSeq: number): Promise<Segment> {
    const last = this.segments.at(-1);
    if (last && !last.sealed) {
      if (!this.handle) {
        this.handle = await open(last.path, 'r+');
        last.index ??= this.buildIndex(last);
      }
      return last;
    }
    const segment: Segment = {
      first: firstSeq,
      path: segmentPath(this.dir, firstSeq, false),
      compressed: false,
      bytes: 0,
      modified: Date.now(),
      sealed: false,
      index: [],
    };
    this.handle = await open(segment.path, 'w+');
    syncDir(this.dir);
    this.segments.push(segment);
    return segment;
  }

  private buildIndex(segment: Segment): [number, number][] {
    const index: [number, number][] = [];
    const text = readFileSync(segment.path);
    let offset = 0;
    let n = 0;
    while (offset < text.length) {
      const end = text.indexOf(0x0a, offset);
      if (end < 0) break;
      if (n % INDEX_EVERY === 0) index.push([segment.first + n, offset]);
      n++;
      offset = end + 1;
    }
    return index;
  }

  /** Closes the active segment and compresses it in the background; the next append starts a new one. */
  private async seal(): Promise<void> {
    const segment = this.segments.at(-1)!;
    await this.handle?.close();
    this.handle = undefined;
    segment.sealed = true;
    this.startCompressing(segment);
  }

  private startCompressing(segment: Segment): void {
    const sealing = this.compress(segment).catch(() => {
      // It stays plain and readable; the next start tries again.
    });
    this.sealing.add(sealing);
    void sealing.finally(() => this.sealing.delete(sealing));
  }

  private async compress(segment: Segment): Promise<void> {
    const plain = segment.path;
    const gzPath = segmentPath(this.dir, segment.first, true);
    const tmp = `${gzPath}.tmp`;
    const data = await gzipAsync(await readFile(plain), { level: GZIP_LEVEL });
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, gzPath);
    syncDir(this.dir);
    await utimes(gzPath, segment.modified / 1000, segment.modified / 1000);
    segment.path = gzPath;
    segment.compressed = true;
    segment.bytes = data.length;
    segment.index = undefined;
    await unlink(plain);
  }

  /** Keeps the records just written in memory, dropping the oldest past the budget. */
  private remember(records: LogRecord[], bytes: number): void {
    if (this.recent.length === 0 || this.recentFirst + this.recent.length !== records[0]!.seq) {
      this.recent = [];
      this.recentFirst = records[0]!.seq;
      this.recentBytes = 0;
    }
    for (const record of records) this.recent.push(record);
    this.recentBytes += bytes;
    if (this.recentBytes > RECENT_BYTES) {
      // Drop about half: trimming seldom keeps it cheap.
      const drop = Math.floor(this.recent.length / 2);
      this.recent = this.recent.slice(drop);
      this.recentFirst += drop;
      this.recentBytes = Math.floor(this.recentBytes / 2);
    }
  }

  read(from: number, max: number): LogRecord[] {
    if (from >= this.recentFirst && from < this.recentFirst + this.recent.length) {
      const start = from - this.recentFirst;
      return this.recent.slice(start, start + max);
    }
    const out: LogRecord[] = [];
    let position = Math.max(from, this.segments[0]?.first ?? 1);
    while (out.length < max && position <= this.head) {
      const i = this.segmentOf(position);
      if (i < 0) break;
      const segment = this.segments[i]!;
      const before = out.length;
      this.readSegment(segment, position, max, out);
      if (out.length === before) {
        // Nothing more in this segment: go on with the next one.
        const next = this.segments[i + 1];
        if (!next) break;
        position = next.first;
      } else {
        position = out.at(-1)!.seq + 1;
      }
    }
    return out;
  }

  private segmentOf(seq: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segments[mid]!.first <= seq) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Adds the segment's records from position `from` on to `out`, until `out` holds `max`. */
  private readSegment(segment: Segment, from: number, max: number, out: LogRecord[]): void {
    if (segment.compressed) {
      this.readInflated(segment, from, max, out);
      return;
    }
    segment.index ??= this.buildIndex(segment);
    let start = 0;
    for (const [seq, offset] of segment.index) {
      if (seq > from) break;
      start = offset;
    }
    const fd = this.openPlain(segment);
    if (fd === undefined) {
      this.readSegment(segment, from, max, out);
      return;
    }
    try {
      const chunk = Buffer.allocUnsafe(1 << 20);
      let carry = Buffer.alloc(0);
      let offset = start;
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, offset);
        if (n === 0) return;
        offset += n;
        // Lines are cut at newline bytes only, so no character is ever split between two reads.
        const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        let lineStart = 0;
        for (;;) {
          const lineEnd = data.indexOf(0x0a, lineStart);
          if (lineEnd < 0) break;
          // Only the lines asked for are decoded: those before `from` are known by their head's bytes.
          const seq = leadingSeq(data, lineStart);
          if (seq === undefined || seq >= from) {
            const record = parseRecordLine(data.toString('utf8', lineStart, lineEnd));
            if (record && record.seq >= from) {
              out.push(record);
              if (out.length >= max) return;
            }
          }
          lineStart = lineEnd + 1;
        }
        carry = Buffer.from(data.subarray(lineStart));
      }
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Records of a compressed segment, from its decompressed lines. Positions within a segment follow
   * one another, so the line of `from` is found by counting; it is checked, and should the file
   * say otherwise, looked for from the segment's start.
   */
  private readInflated(segment: Segment, from: number, max: number, out: LogRecord[]): void {
    const lines = this.segmentLines(segment);
    const guess = from - segment.first;
    const there = guess > 0 && lines[guess] ? parseRecordLine(lines[guess]) : undefined;
    for (let i = there?.seq === from ? guess : 0; i < lines.length && out.length < max; i++) {
      const record = lines[i] ? parseRecordLine(lines[i]!) : undefined;
      if (record && record.seq >= from) out.push(record);
    }
  }

  /** The plain file of a segment, or undefined when it was compressed meanwhile (then read that). */
  private openPlain(segment: Segment): number | undefined {
    try {
      return openSync(segment.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Compressed meanwhile, by this log or (read-only) by the service: read the compressed copy.
      const gzPath = segmentPath(this.dir, segment.first, true);
      if (!segment.compressed && statSync(gzPath, { throwIfNoEntry: false })) {
        segment.path = gzPath;
        segment.compressed = true;
        segment.index = undefined;
      }
      if (segment.compressed) return undefined;
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.flushing;
    await Promise.all(this.sealing);
    await this.handle?.close();
    this.handle = undefined;
  }

  /** Removes whole sealed segments from the oldest on, while the policy asks and `keepFrom` allows. */
  async applyRetention(policy: RetentionPolicy, keepFrom: number, now: number): Promise<RetentionResult> {
    let removedEvents = 0;
    let removedBytes = 0;
    let total = this.segments.reduce((sum, s) => sum + s.bytes, 0);
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const next = this.segments[1]!;
      // A segment still being compressed, or holding events not yet processed, stays.
      if (!oldest.compressed || next.first > keepFrom) break;
      const tooOld = policy.maxAgeMs !== undefined && now - oldest.modified > policy.maxAgeMs;
      const tooBig = policy.maxBytes !== undefined && total > policy.maxBytes;
      if (!tooOld && !tooBig) break;
      await unlink(oldest.path);
      this.segments.shift();
      if (this.inflated?.first === oldest.first) this.inflated = undefined;
      removedEvents += next.first - oldest.first;
      removedBytes += oldest.bytes;
      total -= oldest.bytes;
    }
    return { removedEvents, removedBytes, firstSeq: this.tail };
  }

  get tail(): number {
    return this.segments[0]?.first ?? this.head + 1;
  }

  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }
}

export interface FileEventLogOptions {
  /** Segments are sealed and compressed past this size (default 64 MiB). */
  segmentBytes?: number;
  /** Read beside a running service (a retro-hunt): nothing on disk is changed. */
  readOnly?: boolean;
}

/** The embedded event log: a folder per tenant under `dir`. */
export class FileEventLog implements EventLog {
  private readonly logs = new Map<string, TenantLog>();
  private readonly growthListeners = new Set<(tenant: string) => void>();
  private readonly segmentBytes: number;
  private readonly readOnly: boolean;

  constructor(
    private readonly dir: string,
    options: FileEventLogOptions = {},
  ) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.readOnly = options.readOnly ?? false;
    if (!this.readOnly) mkdirSync(dir, { recursive: true });
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      if (name.isDirectory()) this.log(name.name);
    }
  }

  private log(tenant: string): TenantLog {
    let log = this.logs.get(tenant);
    if (!log) {
      log = new TenantLog(join(this.dir, tenant), this.segmentBytes, this.readOnly, () => {
        for (const listener of this.growthListeners) listener(tenant);
      });
      this.logs.set(tenant, log);
    }
    return log;
  }

  append(tenant: string, records: readonly NewRecord[]): Promise<number[]> {
    return this.log(tenant).append(records);
  }

  /** Only this process appends to these files, so growth is told as each write completes. */
  onGrowth(listener: (tenant: string) => void): () => void {
    this.growthListeners.add(listener);
    return () => this.growthListeners.delete(listener);
  }

  async read(tenant: string, from: number, max: number): Promise<LogRecord[]> {
    return this.logs.get(tenant)?.read(from, max) ?? [];
  }

  head(tenant: string): number {
    return this.logs.get(tenant)?.head ?? 0;
  }

  tail(tenant: string): number {
    return this.logs.get(tenant)?.tail ?? 1;
  }

  tenants(): string[] {
    return [...this.logs.keys()];
  }

  size(tenant: string): number {
    return this.logs.get(tenant)?.bytes ?? 0;
  }

  async applyRetention(
    tenant: string,
    policy: RetentionPolicy,
    keepFrom: number,
    now = Date.now(),
  ): Promise<RetentionResult> {
    const log = this.logs.get(tenant);
    if (!log) return { removedEvents: 0, removedBytes: 0, firstSeq: 1 };
    return log.applyRetention(policy, keepFrom, now);
  }

  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.close()));
  }
}
