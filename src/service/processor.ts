import { type FieldValue, type Locate, VigilError } from '../core/index.js';
import { detectionFromCorrelation, type WorkerPool } from '../detect/index.js';
import { toLogEvent } from '../logs/index.js';
import type { CorrelationResult } from '../sigma/index.js';
import { TenantCorrelator } from './correlate.js';
import { type BatchTask, type EvaluatedBatch, packBatch } from './evaluate.js';
import type { EventLog } from './event-log.js';
import { EveryTenant, LeaseLost, type TenantOwnership } from './ownership.js';
import type { TenantRules } from './rules.js';
import type { CommitResult, NewDetection, ServiceStore } from './store.js';
import { ruleKey } from './store-logic.js';

/** A stored event's flat fields, as detection read them. */
function storedFields(event: string, seq: number): Readonly<Record<string, FieldValue>> {
  try {
    return toLogEvent(JSON.parse(event) as Record<string, FieldValue>, 'event', seq).fields;
  } catch {
    return {};
  }
}

export interface ProcessorOptions {
  /** Events per task sent to a detection thread. */
  batchSize?: number;
  /** Tasks under way at once (results are taken in order). */
  maxInFlight?: number;
  /** How close in time detections of one rule and host must be to join one alert. */
  alertWindowMs: (rule: { id?: string; title: string }) => number;
  /** How far out of order events may come and still be correlated. */
  latenessMs: number;
  /** Places addresses for the correlations that need it. */
  locate?: Locate;
  /** The rules a tenant's events meet now (they change when rules are reloaded). */
  rulesOf: (tenant: string) => TenantRules;
  /** Told of what is worth a line in the service's log. */
  onNote?: (note: ProcessorNote) => void;
  /** Which tenants this node processes (every one, unless it is a node of a cluster). */
  ownership?: TenantOwnership;
}

export type ProcessorNote =
  | { kind: 'alert'; tenant: string; id: number; rule: string; level: string; host: string }
  | { kind: 'event-error'; tenant: string; error: VigilError }
  /** The log could not be read (a bus away): detection waits and tries again. */
  | { kind: 'log-unreadable'; tenant: string; error: Error }
  | { kind: 'ownership'; tenant: string; change: 'gained' | 'handed-over' | 'lost' }
  | { kind: 'failure'; error: Error };

export interface ProcessorCounters {
  events: number;
  detections: number;
  suppressed: number;
  eventErrors: number;
}

/**
 * Where detection's time goes, in seconds since start: a clock read around each step, cheap
 * enough to keep always on. The steps overlap (threads evaluate while the log is read), so the
 * figures say which one dominates, not how the wall time divides.
 */
export interface ProcessorTimes {
  /** Reading events from the event log (the bus, in a cluster). */
  logRead: number;
  /** Detection threads evaluating events, summed over the threads. */
  detectionThreads: number;
  /** This loop waiting for the threads' next result: detection is behind when it grows. */
  detectionWait: number;
  /** Storing detections and positions (PostgreSQL commits, in a cluster). */
  storeCommit: number;
  /** Writing correlation state out for a snapshot (storing it is part of storeCommit). */
  correlationSnapshot: number;
}

/**
 * Adds the seconds `work` takes to `times[stage]`, whether it succeeds or not. Given as a function,
 * so that the clock also covers work done before its first await (SQLite and file reads are synchronous).
 */
async function timedStep<T>(
  times: ProcessorTimes,
  stage: keyof ProcessorTimes,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    times[stage] += (performance.now() - started) / 1000;
  }
}

/** A run of a tenant's log read for detection: the task, its last position, what crosses to the thread without a copy. */
interface ReadRun {
  task: BatchTask;
  last: number;
  transfer: ArrayBuffer[];
}

const DEFAULT_BATCH = 2000;
/** Correlation state is saved at most this often while it changes (and on every stop). */
const SNAPSHOT_EVERY_MS = 1000;
/**
 * The most of its time a tenant's detection gives to saving correlation state: a large state (the
 * baselines of tens of thousands of accounts) is saved less often rather than every second, and
 * a restart replays the few seconds more of the log it then needs.
 */
