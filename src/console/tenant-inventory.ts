import { RecognizedLogs } from '../assess/index.js';
import type { Inventory } from '../coverage/index.js';
import { loadSetupPipelines, type SetupOptions } from '../detect/index.js';
import { toLogEvent } from '../logs/index.js';
import { FileEventLog } from '../service/index.js';

/** A tenant's stored events, and the setup (its pipelines) the service reads them with. */
export interface StoredEvents {
  /** The service's event log folder (read beside the service, never changed). */
  eventsDir: string;
  tenant: string;
  setup: SetupOptions;
}

/** The newest stored events read to learn what a tenant collects: enough for every source it sends. */
const EVENTS_SAMPLED = 50_000;
const READ_BATCH = 2000;

/**
 * What a tenant's newest stored events show it collects: their Windows channels and event IDs, and
 * the log sources the service's pipelines recognize the others as (Linux, Zeek, cloud …), as
 * `vigil coverage --logs` takes them from files. Run on the coverage's and assessment's threads.
 */
export async function tenantInventory(source: StoredEvents): Promise<Inventory> {
  const { tenant } = source;
  const log = new FileEventLog(source.eventsDir, { readOnly: true });
  try {
    const collected = new RecognizedLogs(await loadSetupPipelines(source.setup));
    const head = log.head(tenant);
    let from = Math.max(log.tail(tenant), head - EVENTS_SAMPLED + 1);
    let seen = 0;
    while (from <= head) {
      const records = await log.read(tenant, from, READ_BATCH);
      if (records.length === 0) break;
      for (const record of records) {
        try {
          collected.add(toLogEvent(JSON.parse(record.event), record.source, record.seq));
          seen++;
        } catch {
          // An event detection could not read either: it shows nothing collected.
        }
      }
      from = records.at(-1)!.seq + 1;
    }
    return collected.inventory(`the ${seen.toLocaleString('en')} newest stored events of ${tenant}`);
  } finally {
    await log.close();
  }
}
