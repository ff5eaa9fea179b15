import type { EventWatch } from './collector.js';
import { WorkerPool } from './pool.js';
import type { DumpFormat } from './render-unit.js';
import type { EventScope, ReportScope } from './scope.js';
import type { SearchQuery } from './search.js';
import type { SetupOptions } from './setup.js';
import type { WorkUnit } from './units.js';

export type WorkerTask = WorkUnit;

/**
 * What a worker is started with, as data. A hunting worker loads the rules from the same files
 * as the main thread, while the main thread does: compiled rules cannot cross threads, and
 * loading in parallel costs less time than loading once and sending a copy.
 */
export type WorkerInit =
  | { kind: 'hunt'; setup: SetupOptions; report: ReportScope; scope?: EventScope; watch?: EventWatch }
  | { kind: 'dump'; format: DumpFormat }
  | { kind: 'search'; query: SearchQuery };

export interface OrderedRunOptions {
  /**
   * Told what the workers said once ready; returns false when they cannot be used (for a hunt:
   * they loaded other rules than this thread, the files having changed in between). This
   * thread then does all the work.
   */
  acceptWorkers?: (readiness: unknown[]) => boolean;
}

/** Units waiting for each worker: enough to keep it busy while the main thread works too. */
const QUEUED_PER_WORKER = 2;

/** Results held back for order at most (about 16 MiB of EVTX chunks). */
const MAX_OUTSTANDING = 256;

/**
 * Runs every unit and hands the results to `deliver` in unit order, whatever order they finish
 * in. With more than one thread, `threads - 1` workers start first and take units while the main
 * thread, once `prepare` has given it its own handler, takes a unit itself whenever the workers
 * have enough queued.
 */
export async function runOrdered<Result>(
  units: AsyncIterable<WorkUnit>,
  threads: number,
  init: WorkerInit,
  prepare: () => Promise<(unit: WorkUnit) => Result>,
  /** Takes each result; a promise it returns (output not keeping up) is awaited before going on. */
  deliver: (result: Result) => void | Promise<void>,
  options: OrderedRunOptions = {},
): Promise<void> {
  if (threads <= 1) {
    const handle = await prepare();
    for await (const unit of units) await deliver(handle(unit));
    return;
  }
  const workers = threads - 1;
  // The workers start (and load what they need) while this thread prepares and already works.
  let pool: WorkerPool<WorkerTask, Result> | undefined;
  const starting = WorkerPool.start<WorkerTask, Result>(workers, init).then(async (started) => {
    if (options.acceptWorkers && !options.acceptWorkers(started.readiness)) await started.close();
    else pool = started;
    return started;
  });
  try {
    const handle = await prepare();
    // Results in unit order; those not in yet are awaited only when too many are outstanding,
    // so this thread keeps taking units instead of waiting for a worker.
    const pending: { done: boolean; value?: Result; promise: Promise<Result> }[] = [];
    const drain = async () => {
      while (pending.length && pending[0]!.done) await deliver(pending.shift()!.value as Result);
    };
    for await (const unit of units) {
      // Files are read synchronously, so without this turn of the event loop no message from a
      // worker (ready, or a result) would arrive until every unit had been handed out.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (pool && pool.load < workers * QUEUED_PER_WORKER) {
        const transfer = unit.kind === 'evtx' ? [unit.buf.buffer as ArrayBuffer] : [];
        const entry: { done: boolean; value?: Result; promise: Promise<Result> } = {
          done: false,
          promise: pool.run(unit, transfer),
        };
        entry.promise.then(
          (value) => {
            entry.done = true;
            entry.value = value;
          },
          () => undefined,
        );
        pending.push(entry);
      } else {
        const value = handle(unit);
        pending.push({ done: true, value, promise: Promise.resolve(value) });
      }
      await drain();
      while (pending.length > MAX_OUTSTANDING) await deliver(await pending.shift()!.promise);
    }
    for (const entry of pending.splice(0)) await deliver(await entry.promise);
  } finally {
    await (await starting).close();
  }
}
