import type { DetectionRule, Level, RuleSet } from '../sigma/index.js';
import { WorkerPool } from './pool.js';
import type { DumpFormat } from './render-unit.js';
import type { WorkUnit } from './units.js';

export type WorkerTask = WorkUnit;

/** What a worker is started with: everything it needs, as data (compiled rules cannot cross threads). */
export type WorkerInit =
  | {
      kind: 'hunt';
      ruleSet: Pick<RuleSet, 'rules' | 'correlations'> & { rules: DetectionRule[] };
      pipelines: string[];
      builtinPipeline: boolean;
      minLevel: Level;
    }
  | { kind: 'dump'; format: DumpFormat };

/** Units waiting for each worker: enough to keep it busy while the main thread works too. */
const QUEUED_PER_WORKER = 2;

/** Results held back for order at most (about 16 MiB of EVTX chunks). */
const MAX_OUTSTANDING = 256;

/**
 * Runs every unit and hands the results to `deliver` in unit order, whatever order they finish
 * in. With more than one thread, `threads - 1` workers take units while the main thread (which
 * has its own engine already) takes a unit itself whenever the workers have enough queued.
 */
export async function runOrdered<Result>(
  units: AsyncIterable<WorkUnit>,
  threads: number,
  init: WorkerInit,
  inline: () => (unit: WorkUnit) => Result,
  deliver: (result: Result) => void,
): Promise<void> {
  const handle = inline();
  if (threads <= 1) {
    for await (const unit of units) deliver(handle(unit));
    return;
  }
  const workers = threads - 1;
  // The workers start (parse the rule set, compile) while this thread already works.
  let pool: WorkerPool<WorkerTask, Result> | undefined;
  const starting = WorkerPool.start<WorkerTask, Result>(workers, init).then((started) => {
    pool = started;
    return started;
  });
  try {
    // Results in unit order; those not in yet are awaited only when too many are outstanding,
    // so this thread keeps taking units instead of waiting for a worker.
    const pending: { done: boolean; value?: Result; promise: Promise<Result> }[] = [];
    const drain = () => {
      while (pending.length && pending[0]!.done) deliver(pending.shift()!.value as Result);
    };
    for await (const unit of units) {
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
      drain();
      while (pending.length > MAX_OUTSTANDING) deliver(await pending.shift()!.promise);
    }
    for (const entry of pending.splice(0)) deliver(await entry.promise);
  } finally {
    await (await starting).close();
  }
}
