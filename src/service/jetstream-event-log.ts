import { randomBytes } from 'node:crypto';
import {
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  type StoredMsg,
  type StreamConfig,
  type StreamInfo,
  type StreamState,
} from '@nats-io/jetstream';
import {
  connect,
  createInbox,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  nanos,
  nuid,
} from '@nats-io/transport-node';
import { describeError, VigilError } from '../core/index.js';
import { checkTenantName } from './access.js';
import { BUS_PREFIX, DEFAULT_BUS_PREFIX } from './config.js';
import type { EventLog, LogRecord, NewRecord, RetentionPolicy, RetentionResult } from './event-log.js';

export interface JetStreamEventLogOptions {
  /** The NATS server, `nats://HOST:PORT`. */
  url: string;
  /**
   * The first token of every subject and stream name of this deployment (default `vigil`), so
   * several deployments, or tests, share one server without meeting.
   */
  prefix?: string;
  /** Copies JetStream keeps of each new tenant stream (1, or 3 or 5 in a NATS cluster). */
  replicas?: number;
  /** Read beside the running service (a hunt): no stream is made, nothing is removed. */
  readOnly?: boolean;
  /** The connection's name, as the server's monitoring shows it. */
  name?: string;
  /** How long an append waits for JetStream to acknowledge a record (default 5 s). */
  ackTimeoutMs?: number;
  /** Every this often, the state of every tenant's stream is read again (default 5 s). */
  refreshMs?: number;
}

/** Headers a record's fields travel in: the message's body is the event itself, as sent. */
const RECEIVED = 'Vigil-Received';
const SOURCE = 'Vigil-Source';
const TIME = 'Vigil-Time';
/** JetStream's own headers: the id it finds duplicates by, and the stream that must store the message. */
const MSG_ID = 'Nats-Msg-Id';
const EXPECTED_STREAM = 'Nats-Expected-Stream';

/** JetStream detects a publish retried with the same message id within this window. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** A record whose acknowledgement timed out is published once more, under the same message id. */
const PUBLISH_ATTEMPTS = 2;
/** A pull left unanswered this long fails (a reader the server no longer has gets no answer at all). */
const PULL_TIMEOUT_MS = 10_000;
/** Read positions kept per tenant (each a consumer on the server), so sequential readers carry on. */
const CURSORS_PER_TENANT = 4;
/** A read position unused this long is removed by the server itself. */
const CURSOR_IDLE_MS = 60_000;
/** JetStream's error code when a stream exists under the name with another configuration. */
const STREAM_NAME_IN_USE = 10058;
/**
 * JetStream's answer when another stream takes the subjects: also what a node gets when another
 * makes the same stream at the same moment (the server checks subjects before names).
 */
const SUBJECTS_OVERLAP = 10065;

/** What is known of one tenant's stream without asking the server. */
interface TenantStream {
  tenant: string;
  name: string;
  subject: string;
  head: number;
  tail: number;
  bytes: number;
  /** Server-side consumers positioned at `next`, free to continue a sequential read. */
  cursors: Cursor[];
}

interface Cursor {
  consumer: string;
  next: number;
  /** When it was last read from (the server removes it once idle for CURSOR_IDLE_MS). */
  used: number;
}

function isTenantName(name: string): boolean {
  try {
    checkTenantName(name);
    return true;
  } catch {
    return false;
  }
}

/** The stream sequence of a message delivered by a consumer, from its acknowledgement subject. */
function streamSeqOf(reply: string): number {
  // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>, or
  // the newer form with a domain and an account hash after ACK (and a token at the end).
  const tokens = reply.split('.');
  return Number(tokens.length === 9 ? tokens[5] : tokens[7]);
}

function sourceOf(header: string): string {
  try {
    return JSON.parse(header) as string;
  } catch {
    // Published by something else than Vigil: taken as it is.
    return header;
  }
}

