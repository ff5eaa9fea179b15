import { parentPort, workerData } from 'node:worker_threads';
import { UnitEvaluator } from './collector.js';
import type { WorkerInit, WorkerTask } from './parallel.js';
import { renderUnit } from './render-unit.js';
import { UnitSearcher } from './search.js';
import { loadDetectionSetup, ruleSetDigest } from './setup.js';

interface Started {
  handle: (task: WorkerTask) => unknown;
  /** Sent with 'ready': for a hunt, the digest of the rules this worker loaded. */
  info?: string;
}

/**
 * A worker thread: it renders (dump), searches or hunts the units it is given. For a hunt it
 * loads and compiles the rules itself, from the same files as the main thread and at the same
 * time (rather than after it, from a copy), then evaluates units.
 */
async function start(init: WorkerInit): Promise<Started> {
  if (init.kind === 'dump') return { handle: (task) => renderUnit(revive(task), init.format) };
  if (init.kind === 'search') {
    const searcher = new UnitSearcher(init.query);
    return { handle: (task) => searcher.search(revive(task)) };
  }
  const setup = await loadDetectionSetup(init.setup);
  const evaluator = new UnitEvaluator(setup.engine, setup.ruleSet, init.report, init.watch, init.scope);
  return { handle: (task) => evaluator.evaluate(revive(task)), info: ruleSetDigest(setup.ruleSet) };
}

/** Chunk bytes arrive as a plain Uint8Array; the parsers want a Buffer over the same memory. */
function revive(task: WorkerTask): WorkerTask {
  if (task.kind !== 'evtx') return task;
  const bytes = task.buf as Uint8Array;
  return { ...task, buf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

const port = parentPort!;
start(workerData as WorkerInit).then(
  ({ handle, info }) => {
    port.on('message', (message: { type: string; task: WorkerTask }) => {
      try {
        port.postMessage({ type: 'done', result: handle(message.task) });
      } catch (error) {
        port.postMessage({ type: 'error', message: (error as Error).message });
      }
    });
    port.postMessage({ type: 'ready', info });
  },
  (error: Error) => port.postMessage({ type: 'failed', message: error.message }),
);
