import { existsSync, readdirSync, statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { describeError, type LogEvent } from '../core/index.js';
import {
  type AssembledRecord,
  detectFormat,
  type LogFormat,
  parseTextRecord,
  readEvtxEvents,
  readJsonEvents,
  type TextContext,
  type TextFormat,
  TextRecordAssembler,
} from '../logs/index.js';
import type { EventLog } from './event-log.js';
import { Backpressure, type DetectionService, type IncomingEvent } from './service.js';
import type { ServiceStore, WatchPosition } from './store.js';

const POLL_MS = 2000;
/** Events written to the log at a time. */
const BATCH = 5000;
/** How many of a tenant's newest events are searched, at start, for positions newer than the store's. */
const RECOVERY_WINDOW = 4 * BATCH;
const LINE_FILES = new Set(['.jsonl', '.ndjson']);
const WHOLE_FILES = new Set(['.json', '.evtx']);
/**
 * Text logs, taken as they grow, their format told by their content: `.log`, `.csv`, and files
 * without an extension (`messages`, `secure`, `access_log`, `mainlog`).
 */
const TEXT_FILES = new Set(['.log', '.csv', '']);

/** `watch:PATH@POSITION`: each event says how far into its file it reached (a byte offset, or `rN` an EVTX record). */
function sourceOf(path: string, position: string): string {
  return `watch:${path}@${position}`;
}

const WATCH_SOURCE = /^watch:(.*)@(r?)(\d+)$/;

/**
 * A folder of log files taken in as they appear or grow: `.jsonl`/`.ndjson` line by line from
 * where reading stopped, text logs of every format the readers know (syslog, auditd, access logs,
 * W3C/IIS, Zeek TSV, Squid, Exim, Exchange message tracking, CSV; JSON lines in a `.log`) record by
 * record likewise, `.evtx` by the records not read yet, `.json` once, whole, when it has stopped
 * changing. Positions survive restarts: they are stored after each write, and since each
 * event written names its file and position, a crash between the two is mended at start from the
 * event log itself, so every line and record is taken exactly once. A file replaced under the
 * same name (rotation) or cut shorter is read again from its start. The header a text log's
 * records are read with (Zeek's `#fields`, W3C's `#Fields:`, a CSV's first line) is read again
 * from the file's start after a restart.
 */
export class FolderWatch {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly dir: string;
  /** Whole files seen with this size at the last poll: read once the size holds still. */
  private readonly settling = new Map<string, number>();
  files = 0;
  events = 0;

  constructor(
    private readonly service: DetectionService,
    private readonly store: ServiceStore,
    private readonly log: EventLog,
    dir: string,
    private readonly tenant: string,
  ) {
    this.dir = resolve(dir);
  }

  async start(): Promise<void> {
    if (!existsSync(this.dir)) throw new Error(`${this.dir}: no such folder to watch`);
    await this.recover();
    await this.poll();
    this.timer = setInterval(() => {
      this.polling = this.polling.then(() => this.poll());
    }, POLL_MS);
    this.timer.unref();
  }

  /** Positions the log holds beyond what the store says (a crash came between the two writes). */
  private async recover(): Promise<void> {
    const head = this.log.head(this.tenant);
    if (head === 0) return;
    const from = Math.max(this.log.tail(this.tenant), head - RECOVERY_WINDOW + 1);
    const newest = new Map<string, { offset: number; record: number }>();
    for (let seq = from; seq <= head; ) {
      const records = await this.log.read(this.tenant, seq, BATCH);
      if (records.length === 0) break;
      for (const record of records) {
        const match = WATCH_SOURCE.exec(record.source);
        if (!match || !match[1]!.startsWith(this.dir)) continue;
        const position = newest.get(match[1]!) ?? { offset: 0, record: 0 };
        if (match[2]) position.record = Math.max(position.record, Number(match[3]));
        else position.offset = Math.max(position.offset, Number(match[3]));
        newest.set(match[1]!, position);
      }
      seq = records.at(-1)!.seq + 1;
    }
    for (const [path, found] of newest) {
      const stored = await this.store.watchPosition(path);
      if (stored && (found.offset > stored.offset || found.record > stored.record)) {
        await this.store.saveWatchPosition({
          ...stored,
          offset: Math.max(found.offset, stored.offset),
          record: Math.max(found.record, stored.record),
        });
      }
    }
  }

  private files_(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.isFile()) {
          const ext = extname(entry.name).toLowerCase();
          if (LINE_FILES.has(ext) || WHOLE_FILES.has(ext) || TEXT_FILES.has(ext)) out.push(path);
        }
      }
    };
    walk(this.dir);
    return out.sort();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    let paths: string[];
    try {
      paths = this.files_();
    } catch (error) {
      this.service.options.log(`watch ${this.dir}: cannot list the folder: ${describeError(error)}`);
      return;
    }
    for (const path of paths) {
      if (this.stopped) return;
      try {
        await this.take(path);
      } catch (error) {
        if (error instanceof Backpressure) return; // the next poll goes on where this one stopped
        this.service.options.log(`watch ${path}: ${describeError(error)}`);
      }
    }
  }

  private async take(path: string): Promise<void> {
    const stats = statSync(path);
    const identity = `${stats.dev}:${stats.ino}`;
    let position = await this.store.watchPosition(path);
    if (!position || position.identity !== identity || stats.size < position.offset) {
      // New, replaced (rotated) or cut shorter: from its start.
      position = { path, tenant: this.tenant, identity, offset: 0, record: 0 };
    }
    const ext = extname(path).toLowerCase();
    if (LINE_FILES.has(ext)) {
      if (stats.size > position.offset)
        await this.takeLines(path, position, stats.size, jsonLine(path, this.service));
      return;
    }
    if (TEXT_FILES.has(ext)) {
      if (stats.size <= position.offset) return;
      const format = await this.textFormat(path);
      if (format === 'json') await this.takeLines(path, position, stats.size, jsonLine(path, this.service));
      else if (format) await this.takeText(path, position, stats.size, format);
      return;
    }
    if (position.offset === stats.size) return;
    // Whole files are read once they stop changing (a copy under way is not half read).
    if (this.settling.get(path) !== stats.size) {
      this.settling.set(path, stats.size);
      return;
    }
    this.settling.delete(path);
    if (ext === '.evtx') await this.takeEvtx(path, position, stats.size);
    else await this.takeJson(path, position, stats.size);
  }

  /** Formats of the text logs seen, and those already said not to be taken (told once). */
  private readonly formats = new Map<string, TextFormat | 'json' | undefined>();

  /** The format a text log is taken in, from its content; a log of no known format is told once. */
  private async textFormat(path: string): Promise<TextFormat | 'json' | undefined> {
    if (this.formats.has(path)) return this.formats.get(path);
    const format: LogFormat | undefined = await detectFormat(path);
    const taken = format === 'evtx' ? undefined : format;
    if (!taken)
      this.service.options.log(
        `watch ${path}: ${format ? `${format} files are read whole, by name (.evtx)` : 'a log of no known format'}; not taken`,
      );
    this.formats.set(path, taken);
    return taken;
  }

  /** Where each text log's reading stopped: the header its next records are read with. */
  private readonly contexts = new Map<string, { offset: number; context: TextContext }>();

  /**
   * A text log from where its reading stopped, record by record. The newest audit event is held
   * back until the file has held still for a poll, for its last records may not be written yet.
   */
  private async takeText(path: string, position: WatchPosition, size: number, format: TextFormat) {
    const chunkBytes = 8 << 20;
    const handle = await open(path, 'r');
    try {
      const assembler = new TextRecordAssembler(
        await this.contextAt(handle, path, format, position.offset, chunkBytes),
      );
      assembler.context = { ...assembler.context, receivedAt: Date.now() };
      const events: IncomingEvent[] = [];
      let taken = position.offset;
      // Events written, then the place stored: a refusal (backpressure) leaves nothing taken twice.
      const commit = async () => {
        if (events.length) await this.write(path, position, events.splice(0), taken, 0);
        if (taken !== position.offset) {
          await this.save({ ...position, offset: taken });
          position.offset = taken;
        }
      };
      const take = async (records: AssembledRecord[]) => {
        for (const record of records) {
          const event = textEvent(path, record.text, record.context, record.start, this.service);
          if (event !== undefined) events.push(event);
          taken = record.end;
          if (events.length >= BATCH) await commit();
        }
      };
      let offset = position.offset;
      while (offset < size && !this.stopped) {
        const buffer = Buffer.allocUnsafe(Math.min(size - offset, chunkBytes));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        const data = buffer.subarray(0, bytesRead);
        const end = data.lastIndexOf(0x0a) + 1;
        if (end === 0) {
          // Only whole lines are taken: the writer may be in the middle of the last one.
          if (bytesRead < chunkBytes) break;
          this.service.options.log(`watch ${path}: a line longer than 8 MiB at byte ${offset}; skipped`);
          offset += bytesRead;
          taken = offset;
          continue;
        }
        for (let at = 0; at < end; ) {
          const next = data.indexOf(0x0a, at) + 1 || end;
          await take(assembler.feed(data.toString('utf8', at, next - 1), 0, offset + at, offset + next));
          at = next;
        }
        offset += end;
      }
      // Held back: an audit event whose file has not grown since the last poll is whole.
      if (assembler.heldFrom !== undefined && this.quiet.get(path) === size) await take(assembler.finish());
      this.quiet.set(path, size);
      if (assembler.heldFrom === undefined && offset > taken) taken = offset;
      await commit();
      this.contexts.set(path, { offset: taken, context: assembler.context });
    } finally {
      await handle.close();
    }
  }

  /** Sizes of text logs at the last poll, to know when a held audit event is whole. */
  private readonly quiet = new Map<string, number>();

  /**
   * The header the records at `offset` are read with: kept from the last poll, else read from
   * the file's start (after a restart, the lines before `offset` are gone through, not taken).
   */
  private async contextAt(
    handle: FileHandle,
    path: string,
    format: TextFormat,
    offset: number,
    chunkBytes: number,
  ): Promise<TextContext> {
    const kept = this.contexts.get(path);
    if (kept && kept.offset === offset && kept.context.format === format) return kept.context;
    const assembler = new TextRecordAssembler({ format });
    if (format === 'zeek-tsv' || format === 'w3c' || format === 'message-tracking' || format === 'csv') {
      for (let at = 0; at < offset; ) {
        const buffer = Buffer.allocUnsafe(Math.min(offset - at, chunkBytes));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) break;
        const data = buffer.subarray(0, bytesRead);
        const end = data.lastIndexOf(0x0a) + 1 || bytesRead;
        for (let from = 0; from < end; ) {
          const next = data.indexOf(0x0a, from) + 1 || end;
          // Only header lines matter here; a record line is passed over unread.
          if (data[from] === 0x23 || (format === 'csv' && assembler.context.columns === undefined))
            assembler.feed(data.toString('utf8', from, next - 1), 0, at + from, at + next);
          from = next;
        }
        at += end;
      }
    }
    return assembler.context;
  }

  private async takeLines(
    path: string,
    position: WatchPosition,
    size: number,
    parse: (text: string, offset: number) => IncomingEvent | undefined,
  ): Promise<void> {
    const chunkBytes = 8 << 20;
    const handle = await open(path, 'r');
    try {
      let offset = position.offset;
      while (offset < size && !this.stopped) {
        const buffer = Buffer.allocUnsafe(Math.min(size - offset, chunkBytes));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        const data = buffer.subarray(0, bytesRead);
        let end = data.lastIndexOf(0x0a) + 1;
        if (end === 0) {
          // Only whole lines are taken: the writer may be in the middle of the last one.
          if (bytesRead < chunkBytes) return;
          this.service.options.log(`watch ${path}: a line longer than 8 MiB at byte ${offset}; skipped`);
          end = bytesRead;
        }
        const events: IncomingEvent[] = [];
        let lineEnd = offset;
        for (let at = 0; at < end; ) {
          const next = data.indexOf(0x0a, at) + 1 || end;
          const text = data.toString('utf8', at, next).trim();
          const event = text === '' ? undefined : parse(text, offset + at);
          if (event !== undefined) events.push(event);
          at = next;
          lineEnd = offset + next;
          if (events.length >= BATCH) {
            await this.write(path, position, events.splice(0), lineEnd, 0);
          }
        }
        if (events.length) await this.write(path, position, events, lineEnd, 0);
        offset += end;
        await this.save({ ...position, offset });
        position.offset = offset;
      }
    } finally {
      await handle.close();
    }
  }

  private async takeEvtx(path: string, position: WatchPosition, size: number): Promise<void> {
    let batch: IncomingEvent[] = [];
    let newest = position.record;
    const flush = async () => {
      if (batch.length) await this.write(path, position, batch, size, newest);
      batch = [];
    };
    for await (const event of readEvtxEvents(path, {
      onError: (error) => this.service.options.log(`watch ${describeError(error)}`),
    })) {
      if (event.source.record <= position.record) continue;
      batch.push(stored(event));
      newest = Math.max(newest, event.source.record);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    await this.save({ ...position, offset: size, record: newest });
  }

  private async takeJson(path: string, position: WatchPosition, size: number): Promise<void> {
    let batch: IncomingEvent[] = [];
    for await (const event of readJsonEvents(path, {
      onError: (error) => this.service.options.log(`watch ${describeError(error)}`),
    })) {
      batch.push(stored(event));
      if (batch.length >= BATCH) {
        await this.write(path, position, batch, 0, 0);
        batch = [];
      }
    }
    if (batch.length) await this.write(path, position, batch, size, 0);
    await this.save({ ...position, offset: size, record: 0 });
  }

  /** Writes a batch; each event names the file and how far it reached, for recovery. */
  private async write(
    path: string,
    position: WatchPosition,
    events: IncomingEvent[],
    offset: number,
    record: number,
  ) {
    const mark = record > 0 ? `r${record}` : String(offset);
    await this.service.ingest(this.tenant, sourceOf(path, mark), events);
    this.events += events.length;
    if (record > 0) position.record = record;
  }

  private async save(position: WatchPosition): Promise<void> {
    await this.store.saveWatchPosition(position);
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.polling;
  }
}