function recordOf(seq: number, hdrs: MsgHdrs | undefined, data: Uint8Array): LogRecord | undefined {
  const received = hdrs?.get(RECEIVED);
  if (!hdrs || !received) return undefined;
  const time = hdrs.get(TIME);
  return {
    seq,
    received: Number(received),
    source: sourceOf(hdrs.get(SOURCE)),
    event: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'),
    ...(time !== '' && { time: Number(time) }),
  };
}

function unavailable(url: string, what: string, error: unknown): VigilError {
  return new VigilError('EVENT_LOG_UNAVAILABLE', `the event bus at ${url} ${what}: ${describeError(error)}`, {
    file: url,
  });
}

/**
 * The event log of a cluster: one JetStream stream per tenant (`<prefix>_<tenant>`, subject
 * `<prefix>.events.<tenant>`), so JetStream's replication, limits and monitoring apply per
 * tenant; a record is one message (the event as its body, arrival and source in headers) and its
 * position is the stream sequence. Appends resolve once JetStream acknowledged every message.
 *
 * head, tail, size and tenants are answered from what this node knows: its own appends, the
 * growth other nodes announce on `<prefix>.grown.<tenant>` after theirs, and a look at every
 * stream's state every few seconds (which also catches an announcement lost with its node).
 */
export class JetStreamEventLog implements EventLog {
  private readonly streams = new Map<string, TenantStream>();
  private readonly creating = new Map<string, Promise<TenantStream>>();
  private readonly listeners = new Set<(tenant: string) => void>();
  /** Tells this process's own notices apart from other nodes' on shared subjects. */
  private readonly instance = randomBytes(8).toString('hex');
  /**
   * Publishes waiting for JetStream's acknowledgement, by the reply subject's last token. One
   * subscription answers them all: the client's request per message costs more than the storing.
   */
  private readonly acks = new Map<string, (answer: number | string) => void>();
  private readonly ackInbox = createInbox();
  private readonly prefix: string;
  private readonly replicas: number;
  private readonly readOnly: boolean;
  private readonly ackTimeoutMs: number;
  private isConnected = true;
  private closed = false;
  private refreshing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly url: string,
    options: JetStreamEventLogOptions,
  ) {
    this.prefix = options.prefix ?? DEFAULT_BUS_PREFIX;
    this.replicas = options.replicas ?? 1;
    this.readOnly = options.readOnly ?? false;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5000;
  }

  /**
   * Connects, checks that the server offers JetStream, and reads the state of every tenant's
   * stream. A server that cannot be reached is an error naming its address and what failed.
   */
  static async open(options: JetStreamEventLogOptions): Promise<JetStreamEventLog> {
    const prefix = options.prefix ?? DEFAULT_BUS_PREFIX;
    if (!BUS_PREFIX.test(prefix))
      throw new VigilError(
        'BUS_PREFIX',
        `'${prefix}' cannot prefix subjects and stream names: use 1 to 32 letters, digits or '-'`,
      );
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.url,
        name: options.name ?? 'vigil',
        // Once up, the connection is kept trying for as long as the service runs.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        timeout: 5000,
        // This node hears of its own appends directly, not back from the server.
        noEcho: true,
      });
    } catch (error) {
      throw new VigilError(
        'BUS_UNREACHABLE',
        `cannot reach the event bus at ${options.url}: ${describeError(error)}`,
        {
          file: options.url,
        },
      );
    }
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc, { timeout: 5000 });
    } catch (error) {
      await nc.close();
      throw new VigilError(
        'BUS_NO_JETSTREAM',
        `the event bus at ${options.url} does not answer as JetStream (is nats-server started with -js?): ${describeError(error)}`,
        { file: options.url },
      );
    }
    const log = new JetStreamEventLog(nc, jsm, options.url, options);
    try {
      await log.refresh();
    } catch (error) {
      await nc.close();
      throw unavailable(options.url, 'did not list the streams', error);
    }
    log.start(options.refreshMs ?? 5000);
    return log;
  }

  private start(refreshMs: number): void {
    this.nc.subscribe(`${this.ackInbox}.*`, {
      callback: (error, msg) => {
        if (!error) this.heardAck(msg);
      },
    });
    const grown = `${this.prefix}.grown.`;
    this.nc.subscribe(`${grown}*`, {
      callback: (error, msg) => {
        if (!error) void this.heard(msg.subject.slice(grown.length), Number(msg.string()));
      },
    });
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'disconnect') this.isConnected = false;
        else if (status.type === 'reconnect') {
          this.isConnected = true;
          // A restarted server has lost the readers (consumers in memory): start new ones.
          for (const stream of this.streams.values()) stream.cursors = [];
          // Growth announced while away was missed: read every stream's state again.
          void this.refreshQuietly();
        }
      }
    })();
    this.timer = setInterval(() => void this.refreshQuietly(), refreshMs);
    this.timer.unref();
  }

  private streamName(tenant: string): string {
    return `${this.prefix}_${tenant}`;
  }

  private subjectOf(tenant: string): string {
    return `${this.prefix}.events.${tenant}`;
  }

  private tell(tenant: string): void {
    for (const listener of this.listeners) listener(tenant);
  }

  /** Takes a stream's state into what is known; says whether the log grew. */
  private learn(tenant: string, state: StreamState): boolean {
    let stream = this.streams.get(tenant);
    const isNew = !stream;
    if (!stream) {
      stream = {
        tenant,
        name: this.streamName(tenant),
        subject: this.subjectOf(tenant),
        head: 0,
        tail: 1,
        bytes: 0,
        cursors: [],
      };
      this.streams.set(tenant, stream);
    }
    const grew = state.last_seq > stream.head;
    stream.head = Math.max(stream.head, state.last_seq);
    stream.tail = Math.max(state.first_seq, 1);
    stream.bytes = state.bytes;
    return isNew || grew;
  }

  private ours(info: StreamInfo): string | undefined {
    const start = `${this.prefix}_`;
    const tenant = info.config.name.slice(start.length);
    if (!info.config.name.startsWith(start) || !isTenantName(tenant)) return undefined;
    return info.config.subjects?.includes(this.subjectOf(tenant)) ? tenant : undefined;
  }

  /** Reads the state of every stream of this prefix; tells of tenants new or grown. */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const known = new Set(this.streams.keys());
        const seen = new Set<string>();
        const grown: string[] = [];
        for await (const info of this.jsm.streams.list(`${this.prefix}.events.*`)) {
          const tenant = this.ours(info);
          if (!tenant) continue;
          seen.add(tenant);
          if (this.learn(tenant, info.state)) grown.push(tenant);
        }
        // A stream deleted on the server (by an operator) is a log that is gone. One learnt
        // while the list was read (made or announced meanwhile) is not judged by this list.
        for (const tenant of known) if (!seen.has(tenant)) this.streams.delete(tenant);
        for (const tenant of grown) this.tell(tenant);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async refreshQuietly(): Promise<void> {
    // Unreachable for now: what is known stays as it was, and the next look tries again.
    if (this.connected) await this.refresh().catch(() => undefined);
  }

  /** Another node announced that a tenant's log reached `last`. */
  private async heard(tenant: string, last: number): Promise<void> {
    const stream = this.streams.get(tenant);
    if (stream) {
      if (last > stream.head) {
        stream.head = last;
        this.tell(tenant);
      }
      return;
    }
    if (!isTenantName(tenant)) return;
    // A tenant new to this node: its stream's state says where it starts.
    try {
      const info = await this.jsm.streams.info(this.streamName(tenant));
      if (this.ours(info) === tenant && this.learn(tenant, info.state)) this.tell(tenant);
    } catch {
      // Gone again, or unreachable: the next look at every stream settles it.
    }
  }

  private checkWritable(): void {
    if (this.readOnly) throw new VigilError('EVENT_LOG_READ_ONLY', 'this event log was opened read-only');
    if (this.closed) throw new VigilError('EVENT_LOG_UNAVAILABLE', 'the event log is closed');
    if (!this.connected)
      throw new VigilError(
        'EVENT_LOG_UNAVAILABLE',
        `the event bus at ${this.url} is not connected (reconnecting)`,
        {
          file: this.url,
        },
      );
  }

  /** The tenant's stream, made on its first append (by whichever node comes first). */
  private stream(tenant: string): Promise<TenantStream> {
    const known = this.streams.get(tenant);
    if (known) return Promise.resolve(known);
    let creating = this.creating.get(tenant);
    if (!creating) {
      creating = this.createStream(tenant).finally(() => this.creating.delete(tenant));
      this.creating.set(tenant, creating);
    }
    return creating;
  }

  private async createStream(tenant: string): Promise<TenantStream> {
    // Tenant names become subject tokens and stream names: only checked names may.
    checkTenantName(tenant);
    const name = this.streamName(tenant);
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: [this.subjectOf(tenant)],
      storage: 'file',
      retention: 'limits',
      discard: 'old',
      num_replicas: this.replicas,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      allow_direct: true,
      // No age or size limit: JetStream would remove events detection has not processed yet.
      // Vigil's own retention (applyRetention) removes the oldest, never those.
      max_age: 0,
      max_bytes: -1,
      max_msgs: -1,
    };
    let info: StreamInfo;
    try {
      info = await this.jsm.streams.add(config);
    } catch (error) {
      // Another node made it first (with other settings, say another replica count): use it.
      const raced =
        error instanceof JetStreamApiError &&
        (error.code === STREAM_NAME_IN_USE || error.code === SUBJECTS_OVERLAP);
      if (!raced) throw unavailable(this.url, `did not make the stream ${name}`, error);
      try {
        info = await this.jsm.streams.info(name);
      } catch {
        throw new VigilError(
          'EVENT_LOG_CONFLICT',
          `another stream on ${this.url} takes ${this.subjectOf(tenant)}, which Vigil's stream ${name} needs: it is not Vigil's`,
        );
      }
      if (this.ours(info) !== tenant)
        throw new VigilError(
          'EVENT_LOG_CONFLICT',
          `the stream ${name} on ${this.url} exists but does not take ${this.subjectOf(tenant)}: it is not Vigil's`,
        );
    }
    this.learn(tenant, info.state);
    return this.streams.get(tenant)!;
  }

  async append(tenant: string, records: readonly NewRecord[]): Promise<number[]> {
    this.checkWritable();
    if (records.length === 0) return [];
    const stream = await this.stream(tenant);
    let positions: number[];
    try {
      positions = await this.publishAll(stream, records);
    } catch (error) {
      throw unavailable(this.url, 'did not store the events', error);
    }
    let last = 0;
    let bytes = 0;
    for (const [i, position] of positions.entries()) {
      last = Math.max(last, position);
      bytes += records[i]!.event.length;
    }
    stream.head = Math.max(stream.head, last);
    // Near enough until the next look at the stream's state gives JetStream's own count.
    stream.bytes += bytes;
    this.nc.publish(`${this.prefix}.grown.${tenant}`, String(last));
    this.tell(tenant);
    return positions;
  }

  /**
   * Publishes every record and waits for JetStream's acknowledgement of each; those not
   * acknowledged in time are published once more under the same message id, which JetStream
   * stores once. Published together on one connection, they are stored in the order given.
   */
  private async publishAll(stream: TenantStream, records: readonly NewRecord[]): Promise<number[]> {
    // One id per record, kept across retries.
    const batch = nuid.next();
    const positions: number[] = new Array(records.length).fill(0);
    let missing = records.map((_, i) => i);
    for (let attempt = 1; missing.length; attempt++) {
      const answers = await this.publishOnce(stream, records, batch, missing);
      const unanswered: number[] = [];
      for (const i of missing) {
        const answer = answers.get(i);
        if (answer === undefined) unanswered.push(i);
        else if (typeof answer === 'string') throw new Error(answer);
        else positions[i] = answer;
      }
      missing = unanswered;
      if (missing.length && (attempt >= PUBLISH_ATTEMPTS || !this.connected))
        throw new Error(
          `${missing.length} of ${records.length} events were not acknowledged within ${this.ackTimeoutMs} ms`,
        );
    }
    return positions;
  }

  /**
   * One publish of the records `which`, their acknowledgements awaited together for up to the ack
   * timeout: a position, an error's text, or nothing (no answer in time) for each.
   */
  private publishOnce(
    stream: TenantStream,
    records: readonly NewRecord[],
    batch: string,
    which: readonly number[],
  ): Promise<Map<number, number | string>> {
    return new Promise((resolve) => {
      const answers = new Map<number, number | string>();
      let waiting = which.length;
      const timer = setTimeout(() => {
        for (const i of which) this.acks.delete(`${batch}_${i}`);
        resolve(answers);
      }, this.ackTimeoutMs);
      for (const i of which) {
        const key = `${batch}_${i}`;
        this.acks.set(key, (answer) => {
          answers.set(i, answer);
          if (--waiting === 0) {
            clearTimeout(timer);
            resolve(answers);
          }
        });
        const record = records[i]!;
        const hdrs = headers();
        hdrs.set(MSG_ID, key);
        hdrs.set(EXPECTED_STREAM, stream.name);
        hdrs.set(RECEIVED, String(record.received));
        // As JSON: a header value cannot hold a line break, which a watched file's name may.
        hdrs.set(SOURCE, JSON.stringify(record.source));
        if (record.time !== undefined) hdrs.set(TIME, String(record.time));
        this.nc.publish(stream.subject, record.event, { reply: `${this.ackInbox}.${key}`, headers: hdrs });
      }
    });
  }

  /** JetStream's answer to a publish: the stored position, or why it was not stored. */
  private heardAck(msg: Msg): void {
    const key = msg.subject.slice(this.ackInbox.length + 1);
    const done = this.acks.get(key);
    if (!done) return;
    this.acks.delete(key);
    if (msg.data.length === 0) {
      // A status alone: 503 when no stream takes the subject (it was deleted).
      done(`${msg.headers?.code ?? ''} ${msg.headers?.description ?? 'no acknowledgement'}`.trim());
      return;
    }
    try {
      const ack = msg.json<{ seq?: number; error?: { description?: string } }>();
      done(
        ack.error
          ? (ack.error.description ?? 'refused')
          : typeof ack.seq === 'number'
            ? ack.seq
            : 'no position',
      );
    } catch {
      done('an acknowledgement that is not JSON');
    }
  }

  async read(tenant: string, from: number, max: number): Promise<LogRecord[]> {
    const stream = this.streams.get(tenant);
    if (!stream || max <= 0) return [];
    const start = Math.max(from, 1);
    if (max === 1 && start >= stream.tail) {
      // One record (a correlation's event): fetched by its position, no consumer needed.
      const one = await this.readOne(stream, start);
      if (one) return [one];
    }
    return this.readBatch(stream, start, max);
  }

  private async readOne(stream: TenantStream, seq: number): Promise<LogRecord | undefined> {
    let stored: StoredMsg | null;
    try {
      stored = await this.jsm.streams.getMessage(stream.name, { seq });
    } catch (error) {
      throw unavailable(this.url, `did not give record ${seq} of ${stream.name}`, error);
    }
    // Gone (retention): the batch read then gives the next one kept.
    return stored ? recordOf(stored.seq, stored.header, stored.data) : undefined;
  }

  /**
   * Up to `max` records from `from` on, in one pull from a consumer positioned there: the one a
   * previous read left at `from` when there is one (a reader going through the log in order),
   * a new one otherwise. The pull does not wait: it ends at the end of the stream.
   */
  private async readBatch(stream: TenantStream, from: number, max: number): Promise<LogRecord[]> {
    // A reader idle for long may be gone from the server, and a pull to it would only time out.
    const now = Date.now();
    const at = stream.cursors.findIndex((c) => c.next === from && now - c.used < CURSOR_IDLE_MS / 2);
    const reused = at >= 0 ? stream.cursors.splice(at, 1)[0] : undefined;
    let cursor = reused ?? (await this.newCursor(stream, from));
    let records: LogRecord[];
    try {
      records = await this.pull(stream, cursor, max);
    } catch (error) {
      // The server may have dropped an idle consumer: start a new one from the same place, once.
      if (!reused) throw unavailable(this.url, `did not give the records of ${stream.name}`, error);
      cursor = await this.newCursor(stream, from);
      try {
        records = await this.pull(stream, cursor, max);
      } catch (again) {
        throw unavailable(this.url, `did not give the records of ${stream.name}`, again);
      }
    }
    if (records.length) cursor.next = records.at(-1)!.seq + 1;
    cursor.used = Date.now();
    stream.cursors.push(cursor);
    if (stream.cursors.length > CURSORS_PER_TENANT) this.dropCursor(stream, stream.cursors.shift()!);
    return records;
  }

  private async newCursor(stream: TenantStream, from: number): Promise<Cursor> {
    const consumer = `vigil_${nuid.next()}`;
    try {
      await this.jsm.consumers.add(stream.name, {
        name: consumer,
        deliver_policy: 'by_start_sequence',
        opt_start_seq: from,
        ack_policy: 'none',
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: nanos(CURSOR_IDLE_MS),
      });
    } catch (error) {
      throw unavailable(this.url, `did not open a reader on ${stream.name}`, error);
    }
    return { consumer, next: from, used: Date.now() };
  }

  private dropCursor(stream: TenantStream, cursor: Cursor): void {
    // Tidiness only: the server removes an idle consumer by itself.
    this.jsm.consumers.delete(stream.name, cursor.consumer).catch(() => undefined);
  }

  /** One pull of up to `max` messages that does not wait for more than the stream holds. */
  private pull(stream: TenantStream, cursor: Cursor, max: number): Promise<LogRecord[]> {
    return new Promise((resolve, reject) => {
      const out: LogRecord[] = [];
      let delivered = 0;
      const inbox = createInbox();
      const finish = (error?: Error) => {
        clearTimeout(timer);
        sub.unsubscribe();
        if (error) reject(error);
        else resolve(out);
      };
      const timer = setTimeout(
        () => finish(new Error(`no answer in ${PULL_TIMEOUT_MS} ms`)),
        PULL_TIMEOUT_MS,
      );
      const sub = this.nc.subscribe(inbox, {
        callback: (error, msg: Msg) => {
          if (error) return finish(error);
          const code = msg.headers?.code ?? 0;
          if (code !== 0 && msg.data.length === 0) {
            // 404 (nothing more) and 408 (the pull ended) close a read that reached the end.
            if (code === 404 || code === 408) return finish();
            if (code === 100) return; // a heartbeat
            return finish(new Error(`${code} ${msg.headers?.description ?? ''}`.trim()));
          }
          delivered++;
          const record = msg.reply ? recordOf(streamSeqOf(msg.reply), msg.headers, msg.data) : undefined;
          // Something else published on the tenant's subject is not an event of ours.
          if (record) out.push(record);
          if (delivered >= max) finish();
        },
      });
      this.nc.publish(
        `$JS.API.CONSUMER.MSG.NEXT.${stream.name}.${cursor.consumer}`,
        JSON.stringify({ batch: max, no_wait: true }),
        { reply: inbox },
      );
    });
  }

  /** Whether the connection to the bus is up now (the client reconnects by itself when it is not). */
  get connected(): boolean {
    return this.isConnected && !this.closed;
  }

  head(tenant: string): number {
    return this.streams.get(tenant)?.head ?? 0;
  }

  tail(tenant: string): number {
    return this.streams.get(tenant)?.tail ?? 1;
  }

  tenants(): string[] {
    return [...this.streams.keys()];
  }

  size(tenant: string): number {
    return this.streams.get(tenant)?.bytes ?? 0;
  }

  onGrowth(listener: (tenant: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Core NATS, not JetStream: a notice missed while a node is away is of no use later. */
  announceAlert(alert: { tenant: string; id: number }): void {
    if (!this.isConnected) return;
    this.nc.publish(
      `${this.prefix}.alerts`,
      JSON.stringify({ tenant: alert.tenant, id: alert.id, from: this.instance }),
    );
  }

  onAlertElsewhere(listener: (alert: { tenant: string; id: number }) => void): () => void {
    const sub = this.nc.subscribe(`${this.prefix}.alerts`, {
      callback: (error, msg) => {
        if (error) return;
        try {
          const notice = JSON.parse(msg.string()) as { tenant?: unknown; id?: unknown; from?: unknown };
          if (notice.from === this.instance) return;
          if (typeof notice.tenant === 'string' && typeof notice.id === 'number')
            listener({ tenant: notice.tenant, id: notice.id });
        } catch {
          // Not one of ours: nothing to tell.
        }
      },
    });
    return () => sub.unsubscribe();
  }

  /**
   * Purges the oldest records beyond the policy, never any at or after `keepFrom`. Age is the
   * time JetStream stored a record (its arrival); size is JetStream's count of the stream's
   * bytes. The streams carry no age or size limit of their own, since JetStream would apply it
   * whether detection had processed the records or not.
   */
  async applyRetention(
    tenant: string,
    policy: RetentionPolicy,
    keepFrom: number,
    now = Date.now(),
  ): Promise<RetentionResult> {
    this.checkWritable();
    const stream = this.streams.get(tenant);
    if (!stream) return { removedEvents: 0, removedBytes: 0, firstSeq: 1 };
    try {
      const before = (await this.jsm.streams.info(stream.name)).state;
      const first = Math.max(before.first_seq, 1);
      let upTo = first;
      if (policy.maxAgeMs !== undefined)
        upTo = Math.max(upTo, await this.firstSince(stream, first, before.last_seq, now - policy.maxAgeMs));
      if (policy.maxBytes !== undefined && before.bytes > policy.maxBytes && before.messages > 0) {
        const perRecord = before.bytes / before.messages;
        upTo = Math.max(upTo, first + Math.ceil((before.bytes - policy.maxBytes) / perRecord));
      }
      upTo = Math.min(upTo, keepFrom, before.last_seq + 1);
      if (upTo <= first) return { removedEvents: 0, removedBytes: 0, firstSeq: first };
      // Purging up to a sequence keeps that sequence and everything after it.
      const purged = await this.jsm.streams.purge(stream.name, { seq: upTo });
      const after = (await this.jsm.streams.info(stream.name)).state;
      this.learn(tenant, after);
      return {
        removedEvents: purged.purged,
        removedBytes: Math.max(0, before.bytes - after.bytes),
        firstSeq: Math.max(after.first_seq, 1),
      };
    } catch (error) {
      throw unavailable(this.url, `did not apply retention to ${stream.name}`, error);
    }
  }

  /** The first position in [lo, hi] stored at or after `since` (hi + 1 when none): a binary search. */
  private async firstSince(stream: TenantStream, lo: number, hi: number, since: number): Promise<number> {
    let found = hi + 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const time = (await this.jsm.streams.getMessage(stream.name, { seq: mid }))?.time.getTime();
      // A record deleted on its own is taken as recent: retention then removes less, not more.
      if (time === undefined || time >= since) {
        found = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return found;
  }

  /** Stops the look at streams, removes this node's readers, and drains the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.refreshing?.catch(() => undefined);
    if (this.isConnected) {
      await Promise.allSettled(
        [...this.streams.values()].flatMap((stream) =>
          stream.cursors.map((cursor) => this.jsm.consumers.delete(stream.name, cursor.consumer)),
        ),
      );
    }
    // Draining waits for what is under way; with the server away it could wait for ever.
    if (this.isConnected) await this.nc.drain().catch(() => this.nc.close());
    else await this.nc.close();
  }
}
