import type { BusConfig } from './config.js';
import type { EventLog } from './event-log.js';
import { FileEventLog } from './file-event-log.js';

/**
 * Where a service's event log is: files in its data folder, or JetStream. Plain data, so that a
 * retro-hunt's thread is told it and opens the same log itself.
 */
export type EventLogPlace = { kind: 'files'; dir: string } | ({ kind: 'jetstream' } & BusConfig);

export function eventLogPlace(eventsDir: string, bus: BusConfig | undefined): EventLogPlace {
  return bus ? { kind: 'jetstream', ...bus } : { kind: 'files', dir: eventsDir };
}

/** How the service's log names where its events are. */
export function describeEventLogPlace(place: EventLogPlace): string {
  return place.kind === 'files'
    ? `files in ${place.dir}`
    : `JetStream at ${place.url} (streams ${place.prefix}_<tenant>)`;
}

/**
 * Opens the event log a place names. `readOnly`: a reader beside the running service (a hunt),
 * which changes nothing. The JetStream client is loaded only when a bus is used.
 */
export async function openEventLog(
  place: EventLogPlace,
  options: { readOnly?: boolean; name?: string } = {},
): Promise<EventLog> {
  if (place.kind === 'files') return new FileEventLog(place.dir, { readOnly: options.readOnly });
  const { JetStreamEventLog } = await import('./jetstream-event-log.js');
  return JetStreamEventLog.open({
    url: place.url,
    prefix: place.prefix,
    replicas: place.replicas,
    readOnly: options.readOnly,
    name: options.name,
  });
}