const SNAPSHOT_SHARE = 0.05;
const IDLE_TICK_MS = 1000;

/** How long to wait between two snapshots of a state that took `costMs` to build and store. */
export function snapshotInterval(costMs: number): number {
  return Math.max(SNAPSHOT_EVERY_MS, costMs / SNAPSHOT_SHARE);
}

interface TenantProgress {
  /** Last position sent to a detection thread. */
  dispatched: number;
  /** Last position stored as processed. */
  committed: number;
  /** Last position whose matches the correlator has taken (behind `committed` while replaying). */
  handled: number;
  correlator?: TenantCorrelator;
  /** Position and time of the last correlation snapshot stored. */
  snapshotSeq: number;
  snapshotAt: number;
  /** What the last snapshot took to build and store, in ms: larger states are saved less often. */
  snapshotCostMs: number;
  /** Asked to hand the tenant to another node: nothing new starts; what is under way finishes. */
  handingOver?: boolean;
}

/**
 * Takes every tenant's event log from where processing stopped, runs it through the detection
 * threads, correlates what feeds correlations, and stores what fired with the new position (and,
 * now and then, the correlation state) in one transaction. A crash between two commits only
 * repeats work: processing resumes from the last correlation snapshot, and detections are stored
 * under keys that make a repeat a no-op.
 */
export class Processor {
  private readonly tenants = new Map<string, TenantProgress>();
  /** Tasks under way, each with the progress it was sent for (a tenant lost meanwhile is not it). */
  private readonly inFlight: {
    progress: TenantProgress;
    result: Promise<EvaluatedBatch>;
  }[] = [];
  private readonly ownership: TenantOwnership;
  private wake: (() => void) | undefined;
  private stopping = false;
  private running: Promise<void> | undefined;
  private turn = 0;
  /** The last read failed: wait a tick before the next, instead of asking again at once. */
  private unreadable = false;
  /** Reads fail since the last one that worked (told once, not every second). */
  private readFailing = false;
  private lastTick = 0;
  readonly counters: ProcessorCounters = { events: 0, detections: 0, suppressed: 0, eventErrors: 0 };
  readonly times: ProcessorTimes = {
    logRead: 0,
    detectionThreads: 0,
    detectionWait: 0,
    storeCommit: 0,
    correlationSnapshot: 0,
  };

  constructor(
    private readonly log: EventLog,
    private readonly store: ServiceStore,
    private pool: WorkerPool<BatchTask, EvaluatedBatch>,
    private readonly options: ProcessorOptions,
  ) {
    this.ownership = options.ownership ?? new EveryTenant();
    this.ownership.listen({
      gained: (tenants) => {
        for (const tenant of tenants) this.options.onNote?.({ kind: 'ownership', tenant, change: 'gained' });
        void Promise.all(tenants.map((t) => this.track(t))).then(() => this.wake?.());
      },
      lost: (tenants, handover) => {
        for (const tenant of tenants) {
          const progress = this.tenants.get(tenant);
          if (handover && progress) progress.handingOver = true;
          else this.forget(tenant, handover ? 'handed-over' : 'lost');
        }
        this.wake?.();
      },
    });
  }

  /** Picks up every owned tenant's position and correlation state and starts working; returns at once. */
  async start(): Promise<void> {
    for (const tenant of this.log.tenants()) {
      this.ownership.noticeTenant(tenant);
      if (this.ownership.active(tenant)) await this.track(tenant);
    }
    this.running = this.loop().catch((error: Error) => this.options.onNote?.({ kind: 'failure', error }));
  }

  private async track(tenant: string): Promise<TenantProgress> {
    const known = this.tenants.get(tenant);
    if (known) return known;
    const position = await this.store.position(tenant);
    const snapshot = await this.store.snapshot(tenant);
    const progress: TenantProgress = {
      // Events after the snapshot are evaluated again, so their matches rebuild the windows.
      dispatched: snapshot ? Math.min(snapshot.seq, position) : position,
      committed: position,
      handled: snapshot ? Math.min(snapshot.seq, position) : position,
      snapshotSeq: snapshot?.seq ?? 0,
      snapshotAt: Date.now(),
      snapshotCostMs: 0,
    };
    if (snapshot) {
      progress.correlator = new TenantCorrelator(
        this.options.rulesOf(tenant),
        this.options.latenessMs,
        this.options.locate,
      );
      progress.correlator.restore(snapshot.state);
    }
    this.tenants.set(tenant, progress);
    return progress;
  }

