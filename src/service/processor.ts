import { VigilError } from '../core/index.js';
import type { WorkerPool } from '../detect/index.js';
import type { BatchTask, EvaluatedBatch } from './evaluate.js';
import type { EventLog } from './event-log.js';
import { ruleKey } from './sqlite-store.js';
import type { CommitResult, NewDetection, ServiceStore } from './store.js';

export interface ProcessorOptions {
  /** Events per task sent to a detection thread. */
  batchSize?: number;
  /** Tasks under way at once (results are taken in order). */
  maxInFlight?: number;
  /** How close in time detections of one rule and host must be to join one alert. */
  alertWindowMs: (rule: { id?: string; title: string }) => number;
  /** Told of what is worth a line in the service's log. */
  onNote?: (note: ProcessorNote) => void;
}

export type ProcessorNote =
  | { kind: 'alert'; tenant: string; id: number; rule: string; level: string; host: string }
  | { kind: 'event-error'; tenant: string; error: VigilError }
  | { kind: 'failure'; error: Error };

export interface ProcessorCounters {
  events: number;
  detections: number;
  suppressed: number;
  eventErrors: number;
}

const DEFAULT_BATCH = 2000;

/**
 * Takes every tenant's event log from where processing stopped, runs it through the detection
 * threads, and stores what fired with the new position in one transaction. A crash between two
 * commits only repeats work: detections are stored under keys that make a repeat a no-op.
 */
export class Processor {
  private readonly dispatched = new Map<string, number>();
  private readonly inFlight: { task: BatchTask; result: Promise<EvaluatedBatch> }[] = [];
  private readonly tenantsSeen = new Set<string>();
  private wake: (() => void) | undefined;
  private stopping = false;
  private running: Promise<void> | undefined;
  private turn = 0;
  readonly counters: ProcessorCounters = { events: 0, detections: 0, suppressed: 0, eventErrors: 0 };

  constructor(
    private readonly log: EventLog,
    private readonly store: ServiceStore,
    private pool: WorkerPool<BatchTask, EvaluatedBatch>,
    private readonly options: ProcessorOptions,
  ) {}

  /** Picks up every tenant's position and starts working; returns at once. */
  async start(): Promise<void> {
    for (const tenant of this.log.tenants()) await this.track(tenant);
    this.running = this.loop().catch((error: Error) => this.options.onNote?.({ kind: 'failure', error }));
  }

  private async track(tenant: string): Promise<void> {
    if (this.tenantsSeen.has(tenant)) return;
    this.tenantsSeen.add(tenant);
    const position = await this.store.position(tenant);
    this.dispatched.set(tenant, position);
    this.committed.set(tenant, position);
  }

  /** Says a tenant's log grew. */
  notify(tenant: string): void {
    if (!this.tenantsSeen.has(tenant)) {
      void this.track(tenant).then(() => this.wake?.());
      return;
    }
    this.wake?.();
  }

  /** Per tenant, the last position stored as processed. */
  private readonly committed = new Map<string, number>();

  /** Events accepted and not yet processed, over all tenants. */
  get backlog(): number {
    let total = 0;
    for (const tenant of this.tenantsSeen) total += this.log.head(tenant) - (this.committed.get(tenant) ?? 0);
    return total;
  }

  /** Swaps the detection threads (rules reloaded): tasks under way finish on the old ones. */
  async replacePool(
    pool: WorkerPool<BatchTask, EvaluatedBatch>,
  ): Promise<WorkerPool<BatchTask, EvaluatedBatch>> {
    const old = this.pool;
    this.pool = pool;
    await Promise.allSettled(this.inFlight.map((f) => f.result));
    return old;
  }

  /** The next tenant with events not yet sent, taking tenants in turn so none starves the others. */
  private nextRun(): { tenant: string; from: number } | undefined {
    const tenants = [...this.tenantsSeen];
    for (let i = 0; i < tenants.length; i++) {
      const tenant = tenants[(this.turn + i) % tenants.length]!;
      const from = this.dispatched.get(tenant)! + 1;
      if (this.log.head(tenant) < from) continue;
      this.turn = (this.turn + i + 1) % tenants.length;
      return { tenant, from };
    }
    return undefined;
  }

  private async fill(): Promise<void> {
    const max = this.options.maxInFlight ?? 4;
    while (this.inFlight.length < max) {
      const run = this.nextRun();
      if (!run) return;
      const records = await this.log.read(run.tenant, run.from, this.options.batchSize ?? DEFAULT_BATCH);
      if (records.length === 0) return;
      const task: BatchTask = { tenant: run.tenant, records };
      this.dispatched.set(run.tenant, records.at(-1)!.seq);
      this.inFlight.push({ task, result: this.pool.run(task) });
    }
  }

  private async loop(): Promise<void> {
    for (;;) {
      await this.fill();
      const next = this.inFlight[0];
      if (!next) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1000).unref();
        });
        this.wake = undefined;
        continue;
      }
      const batch = await next.result;
      this.inFlight.shift();
      await this.handle(batch);
    }
  }

  private async handle(batch: EvaluatedBatch): Promise<CommitResult> {
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
      key: `${found.seq}:${ruleKey(found.detection.rule)}`,
      seq: found.seq,
      received: found.received,
      detection: found.detection,
      events: `[${found.event}]`,
      fields: found.fields,
      alertWindowMs: this.options.alertWindowMs(found.detection.rule),
    }));
    const result = await this.store.commit({ tenant: batch.tenant, detections, processed: batch.last });
    this.committed.set(batch.tenant, Math.max(this.committed.get(batch.tenant) ?? 0, batch.last));
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

  /** Finishes everything accepted so far, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
  }
}
