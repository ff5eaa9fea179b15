import { parentPort, workerData } from 'node:worker_threads';
import { describeError, openGeoDatabase } from '../core/index.js';
import {
  type Detection,
  type EventScope,
  huntUnits,
  type IndicatorTable,
  type SetupOptions,
} from '../detect/index.js';
import type { EventLog } from './event-log.js';
import { type EventLogPlace, openEventLog } from './open-event-log.js';
import { storedEventUnits } from './stored-units.js';

export interface RetroHuntTask {
  events: EventLogPlace;
  tenant: string;
  setup: SetupOptions;
  scope: EventScope;
  indicators?: IndicatorTable;
  /** Only the newest this many stored events. */
  newest?: number;
  /** Rule keys (id, or file#title) whose detections are left out: rules the tenant turned off. */
  skipRules?: string[];
  /** The service's geolocation database, for correlations that place addresses. */
  geoip?: string;
}

export type RetroHuntMessage =
  | { type: 'detections'; detections: Detection[] }
  | { type: 'done'; events: number }
  | { type: 'failed'; message: string };

/** Detections leave in batches of this many. */
const BATCH = 500;

/**
 * A retro-hunt on a thread of its own, so that the service goes on taking and detecting events:
 * the tenant's stored events, read beside the service without changing anything, through the
 * hunt's rules, exactly as `vigil hunt --data` runs them.
 */
async function run(task: RetroHuntTask, post: (message: RetroHuntMessage) => void): Promise<void> {
  const log = await openEventLog(task.events, { readOnly: true, name: `vigil retro-hunt ${task.tenant}` });
  try {
    await hunt(task, log, post);
  } finally {
    // A bus connection left open would keep the thread alive after the hunt.
    await log.close();
  }
}

async function hunt(task: RetroHuntTask, log: EventLog, post: (message: RetroHuntMessage) => void) {
  let batch: Detection[] = [];
  const skip = new Set(task.skipRules ?? []);
  const summary = await huntUnits(
    () => storedEventUnits(log, task.tenant, undefined, task.newest),
    { files: [`events/${task.tenant}`], totalBytes: log.size(task.tenant) },
    {
      setup: task.setup,
      scope: task.scope,
      ...(task.indicators ? { watch: { iocs: task.indicators } } : {}),
      ...(task.geoip ? { locate: openGeoDatabase(task.geoip) } : {}),
      onDetection: (detection) => {
        const rule = detection.rule;
        if (skip.has(rule.id ?? `${rule.file}#${rule.title}`)) return;
        batch.push(detection);
        if (batch.length >= BATCH) {
          post({ type: 'detections', detections: batch });
          batch = [];
        }
      },
    },
  );
  if (batch.length) post({ type: 'detections', detections: batch });
  post({ type: 'done', events: summary.events });
}

const port = parentPort!;
run(workerData as RetroHuntTask, (message) => port.postMessage(message)).catch((error) =>
  port.postMessage({ type: 'failed', message: describeError(error) }),
);
