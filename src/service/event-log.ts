/** One event as the service's event log keeps it: its position, when and how it arrived, the event as sent. */
export interface LogRecord {
  /**
   * Position in the tenant's log, from 1 up. Positions only grow; there are gaps only where
   * events were removed (retention), and in a cluster (JetStream) a position is the stream's
   * sequence number.
   */
  seq: number;
  /** When the service accepted it (ms since the epoch). */
  received: number;
  /** How it arrived: `http`, `syslog-udp:514`, `otlp`, `watch:/var/log/x.jsonl` ... */
  source: string;
  /** The event as one line of JSON, in the form it was sent (normalised again when read). */
  event: string;
  /**
   * The event's time when the event itself does not carry it in a field (an OTLP record's
   * `timeUnixNano`), in ms since the epoch.
   */
  time?: number;
}

/**
 * An event to append: its JSON text, or the UTF-8 bytes of that text as they arrived (NDJSON over
 * HTTP), which the log keeps as they are instead of decoding them only to encode them again.
 */
export type NewRecord = Omit<LogRecord, 'seq' | 'event'> & { event: string | Uint8Array };

export interface RetentionPolicy {
  /** Events older than this (by arrival) may go. */
  maxAgeMs?: number;
  /** The tenant's log may not be bigger than this. */
  maxBytes?: number;
}

export interface RetentionResult {
  removedEvents: number;
  /** About how much smaller the log is (exact for files; JetStream's own count otherwise). */
  removedBytes: number;
  /** The first position still kept. */
  firstSeq: number;
}

/**
 * The durable, ordered log of every tenant's events: the one seam between taking events in and
 * detecting on them. Embedded: files in the data folder (FileEventLog); in a cluster, JetStream
 * streams. Nothing above this interface may assume the log is in this process.
 */
export interface EventLog {
  /**
   * Appends events to a tenant's log and resolves once they are on stable storage, with the
   * position given to each record (in the order given); only then may the sender be told they
   * were accepted. The positions need not follow one another: in a cluster, records other nodes
   * append to the same tenant at the same time may come between them.
   */
  append(tenant: string, records: readonly NewRecord[]): Promise<number[]>;
  /** Up to `max` records from position `from` on, in order (fewer at the end of the log). */
  read(tenant: string, from: number, max: number): Promise<LogRecord[]>;
  /**
   * The same records as `read`, as the lines the log keeps them in (`recordLine`), for a log that
   * keeps them so: detection hands them to its thread as bytes, without reading them here.
   */
  readLines?(tenant: string, from: number, max: number): Promise<RecordLines>;
  /**
   * The last position appended to a tenant's log (0 when empty). In a cluster, as last heard:
   * appends by other nodes count once their growth is told (see `onGrowth`).
   */
  head(tenant: string): number;
  /** The first position still kept (retention removes the oldest). */
  tail(tenant: string): number;
  /** Tenants that have a log. */
  tenants(): string[];
  /** Bytes a tenant's log takes on disk. */
  size(tenant: string): number;
  /**
   * Tells `listener` each time a tenant's log grows, whoever appended (this process or, in a
   * cluster, another node; a tenant's first events announce a new tenant). Returns how to stop.
   */
  onGrowth(listener: (tenant: string) => void): () => void;
  /**
   * Tells the other nodes sharing this log of an alert this node opened, so their consoles' live
   * queues show it too; a log of one process has nobody to tell and leaves these out.
   */
  announceAlert?(alert: { tenant: string; id: number }): void;
  /** Tells `listener` of the alerts other nodes opened. Returns how to stop. */
  onAlertElsewhere?(listener: (alert: { tenant: string; id: number }) => void): () => void;
  /** Removes the oldest events beyond the policy, but never any at or after `keepFrom`. */
  applyRetention(
    tenant: string,
    policy: RetentionPolicy,
    keepFrom: number,
    now?: number,
  ): Promise<RetentionResult>;
  close(): Promise<void>;
}

/** Records as their kept lines, one after another. */
export interface RecordLines {
  /** The lines, separated by newlines (none after the last), in a buffer of their own. */
  lines: Uint8Array;
  count: number;
  /** The position of the last. */
  last: number;
}

/** A record's line up to its event: built by hand, since the event is JSON text already. */
export function recordHead(record: NewRecord, seq: number): string {
  const time = record.time === undefined ? '' : `"t":${record.time},`;
  return `{"seq":${seq},"at":${record.received},"src":${JSON.stringify(record.source)},${time}"event":`;
}

const LINE_START = Buffer.from('{"seq":');

/** The position a kept line starts with, read from its bytes; undefined when it is not one of ours. */
export function recordLineSeq(bytes: Uint8Array, lineStart: number): number | undefined {
  for (let k = 0; k < LINE_START.length; k++) if (bytes[lineStart + k] !== LINE_START[k]) return undefined;
  let i = lineStart + LINE_START.length;
  let seq = 0;
  for (; i < bytes.length; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    seq = seq * 10 + digit;
  }
  return i > lineStart + LINE_START.length && bytes[i] === 0x2c ? seq : undefined;
}

const RECORD_HEAD = /^\{"seq":(\d+),"at":(\d+),"src":("(?:[^"\\]|\\.)*"),(?:"t":(-?\d+(?:\.\d+)?),)?"event":/;

/**
 * A kept line back as a record. Only the head is parsed: the event stays text, since parsing and
 * normalising it is the detection worker's job. Undefined when the line is not one of ours.
 */
export function parseRecordLine(line: string): LogRecord | undefined {
  const head = RECORD_HEAD.exec(line);
  if (!head || !line.endsWith('}')) return undefined;
  return {
    seq: Number(head[1]),
    received: Number(head[2]),
    source: JSON.parse(head[3]!) as string,
    event: line.slice(head[0].length, -1),
    ...(head[4] !== undefined && { time: Number(head[4]) }),
  };
}