  /** Drops what this node knew of a tenant it no longer owns; the owner resumes from the store. */
  private forget(tenant: string, change: 'handed-over' | 'lost'): void {
    const hadIt = this.tenants.delete(tenant);
    if (change === 'handed-over') this.ownership.released(tenant);
    if (hadIt || change === 'handed-over') this.options.onNote?.({ kind: 'ownership', tenant, change });
  }

  /** Says a tenant's log grew. */
  notify(tenant: string): void {
    this.ownership.noticeTenant(tenant);
    if (!this.ownership.active(tenant)) return;
    if (!this.tenants.has(tenant)) void this.track(tenant).then(() => this.wake?.());
    else this.wake?.();
  }

  /** Events accepted and not yet processed, over all tenants. */
  get backlog(): number {
    let total = 0;
    for (const [tenant, progress] of this.tenants) total += this.log.head(tenant) - progress.committed;
    return total;
  }

  /** Per tenant, the matches left out of correlation for coming later than the lateness allows. */
  lateMatches(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [tenant, progress] of this.tenants)
      if (progress.correlator) out.set(tenant, progress.correlator.late);
    return out;
  }

  /**
   * Swaps the detection threads after a rule reload. Tasks under way finish on the old threads and
   * their matches are taken with the new rules (matches name rules by file, so a rule that is gone
   * feeds nothing); correlation windows of unchanged correlations carry over.
   */
  async replacePool(
    pool: WorkerPool<BatchTask, EvaluatedBatch>,
  ): Promise<WorkerPool<BatchTask, EvaluatedBatch>> {
    const old = this.pool;
    this.pool = pool;
    for (const [tenant, progress] of this.tenants) progress.correlator?.reload(this.options.rulesOf(tenant));
    await Promise.allSettled(this.inFlight.map((f) => f.result));
    return old;
  }

  /** The next tenant with events not yet sent, taking tenants in turn so none starves the others. */
  private nextRun(): { tenant: string; from: number; progress: TenantProgress } | undefined {
    const tenants = [...this.tenants.keys()];
    for (let i = 0; i < tenants.length; i++) {
      const tenant = tenants[(this.turn + i) % tenants.length]!;
      const progress = this.tenants.get(tenant)!;
      if (progress.handingOver || !this.ownership.active(tenant)) continue;
      const from = progress.dispatched + 1;
      if (this.log.head(tenant) < from) continue;
      this.turn = (this.turn + i + 1) % tenants.length;
      return { tenant, from, progress };
    }
    return undefined;
  }

  private async fill(): Promise<void> {
    const max = this.options.maxInFlight ?? 4;
    while (this.inFlight.length < max) {
      const run = this.nextRun();
      if (!run) return;
      let read: ReadRun | undefined;
      try {
        read = await timedStep(this.times, 'logRead', () => this.readRun(run.tenant, run.from));
      } catch (error) {
        // Nothing was taken: the same events are asked for again at the next turn (a second on).
        if (!this.readFailing)
          this.options.onNote?.({ kind: 'log-unreadable', tenant: run.tenant, error: error as Error });
        this.readFailing = true;
        this.unreadable = true;
        return;
      }
      this.readFailing = false;
      if (!read) return;
      // Given up (and perhaps taken again, from the store) while the read was under way.
      const progress = run.progress;
      if (this.tenants.get(run.tenant) !== progress) continue;
      progress.dispatched = read.last;
      this.inFlight.push({ progress, result: this.pool.run(read.task, read.transfer) });
    }
  }

  /**
   * The next run of a tenant's log as a task for a detection thread: the log's own lines when it
   * keeps lines (handed over as bytes, not read here), else its records packed. Undefined when
   * there is nothing from `from` on.
   */
  private async readRun(tenant: string, from: number): Promise<ReadRun | undefined> {
    const max = this.options.batchSize ?? DEFAULT_BATCH;
    if (this.log.readLines) {
      const kept = await this.log.readLines(tenant, from, max);
      if (kept.count === 0) return undefined;
      return {
        task: { tenant, lines: kept.lines },
        last: kept.last,
        transfer: [kept.lines.buffer as ArrayBuffer],
      };
    }
    const records = await this.log.read(tenant, from, max);
    if (records.length === 0) return undefined;
    const task = packBatch(tenant, records);
    return {
      task,
      last: records.at(-1)!.seq,
      transfer: [task.meta.buffer as ArrayBuffer, task.sourceOf.buffer as ArrayBuffer],
    };
  }

  private async loop(): Promise<void> {
    for (;;) {
      await this.fill();
      const next = this.inFlight[0];
      if (next) {
        const batch = await timedStep(this.times, 'detectionWait', () => next.result);
        this.times.detectionThreads += batch.threadMs / 1000;
        this.inFlight.shift();
        // A tenant given up meanwhile is the new owner's to redo.
        if (this.tenants.get(batch.tenant) === next.progress) await this.handle(batch, next.progress);
        await this.finishHandovers();
        if (Date.now() - this.lastTick >= IDLE_TICK_MS) await this.tick();
        continue;
      }
      if (this.stopping) {
        await this.saveSnapshots();
        return;
      }
      await this.tick();
      const retrying = this.unreadable;
      this.unreadable = false;
      await this.finishHandovers();
      await new Promise<void>((resolve) => {
        // Growth would wake it at once; a log that failed to read is given the whole tick.
        if (!retrying) this.wake = resolve;
        setTimeout(resolve, IDLE_TICK_MS).unref();
      });
      this.wake = undefined;
    }
  }

  /** Lets event time move on for quiet tenants, and stores what that closes. */
  private async tick(): Promise<void> {
    this.lastTick = Date.now();
    for (const [tenant, progress] of this.tenants) {
      const results = progress.correlator?.tick(this.lastTick) ?? [];
      if (results.length === 0 && !this.snapshotDue(progress, this.lastTick)) continue;
      const detections = await this.correlationDetections(tenant, progress.correlator!, results);
      await this.commit(tenant, progress, detections, progress.committed);
    }
  }

  private snapshotDue(progress: TenantProgress, now: number): boolean {
    if (!progress.correlator) return false;
    if (progress.snapshotSeq === 0) return true;
    const moved = progress.correlator.dirty || progress.handled > progress.snapshotSeq;
    return moved && now - progress.snapshotAt >= snapshotInterval(progress.snapshotCostMs);
  }

  /** Tenants being handed over with nothing under way: their state is stored, then let go. */
  private async finishHandovers(): Promise<void> {
    for (const [tenant, progress] of [...this.tenants]) {
      if (!progress.handingOver || this.inFlight.some((f) => f.progress === progress)) continue;
      if (progress.correlator) {
        progress.snapshotAt = 0;
        await this.commit(tenant, progress, [], progress.committed, true);
      }
      if (this.tenants.get(tenant) === progress) this.forget(tenant, 'handed-over');
    }
  }

  private async handle(batch: EvaluatedBatch, progress: TenantProgress): Promise<void> {
    this.counters.events += batch.events;
    for (const problem of batch.errors) {
      this.counters.eventErrors++;
      this.options.onNote?.({
        kind: 'event-error',
        tenant: batch.tenant,
        error: new VigilError(problem.code, problem.message, problem.location),
      });
    }
    const detections: NewDetection[] = batch.detections.map((found) => ({
      // An event may hold several indicators of one type: each is its own detection.
      key: `${found.seq}:${ruleKey(found.detection.rule)}${found.detection.indicator ? `:${found.detection.indicator.value}` : ''}`,
      seq: found.seq,
      received: found.received,
      detection: found.detection,
      events: `[${found.event}]`,
      fields: () => storedFields(found.event, found.seq),
      alertWindowMs: this.options.alertWindowMs(found.detection.rule),
    }));
    if (batch.correlationInputs.length) {
      progress.correlator ??= new TenantCorrelator(
        this.options.rulesOf(batch.tenant),
        this.options.latenessMs,
        this.options.locate,
      );
      const results = progress.correlator.push(batch.correlationInputs);
      detections.push(...(await this.correlationDetections(batch.tenant, progress.correlator, results)));
    }
    progress.handled = batch.last;
    await this.commit(batch.tenant, progress, detections, Math.max(progress.committed, batch.last));
  }

  private async commit(
    tenant: string,
    progress: TenantProgress,
    detections: NewDetection[],
    processed: number,
    forceSnapshot = false,
  ): Promise<CommitResult> {
    const now = Date.now();
    const started = performance.now();
    const snapshot =
      forceSnapshot || this.snapshotDue(progress, now)
        ? { seq: progress.handled, state: progress.correlator!.snapshot() }
        : undefined;
    if (snapshot) this.times.correlationSnapshot += (performance.now() - started) / 1000;
    if (!this.ownership.owns(tenant)) {
      this.forget(tenant, 'lost');
      return { stored: 0, suppressed: 0, opened: [] };
    }
    let result: CommitResult;
    try {
      const fence = this.ownership.fence(tenant);
      result = await timedStep(this.times, 'storeCommit', () =>
        this.store.commit({ tenant, detections, processed, snapshot, ...(fence && { fence }) }),
      );
    } catch (error) {
      if (!(error instanceof LeaseLost)) throw error;
      this.forget(tenant, 'lost');
      return { stored: 0, suppressed: 0, opened: [] };
    }
    progress.committed = processed;
    if (snapshot) {
      progress.snapshotSeq = snapshot.seq;
      progress.snapshotAt = now;
      progress.snapshotCostMs = performance.now() - started;
      progress.correlator!.dirty = false;
    }
    this.counters.detections += result.stored;
    this.counters.suppressed += result.suppressed;
    for (const alert of result.opened) {
      this.options.onNote?.({
        kind: 'alert',
        tenant: alert.tenant,
        id: alert.id,
        rule: alert.rule.title,
        level: alert.rule.level,
        host: alert.host,
      });
    }
    return result;
  }

  /**
   * A correlation's result as a detection, stored with the events behind it as they were received
   * (read back from the log; the correlation itself kept only the fields it needs). Its key is the
   * rule, the group and the event that completed it: found again after a restart, it is stored once.
   */
  private async correlationDetections(
    tenant: string,
    correlator: TenantCorrelator,
    results: readonly CorrelationResult[],
  ): Promise<NewDetection[]> {
    const out: NewDetection[] = [];
    for (const result of results) {
      const detection = detectionFromCorrelation(result, correlator.levelOf(result.rule));
      const originals: string[] = [];
      let received = Date.now();
      for (const event of result.events) {
        const seq = event.source.seq;
        const [record] = seq === undefined ? [] : await this.log.read(tenant, seq, 1).catch(() => []);
        if (record !== undefined && record.seq === seq) {
          originals.push(record.event);
          received = record.received;
        } else {
          // Gone with retention (or the log unreadable now): the fields the correlation kept are what is left.
          originals.push(JSON.stringify(event.fields));
        }
      }
      const last = result.events.at(-1);
      out.push({
        key: `c:${ruleKey(detection.rule)}:${JSON.stringify(result.group)}:${last?.source.seq ?? result.time}`,
        seq: last?.source.seq ?? 0,
        received,
        detection,
        events: `[${originals.join(',')}]`,
        fields: () => ({ ...(last?.fields ?? {}), ...result.group }),
        alertWindowMs: this.options.alertWindowMs(detection.rule),
      });
    }
    return out;
  }

  private async saveSnapshots(): Promise<void> {
    for (const [tenant, progress] of this.tenants) {
      if (progress.correlator && (progress.correlator.dirty || progress.handled > progress.snapshotSeq)) {
        progress.snapshotAt = 0;
        await this.commit(tenant, progress, [], progress.committed);
      }
    }
  }

  /** Finishes everything accepted so far, saves the correlation state, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }
}
