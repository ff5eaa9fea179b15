import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../core/index.js';
import { importFindings, type ScanReport } from '../vuln/index.js';

export interface ScanTask {
  /** The uploaded file, written to a private folder. */
  path: string;
}

/** A parsed scan as plain data (its problems in words), so it crosses back from the thread. */
export type ScanMessage =
  | { type: 'done'; scan: Omit<ScanReport, 'problems'> & { problems: [] }; problems: string[] }
  | { type: 'failed'; message: string };

/** A scanner file parsed on a thread of its own: a large Nessus export never holds the service. */
const port = parentPort!;
try {
  const { problems, ...scan } = importFindings((workerData as ScanTask).path);
  port.postMessage({
    type: 'done',
    scan: { ...scan, problems: [] },
    problems: problems.map((p) => describeError(p)),
  } satisfies ScanMessage);
} catch (error) {
  port.postMessage({ type: 'failed', message: describeError(error) } satisfies ScanMessage);
}
