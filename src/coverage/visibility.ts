import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { DataComponent } from '../attack/index.js';
import { VigilError } from '../core/index.js';
import type { LogSource } from '../sigma/index.js';
import type { CollectedLogSource, Collection } from './inventory.js';

/** Logs that would show something: one Windows channel (some or any of its events), or a Sigma log source. */
export type LogNeed =
  | {
      kind: 'windows';
      channel?: string;
      eventIds?: number[] /** As written, to show. */;
      channelName?: string;
    }
  | {
      kind: 'logsource';
      logsource: CollectedLogSource;
      /** What to turn on, as the pipelines say (`Zeek's rdp.log`), to show beside the log source. */
      collect?: string;
    }
  | { kind: 'any' };

export function needText(need: LogNeed): string {
  if (need.kind === 'any') return 'any log';
  if (need.kind === 'logsource') {
    const named = (['product', 'category', 'service'] as const)
      .filter((k) => need.logsource[k])
      .map((k) => `${k}: ${need.logsource[k]}`)
      .join(', ');
    return need.collect ? `${need.collect} (${named})` : named;
  }
  const ids = need.eventIds?.length ? ` ${need.eventIds.join(',')}` : '';
  return `${need.channelName ?? need.channel ?? 'any Windows channel'}${ids}`;
}

/** Whether a collection holds the logs a need names. */
export function collects(collection: Collection, need: LogNeed): boolean {
  switch (need.kind) {
    case 'any':
      return collection.windows.size > 0 || collection.logsources.length > 0;
    case 'logsource': {
      // A rule that names only a product runs on every event of it: any log of the product serves.
      const { product, category, service } = need.logsource;
      if (product !== undefined && category === undefined && service === undefined)
        return collection.logsources.some((entry) => entry.product === product);
      return collection.logsources.some((entry) => serves(entry, need.logsource));
    }
    case 'windows': {
      const holds = (events: Set<number> | 'all' | undefined): boolean => {
        if (events === undefined) return false;
        if (events === 'all') return true;
        if (!need.eventIds?.length) return events.size > 0;
        return need.eventIds.some((id) => events.has(id));
      };
      if (need.channel) return holds(collection.windows.get(need.channel.toLowerCase()));
      return [...collection.windows.values()].some(holds);
    }
  }
}

/** An inventory entry serves a rule's log source when every key the entry names has the rule's value. */
function serves(entry: CollectedLogSource, wanted: CollectedLogSource): boolean {
  return (['product', 'category', 'service'] as const).every(
    (k) => entry[k] === undefined || entry[k] === wanted[k]?.toLowerCase(),
  );
}

export function logsourceNeed(logsource: LogSource, collect?: string): LogNeed {
  const out: CollectedLogSource = {};
  for (const key of ['product', 'category', 'service'] as const)
    if (logsource[key]) out[key] = logsource[key]!.toLowerCase();
  return collect ? { kind: 'logsource', logsource: out, collect } : { kind: 'logsource', logsource: out };
}

/** ATT&CK log-source names in terms of Windows channels and Sigma log sources (data: mappings/). */
export interface LogSourceMap {
  windowsChannels: Map<string, string>;
  sigmaLogsources: Map<string, CollectedLogSource>;
}

export const DEFAULT_LOG_SOURCE_MAP = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'mappings',
  'attack-log-sources.yml',
);

export function readLogSourceMap(file = DEFAULT_LOG_SOURCE_MAP): LogSourceMap {
  let data: {
    windows_channels?: Record<string, string>;
    sigma_logsources?: Record<string, CollectedLogSource>;
  };
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new VigilError(
      'LOG_SOURCE_MAP_INVALID',
      `cannot read the log-source map: ${(error as Error).message}`,
      { file },
    );
  }
  return {
    windowsChannels: new Map(Object.entries(data?.windows_channels ?? {})),
    sigmaLogsources: new Map(Object.entries(data?.sigma_logsources ?? {})),
  };
}

/** What logs would show a data component, from the log sources ATT&CK names for it. */
export function componentNeeds(component: DataComponent, map: LogSourceMap): LogNeed[] {
  const needs: LogNeed[] = [];
  for (const { name, channel } of component.logSources) {
    if (name.startsWith('WinEventLog:')) {
      const short = name.slice('WinEventLog:'.length);
      const ids = /EventCode\s*=\s*([\d,\s]+)/i.exec(channel ?? '')?.[1];
      needs.push({
        kind: 'windows',
        channel: map.windowsChannels.get(short) ?? short,
        eventIds: ids
          ? ids
              .split(/[,\s]+/)
              .filter(Boolean)
              .map(Number)
          : undefined,
      });
    } else {
      const logsource = map.sigmaLogsources.get(name);
      if (logsource) needs.push({ kind: 'logsource', logsource });
    }
  }
  return needs;
}
