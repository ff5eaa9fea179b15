import { parentPort, workerData } from 'node:worker_threads';
import { runAssessment } from '../assess/index.js';
import { describeError, type FetchOptions } from '../core/index.js';
import { renderHtml } from '../report/index.js';
import { type StoredEvents, tenantInventory } from './tenant-inventory.js';

export interface AssessTask {
  /** A file of the server's or a URL. */
  advisory: string;
  fetch: FetchOptions;
  rules: string[];
  /** What the tenant collects is what these show. */
  events: StoredEvents;
  content: string | undefined;
}

export interface AssessSummary {
  title?: string;
  techniques: number;
  covered: number;
  blind: number;
  maturity: number;
}

export type AssessMessage =
  | { type: 'done'; html: string; summary: AssessSummary }
  | { type: 'failed'; message: string };

/**
 * One assessment on a thread of its own: reading a large PDF, fetching a slow site and computing
 * the coverage never hold the service's event loop (ingest, detection, the console).
 */
async function run(task: AssessTask): Promise<AssessMessage> {
  const result = await runAssessment({
    advisories: [task.advisory],
    fetch: task.fetch,
    rules: task.rules,
    inventory: await tenantInventory(task.events),
    content: task.content,
  });
  const report = result.run.report;
  return {
    type: 'done',
    html: renderHtml(result.assessment),
    summary: {
      title: result.assessment.advisories[0]?.title,
      techniques: report.techniques.length,
      covered: report.counts.covered,
      blind: report.counts.blind,
      maturity: report.maturity.score,
    },
  };
}

const port = parentPort!;
run(workerData as AssessTask).then(
  (message) => port.postMessage(message),
  (error) => port.postMessage({ type: 'failed', message: describeError(error) } satisfies AssessMessage),
);
