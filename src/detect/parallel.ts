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

/** How many units may be in flight per worker: enough to keep them busy, few enough for memory. */
const IN_FLIGHT_PER_WORKER = 4;

/**
 * Runs every unit through `inline` on this thread (threads <= 1) or through a pool of workers,
 * and hands the results to `deliver` in unit order, whatever order the workers finish in.
 */
export async function runOrdered<Result>(
  units: AsyncIterable<WorkUnit>,
  threads: number,
  init: WorkerInit,
  inline: () => (unit: WorkUnit) => Result,
  deliver: (result: Result) => void,
): Promise<void> {
  if (threads <= 1) {
    const handle = inline();
    for await (const unit of units) deliver(handle(unit));
    return;
  }
  const pool = await WorkerPool.start<WorkerTask, Result>(threads, init);
  try {
    const pending: Promise<Result>[] = [];
    for await (const unit of units) {
      const transfer = unit.kind === 'evtx' ? [unit.buf.buffer as ArrayBuffer] : [];
      pending.push(pool.run(unit, transfer));
      if (pending.length >= threads * IN_FLIGHT_PER_WORKER) deliver(await pending.shift()!);
    }
    while (pending.length) deliver(await pending.shift()!);
  } finally {
    await pool.close();
  }
}
