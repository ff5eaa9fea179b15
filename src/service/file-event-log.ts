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
  type RecordLines,
  type RetentionPolicy,
  type RetentionResult,
  recordHead,
  recordLineSeq,
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

/**
 * Record lines in one buffer: those of one write (kept in memory for detection) or of one
 * decompressed segment. Positions within it follow one another from `first`; line i spans
 * `starts[i]` up to the newline before `starts[i + 1]`.
 */
interface LineChunk {
  first: number;
  data: Buffer;
  starts: number[];
}

/** The whole lines of `data` as a chunk (bytes after the last newline are not a line yet). */
function chunkOf(first: number, data: Buffer): LineChunk {
  const starts = [0];
  for (let end = data.indexOf(0x0a); end >= 0; end = data.indexOf(0x0a, end + 1)) starts.push(end + 1);
  return { first, data, starts };
}

/**
 * Lines gathered for a read, copied one run at a time into one growing buffer of their own
 * (separated by newlines, none after the last), so that what they were read from can be reused.
 */
class LineBuffer {
  bytes: Buffer;
  length = 0;
  count = 0;
  last = 0;

  constructor(
    readonly max: number,
    capacity: number,
  ) {
    this.bytes = Buffer.allocUnsafeSlow(Math.max(capacity, 1));
  }

  get full(): boolean {
    return this.count >= this.max;
  }

  /** Adds `lines` lines, `source[start, end)` (newlines between them, none after), the last at position `last`. */
  add(source: Buffer, start: number, end: number, lines: number, last: number): void {
    const needed = this.length + 1 + (end - start);
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    if (this.count > 0) this.bytes[this.length++] = 0x0a;
    this.length += source.copy(this.bytes, this.length, start, end);
    this.count += lines;
    this.last = last;
  }

  /** Each line, decoded. */
  *texts(): Generator<string> {
    for (let start = 0; start < this.length; ) {
      let end = this.bytes.indexOf(0x0a, start);
      if (end < 0 || end > this.length) end = this.length;
      yield this.bytes.toString('utf8', start, end);
      start = end + 1;
    }
  }
}

/**
 * Adds the lines of `data` between the offsets `starts[first]` and `starts[last + 1]` whose
 * position is `from` or later, until `out` is full: each unbroken run of them in one copy.
 * Returns whether `out` is full.
 */
function gatherLines(
  data: Buffer,
  starts: readonly number[],
  first: number,
  count: number,
  from: number,
  out: LineBuffer,
): boolean {
  let runStart = -1;
  let runLines = 0;
  let runLast = 0;
  const flush = (end: number) => {
    if (runLines > 0) out.add(data, starts[runStart]!, end - 1, runLines, runLast);
    runStart = -1;
    runLines = 0;
  };
  for (let i = first; i < first + count; i++) {
    const seq = recordLineSeq(data, starts[i]!);
    if (seq === undefined || seq < from) {
      flush(starts[i]!);
      continue;
    }
    if (runStart < 0) runStart = i;
    runLines++;
    runLast = seq;
    if (out.count + runLines >= out.max) {
      flush(starts[i + 1]!);
      return true;
    }
  }
  flush(starts[first + count]!);
  return out.full;
}

