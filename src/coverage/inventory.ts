import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { eventChannel, type LogEvent, setFor, VigilError } from '../core/index.js';

/** A Sigma-style log source a team collects (`product: linux, service: auditd`; `category: proxy`). */
export interface CollectedLogSource {
  product?: string;
  category?: string;
  service?: string;
}

/** What a team (or one of its host groups) collects. */
export interface Collection {
  /** Windows channel (as written in events, compared in lower case) -> event IDs, or 'all'. */
  windows: Map<string, Set<number> | 'all'>;
  logsources: CollectedLogSource[];
}

export interface Inventory {
  name: string;
  /** Where it came from: a file, or the logs it was inferred from. */
  origin: string;
  inferred: boolean;
  collection: Collection;
  /** Host groups that collect differently, each complete in itself. */
  groups: Map<string, Collection>;
}

const LOGSOURCE_KEYS = ['product', 'category', 'service'] as const;

/**
 * Reads a log-source inventory (YAML). Every problem names the file, line and field:
 *
 * ```yaml
 * name: Head office
 * windows:
 *   Security: all
 *   Microsoft-Windows-Sysmon/Operational: [1, 3, 11, 13, 22]
 * logsources:
 *   - { product: linux, service: auditd }
 * groups:
 *   dmz:
 *     windows: { Security: [4624, 4625] }
 * ```
 */
export function readInventory(file: string): Inventory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new VigilError('INVENTORY_UNREADABLE', `cannot read the inventory: ${(error as Error).message}`, {
      file,
    });
  }
  return parseInventory(text, file);
}

export function parseInventory(text: string, file: string): Inventory {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0) {
    const error = document.errors[0]!;
    throw new VigilError('INVENTORY_INVALID', `not valid YAML: ${error.message.split('\n')[0]}`, {
      file,
      line: error.linePos?.[0]?.line,
    });
  }
  const fail = (message: string, path: (string | number)[]): never => {
    const node = document.getIn(path, true) as { range?: [number, number] } | undefined;
    const line = node?.range ? lines.linePos(node.range[0]).line : undefined;
    throw new VigilError('INVENTORY_INVALID', message, { file, line, field: path.join('.') || undefined });
  };
  const root = document.contents;
  if (!isMap(root))
    fail('an inventory is a map with windows:, logsources: and optionally name: and groups:', []);
  const data = document.toJS() as Record<string, unknown>;
  for (const key of Object.keys(data)) {
    if (!['name', 'windows', 'logsources', 'groups'].includes(key))
      fail(`unknown key '${key}' (expected name, windows, logsources, groups)`, [key]);
  }
  const collection = (value: Record<string, unknown>, path: (string | number)[]): Collection => {
    const windows = new Map<string, Set<number> | 'all'>();
    const channels = value.windows ?? {};
    if (typeof channels !== 'object' || channels === null || Array.isArray(channels)) {
      fail('windows: maps channel names to "all" or a list of event IDs', [...path, 'windows']);
    }
    for (const [channel, ids] of Object.entries(channels as Record<string, unknown>)) {
      const where = [...path, 'windows', channel];
      if (ids === 'all' || ids === '*') windows.set(channel.toLowerCase(), 'all');
      else if (Array.isArray(ids) && ids.every((id) => Number.isInteger(id) && (id as number) >= 0)) {
        windows.set(channel.toLowerCase(), new Set(ids as number[]));
      } else if (Number.isInteger(ids)) windows.set(channel.toLowerCase(), new Set([ids as number]));
      else fail(`the events of ${channel} must be "all" or a list of event IDs`, where);
    }
    const logsources: CollectedLogSource[] = [];
    const list = value.logsources ?? [];
    if (!Array.isArray(list))
      fail('logsources: is a list of { product, category, service }', [...path, 'logsources']);
    (list as unknown[]).forEach((entry, i) => {
      const where = [...path, 'logsources', i];
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
        fail('each log source is a map', where);
      const source: CollectedLogSource = {};
      for (const [key, v] of Object.entries(entry as Record<string, unknown>)) {
        if (!(LOGSOURCE_KEYS as readonly string[]).includes(key))
          fail(`unknown key '${key}' (expected product, category, service)`, [...where, key]);
        if (typeof v !== 'string' || v === '') fail(`${key} must be a name`, [...where, key]);
        source[key as (typeof LOGSOURCE_KEYS)[number]] = (v as string).toLowerCase();
      }
      if (Object.keys(source).length === 0)
        fail('a log source names at least one of product, category, service', where);
      logsources.push(source);
    });
    return { windows, logsources };
  };
  const groups = new Map<string, Collection>();
  if (data.groups !== undefined) {
    if (!isMap(document.get('groups', true)))
      fail('groups: maps group names to their own windows: and logsources:', ['groups']);
    for (const [name, value] of Object.entries(data.groups as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        fail('a group is a map', ['groups', name]);
      groups.set(name, collection(value as Record<string, unknown>, ['groups', name]));
    }
  }
  if (data.logsources !== undefined && !isSeq(document.get('logsources', true)))
    fail('logsources: is a list', ['logsources']);
  return {
    name: typeof data.name === 'string' ? data.name : file,
    origin: file,
    inferred: false,
    collection: collection(data, []),
    groups,
  };
}

/**
 * What sample logs show is collected, told event by event: every Windows channel and event ID
 * seen, and the log sources the pipelines recognized the other events as. Fed by whatever reads
 * the logs anyway (`assess` feeds it from its hunt).
 */
export class CollectedLogs {
  /** Channel in lower case -> event IDs seen. */
  private readonly windows = new Map<string, Set<number>>();
  /** Sigma log sources the events were recognized as, by their text (for uniqueness). */
  private readonly logsources = new Map<string, CollectedLogSource>();

  add(event: LogEvent): void {
    const seen = eventChannel(event);
    if (seen) this.addIds(seen.channel, [seen.id]);
  }

  /** Event IDs seen in a channel (as a hunt's threads report them). */
  addIds(channel: string, ids: Iterable<number>): void {
    const known = setFor(this.windows, channel.toLowerCase());
    for (const id of ids) known.add(id);
  }

  /** A Sigma log source some events were recognized as (`{product: zeek, service: dns}`). */
  addLogsource(logsource: CollectedLogSource): void {
    const own: CollectedLogSource = {};
    for (const key of LOGSOURCE_KEYS) if (logsource[key]) own[key] = logsource[key]!.toLowerCase();
    this.logsources.set(JSON.stringify(LOGSOURCE_KEYS.map((key) => own[key] ?? null)), own);
  }

  /** What was seen, as an inventory named after where it came from. */
  inventory(origin: string): Inventory {
    return {
      name: `inferred from ${origin}`,
      origin,
      inferred: true,
      collection: { windows: new Map(this.windows), logsources: [...this.logsources.values()] },
      groups: new Map(),
    };
  }
}
