import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VigilError } from '../core/index.js';

/**
 * A fixed set of worker threads that each take one task at a time. Tasks are queued when all
 * are busy; results come back as promises, which the caller awaits in its own order.
 */
export class WorkerPool<Task, Result> {
  private readonly idle: Worker[] = [];
  private readonly queue: {
    task: Task;
    transfer: ArrayBuffer[];
    resolve: (r: Result) => void;
    reject: (e: Error) => void;
  }[] = [];
  private readonly running = new Map<Worker, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;
  /** What each worker said when it was ready (see worker.ts). */
  readonly readiness: unknown[] = [];

  private constructor(private readonly workers: Worker[]) {}

  /**
   * Starts `size` workers with `init`; resolves once each has said it is ready. `script` is the
   * worker's module (default: the hunt and dump worker), one that answers as worker.ts does.
   */
  static async start<Task, Result>(
    size: number,
    init: unknown,
    script: URL = workerScript(import.meta.url, 'detect/worker.js'),
  ): Promise<WorkerPool<Task, Result>> {
    if (!existsSync(script)) {
      throw new VigilError(
        'WORKER_FAILED',
        `the worker script ${fileURLToPath(script)} is missing; run npm run build`,
      );
    }
    const workers = Array.from({ length: size }, () => new Worker(script, { workerData: init }));
    const pool = new WorkerPool<Task, Result>(workers);
    await Promise.all(workers.map((worker) => pool.ready(worker)));
    for (const worker of workers) pool.listen(worker);
    return pool;
  }

  private ready(worker: Worker): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; message?: string; info?: unknown }) => {
        if (message.type === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', reject);
          this.readiness.push(message.info);
          this.idle.push(worker);
          resolve();
        } else if (message.type === 'failed') {
          reject(new VigilError('WORKER_FAILED', `a worker could not start: ${message.message}`));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  }

  private listen(worker: Worker): void {
    worker.on('message', (message: { type: string; result?: Result; message?: string }) => {
      const job = this.running.get(worker);
      this.running.delete(worker);
      if (!job) return;
      if (message.type === 'done') job.resolve(message.result as Result);
      else job.reject(new VigilError('WORKER_FAILED', `a worker failed: ${message.message}`));
      this.idle.push(worker);
      this.next();
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`a worker stopped with code ${code}`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const job of [...this.running.values(), ...this.queue]) job.reject(error);
    this.running.clear();
    this.queue.length = 0;
  }

  /** Tasks given to the pool and not finished yet. */
  get load(): number {
    return this.running.size + this.queue.length;
  }

  run(task: Task, transfer: ArrayBuffer[] = []): Promise<Result> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ task, transfer, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(worker, job);
      worker.postMessage({ type: 'task', task: job.task }, job.transfer);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/**
 * A worker module of the build (`path` from the build's root, e.g. `detect/worker.js`), found from
 * a module one folder deep in the source (`src/detect/pool.ts`) or the build. Workers run compiled
 * code: when the asking module runs from its TypeScript source (tests, tsx scripts), the build's
 * worker is used; the data it is given is plain either way.
 */
export function workerScript(askingModule: string, path: string): URL {
  const fromSource = fileURLToPath(askingModule).endsWith('.ts');
  return new URL(fromSource ? `../../dist/${path}` : `../${path}`, askingModule);
}