/** Adds a chunk's lines from position `from` on to `out`, until it is full. */
function gatherChunk(chunk: LineChunk, from: number, out: LineBuffer): void {
  const count = chunk.starts.length - 1;
  const guess = from - chunk.first;
  // Found by counting; should the line there say otherwise, looked for from the chunk's start.
  const start =
    guess >= 0 && guess < count && recordLineSeq(chunk.data, chunk.starts[guess]!) === from ? guess : 0;
  gatherLines(chunk.data, chunk.starts, start, count - start, from, out);
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
  private inflated: LineChunk | undefined;
  /**
   * The newest writes, still in memory as the bytes written: detection, when it keeps up, reads
   * what was just appended from here instead of from the file. They run without a gap to `head`.
   */
  private recent: LineChunk[] = [];
  private recentBytes = 0;
  /** What plain segments are read into (the lines wanted are copied out of it). */
  private scratch = Buffer.allocUnsafeSlow(1 << 20);

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
    // The head is the last line that reads as a record.
    const lines = this.segmentChunk(last);
    this.head = last.first - 1;
    for (let i = lines.starts.length - 2; i >= 0; i--) {
      const record = parseRecordLine(lines.data.toString('utf8', lines.starts[i], lines.starts[i + 1]! - 1));
      if (record) {
        this.head = record.seq;
        break;
      }
    }
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

  /** A segment's whole lines (a compressed one decompressed, and kept for the next read). */
  private segmentChunk(segment: Segment): LineChunk {
    if (!segment.compressed) return chunkOf(segment.first, readFileSync(segment.path));
    if (this.inflated?.first !== segment.first)
      this.inflated = chunkOf(segment.first, gunzipSync(readFileSync(segment.path)));
    return this.inflated;
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
      // Each line is written straight into the one buffer of the write: head, event, end.
      const heads: string[] = [];
      const events: (string | Uint8Array)[] = [];
      let bytes = 0;
      for (const pending of batch) {
        const given: number[] = [];
        for (const record of pending.records) {
          given.push(++seq);
          const head = recordHead(record, seq);
          heads.push(head);
          events.push(record.event);
          bytes += Buffer.byteLength(head) + Buffer.byteLength(record.event) + 2;
        }
        positions.push(given);
      }
      const data = Buffer.allocUnsafe(bytes);
      const starts: number[] = [];
      let offset = 0;
      for (let i = 0; i < heads.length; i++) {
        starts.push(offset);
        offset += data.write(heads[i]!, offset);
        const event = events[i]!;
        if (typeof event === 'string') offset += data.write(event, offset);
        else {
          data.set(event, offset);
          offset += event.length;
        }
        offset += data.write('}\n', offset);
      }
      starts.push(offset);
      try {
        const segment = await this.activeSegment(firstSeq);
        const start = segment.bytes;
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
        for (let i = 0; i < heads.length; i++) {
          const recordSeq = firstSeq + i;
          if ((recordSeq - segment.first) % INDEX_EVERY === 0)
            segment.index?.push([recordSeq, start + starts[i]!]);
        }
        this.head = seq;
        this.remember({ first: firstSeq, data, starts });
        for (const [i, pending] of batch.entries()) pending.resolve(positions[i]!);
        if (heads.length) this.grew();
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

  /** Keeps the lines just written in memory, dropping the oldest writes past the budget. */
  private remember(written: LineChunk): void {
    const last = this.recent.at(-1);
    if (last && last.first + last.starts.length - 1 !== written.first) {
      this.recent = [];
      this.recentBytes = 0;
    }
    this.recent.push(written);
    this.recentBytes += written.data.length;
    while (this.recentBytes > RECENT_BYTES && this.recent.length > 1)
      this.recentBytes -= this.recent.shift()!.data.length;
  }

  read(from: number, max: number): LogRecord[] {
    const out: LogRecord[] = [];
    for (const line of this.gather(from, max).texts()) {
      const record = parseRecordLine(line);
      if (record) out.push(record);
    }
    return out;
  }

  /** The records of `read` as their lines, in a buffer of their own (to be handed to a thread). */
  readLines(from: number, max: number): RecordLines {
    const gathered = this.gather(from, max);
    return {
      lines: new Uint8Array(gathered.bytes.buffer, 0, gathered.length),
      count: gathered.count,
      last: gathered.last,
    };
  }

  /** Up to `max` lines from position `from` on: from memory when the writes there are still kept, else from the files. */
  private gather(from: number, max: number): LineBuffer {
    // Sized for the lines of the newest writes, the likeliest to be asked for.
    const newest = this.recent.at(-1);
    const lineBytes = newest ? newest.data.length / (newest.starts.length - 1) : 1024;
    const out = new LineBuffer(max, Math.ceil(lineBytes * max * 1.1));
    const kept = this.recent.findIndex((chunk) => from < chunk.first + chunk.starts.length - 1);
    if (kept >= 0 && from >= this.recent[0]!.first) {
      for (let i = kept; i < this.recent.length && !out.full; i++) gatherChunk(this.recent[i]!, from, out);
      return out;
    }
    let position = Math.max(from, this.segments[0]?.first ?? 1);
    while (!out.full && position <= this.head) {
      const i = this.segmentOf(position);
      if (i < 0) break;
      const segment = this.segments[i]!;
      const before = out.count;
      this.gatherSegment(segment, position, out);
      if (out.count === before) {
        // Nothing more in this segment: go on with the next one.
        const next = this.segments[i + 1];
        if (!next) break;
        position = next.first;
      } else {
        position = out.last + 1;
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

  /** Adds the segment's lines from position `from` on to `out`, until it is full. */
  private gatherSegment(segment: Segment, from: number, out: LineBuffer): void {
    if (segment.compressed) {
      gatherChunk(this.segmentChunk(segment), from, out);
      return;
    }
    segment.index ??= this.buildIndex(segment);
    let offset = 0;
    for (const [seq, at] of segment.index) {
      if (seq > from) break;
      offset = at;
    }
    const fd = this.openPlain(segment);
    if (fd === undefined) {
      this.gatherSegment(segment, from, out);
      return;
    }
    try {
      // Bytes of a line not yet whole are kept at the start for the next read.
      let carried = 0;
      for (;;) {
        if (carried === this.scratch.length) {
          // One line longer than the buffer: a larger one.
          const larger = Buffer.allocUnsafeSlow(this.scratch.length * 2);
          this.scratch.copy(larger, 0, 0, carried);
          this.scratch = larger;
        }
        const n = readSync(fd, this.scratch, carried, this.scratch.length - carried, offset);
        if (n === 0) return;
        offset += n;
        const data = this.scratch.subarray(0, carried + n);
        // Lines are cut at newline bytes only, so no character is ever split between two reads.
        const starts = [0];
        for (let end = data.indexOf(0x0a); end >= 0; end = data.indexOf(0x0a, end + 1)) starts.push(end + 1);
        const whole = starts.length - 1;
        if (whole > 0 && gatherLines(data, starts, 0, whole, from, out)) return;
        carried = data.length - starts[whole]!;
        data.copy(this.scratch, 0, starts[whole]!);
      }
    } finally {
      closeSync(fd);
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

  async readLines(tenant: string, from: number, max: number): Promise<RecordLines> {
    return this.logs.get(tenant)?.readLines(from, max) ?? { lines: new Uint8Array(0), count: 0, last: 0 };
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
