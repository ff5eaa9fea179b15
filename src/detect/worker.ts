import { parentPort, workerData } from 'node:worker_threads';
import { builtinPipelines, combinePipelines, loadPipeline, type Pipeline } from '../sigma/index.js';
import { UnitEvaluator } from './collector.js';
import { DetectionEngine } from './engine.js';
import type { WorkerInit, WorkerTask } from './parallel.js';
import { renderUnit } from './render-unit.js';

/** A worker thread: builds its own engine from the rules the main thread parsed, then evaluates units. */
async function start(init: WorkerInit): Promise<(task: WorkerTask) => unknown> {
  if (init.kind === 'dump') return (task) => renderUnit(revive(task), init.format);
  const pipelines: Pipeline[] = init.builtinPipeline ? await builtinPipelines() : [];
  for (const file of init.pipelines) pipelines.push(await loadPipeline(file));
  const engine = new DetectionEngine(init.ruleSet.rules, combinePipelines(pipelines));
  const evaluator = new UnitEvaluator(engine, init.ruleSet, init.minLevel);
  return (task) => evaluator.evaluate(revive(task));
}

/** Chunk bytes arrive as a plain Uint8Array; the parsers want a Buffer over the same memory. */
function revive(task: WorkerTask): WorkerTask {
  if (task.kind !== 'evtx') return task;
  const bytes = task.buf as Uint8Array;
  return { ...task, buf: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

const port = parentPort!;
start(workerData as WorkerInit).then(
  (handle) => {
    port.on('message', (message: { type: string; task: WorkerTask }) => {
      try {
        port.postMessage({ type: 'done', result: handle(message.task) });
      } catch (error) {
        port.postMessage({ type: 'error', message: (error as Error).message });
      }
    });
    port.postMessage({ type: 'ready' });
  },
  (error: Error) => port.postMessage({ type: 'failed', message: error.message }),
);
