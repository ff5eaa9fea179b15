import { parentPort, workerData } from 'node:worker_threads';
import { type CoverageInputs, computeCoverage, loadCoverageInputs, type Notice } from '../assess/index.js';
import { describeError } from '../core/index.js';
import type { CollectedLogSource, CoverageReport } from '../coverage/index.js';
import { problemText } from './rules-page.js';
import { type StoredEvents, tenantInventory } from './tenant-inventory.js';

export interface CoverageTask {
  rules: string[];
  /** What the tenant collects is what these show. */
  events: StoredEvents;
  content: string | undefined;
  /** Rule keys the tenant turned off: not deployed for it. */
  disabled: string[];
}

/** What the coverage screen shows of a run: plain data, so it crosses from the thread that computed it. */
export interface CoverageSnapshot {
  attackVersion?: string;
  /** Tactics in matrix order. */
  tactics: { shortName: string; name: string }[];
  report: CoverageReport;
  ruleTitles: Map<string, string>;
  deployed: number;
  /** What counts as collected, in words. */
  collected: string;
  /** Windows channels among it. */
  channels: number;
  /** The log sources the pipelines recognized its events as (`aws/cloudtrail`, `zeek/dns`). */
  sources: string[];
  /** Inputs that could not be read, in words. */
  problems: string[];
  computedAt: number;
}

export type CoverageMessage =
  | { type: 'done'; snapshot: CoverageSnapshot }
  | { type: 'failed'; message: string };

/**
 * A tenant's coverage on a thread of its own: loading thousands of rules and ATT&CK, and scoring
 * every technique, never holds the service's event loop.
 */
async function run(task: CoverageTask): Promise<CoverageSnapshot> {
  const notices: Notice[] = [];
  const [inputs, inventory] = await Promise.all([
    loadCoverageInputs({ rules: task.rules, content: task.content }, (n) => notices.push(n)),
    tenantInventory(task.events),
  ]);
  const off = new Set(task.disabled);
  const deployed: CoverageInputs['deployed'] = inputs.deployed.filter(
    (rule) => !off.has(rule.id) && !off.has(`${rule.file}#${rule.title}`),
  );
  const run = computeCoverage({ ...inputs, deployed }, inventory);
  return {
    attackVersion: run.attack.version,
    tactics: run.attack.tactics.map((t) => ({ shortName: t.shortName, name: t.name })),
    report: run.report,
    ruleTitles: run.ruleTitles,
    deployed: deployed.length,
    collected: inventory.name,
    channels: inventory.collection.windows.size,
    sources: sourceLabels(inventory.collection.logsources),
    problems: notices
      .filter((n) => n.severity === 'error')
      .flatMap((n) => n.problems.map(problemText))
      .slice(0, 20),
    computedAt: Date.now(),
  };
}

/** `product/service` (or `product/category`) of each log source that names a product, once each. */
function sourceLabels(logsources: readonly CollectedLogSource[]): string[] {
  const labels = logsources
    .filter((l) => l.product && (l.service || l.category))
    .map((l) => `${l.product}/${l.service ?? l.category}`);
  return [...new Set(labels)].sort();
}

const port = parentPort!;
run(workerData as CoverageTask).then(
  (snapshot) => port.postMessage({ type: 'done', snapshot } satisfies CoverageMessage),
  (error) => port.postMessage({ type: 'failed', message: describeError(error) } satisfies CoverageMessage),
);
