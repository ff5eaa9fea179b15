import type { WorkUnit } from '../detect/index.js';
import type { EventLog } from './event-log.js';

/** Records per unit of work: about what a JSON unit of `hunt` holds. */
const UNIT_RECORDS = 2000;

/**
 * A tenant's stored events as units of hunting work, in log order, so that `hunt` (and a
 * retro-hunt of the service) reads them as it reads files: each event is numbered by its position
 * in the log, and keeps the time stored beside it when no field of it holds one.
 */
export async function* storedEventUnits(
  log: EventLog,
  tenant: string,
  onProgress?: (records: number) => void,
  /** Only the newest this many events (a backtest's bound); all of them when absent. */
  newest?: number,
): AsyncGenerator<WorkUnit> {
  const file = `events/${tenant}`;
  let read = 0;
  const start =
    newest === undefined ? log.tail(tenant) : Math.max(log.tail(tenant), log.head(tenant) - newest + 1);
  for (let from = start; from <= log.head(tenant); ) {
    const records = await log.read(tenant, from, UNIT_RECORDS);
    if (records.length === 0) return;
    read += records.length;
    onProgress?.(read);
    yield {
      kind: 'json',
      file,
      records: records.map((r) => ({ text: r.event, line: r.seq, number: r.seq, time: r.time })),
    };
    from = records.at(-1)!.seq + 1;
  }
}