type Logger = { options: { log: (line: string) => void } };

/** A line of a JSON-lines file: kept as it is when it is a JSON object. */
function jsonLine(path: string, service: Logger) {
  return (text: string, offset: number): IncomingEvent | undefined => {
    if (isJsonObject(text)) return text;
    service.options.log(`watch ${path}: the line at byte ${offset} is not a JSON object; skipped`);
    return undefined;
  };
}

/**
 * A record of a text log, kept as its reader's fields (the log holds JSON) with its time:
 * detection reads it back as the same event, so recognizes the same source.
 */
function textEvent(
  path: string,
  text: string,
  context: TextContext,
  offset: number,
  service: Logger,
): IncomingEvent | undefined {
  const event = parseTextRecord({ text, line: 0, number: 0 }, context, path, (error) =>
    service.options.log(`watch ${path}: the record at byte ${offset}: ${error.message}; skipped`),
  );
  return event && { event: JSON.stringify(event.fields), time: event.time };
}

function isJsonObject(text: string): boolean {
  if (text.charCodeAt(0) !== 0x7b) return false;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** An event read from a file, as the log keeps it: its original form, and its time when no field holds it. */
function stored(event: LogEvent): IncomingEvent {
  return { event: JSON.stringify(event.raw ?? event.fields), time: event.time };
}
