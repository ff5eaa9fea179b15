/**
 * The one event shape every reader produces and every detector consumes (see docs/DESIGN.md).
 * Field names are the ones Sigma rules use; values keep their JSON types.
 */
import { cloudHost } from './cloud-host.js';

export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };

export interface EventSource {
  /** File the event came from, as given by the user. */
  file: string;
  /**
   * The record's number: a Windows event's EventRecordID (from EVTX or its JSON dump alike), else
   * its 1-based position in the file.
   */
  record: number;
  /** 1-based line where the record starts, for text formats. */
  line?: number;
  /** Position in a tenant's event log, for events that came through `vigil serve`. */
  seq?: number;
}

export interface LogEvent {
  /** Flat view: Sigma field name -> value (`EventID`, `Image`, `Provider_Name`, `process.command_line`). */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** The nested original, reachable by dotted path when a name is not a flat field. */
  readonly raw?: FieldValue;
  readonly source: EventSource;
  /** Milliseconds since the epoch (UTC), when the event carries a time. */
  readonly time?: number;
}

/** A field by Sigma name: the flat view first, then a dotted path through the nested original. */
export function getField(event: LogEvent, name: string): FieldValue | undefined {
  const flat = own(event.fields, name);
  if (flat !== undefined) return flat;
  if (event.raw === undefined || !name.includes('.')) return undefined;
  return getPath(event.raw, name);
}

/** A field of an object itself, never one inherited from `Object.prototype` (`constructor`, `toString`). */
function own(object: Readonly<Record<string, FieldValue>>, key: string): FieldValue | undefined {
  const value = object[key];
  if (value === undefined || (typeof value === 'function' && !Object.hasOwn(object, key))) return undefined;
  if (key === '__proto__' && !Object.hasOwn(object, key)) return undefined;
  return value;
}

/**
 * A value by dotted path. Through a list of objects the path goes on in each element, and the
 * values found are the list's (Okta's `target.displayName`, GCP's `authorizationInfo.permission`).
 */
export function getPath(root: FieldValue, dotted: string): FieldValue | undefined {
  return walkPath(root, dotted.split('.'), 0);
}

function walkPath(
  node: FieldValue | undefined,
  keys: readonly string[],
  from: number,
): FieldValue | undefined {
  for (let i = from; i < keys.length; i++) {
    if (node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) {
      const found: FieldValue[] = [];
      for (const element of node) {
        const value = walkPath(element, keys, i);
        if (Array.isArray(value)) found.push(...value);
        else if (value !== undefined) found.push(value);
      }
      return found.length ? found : undefined;
    }
    node = own(node, keys[i]!);
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * Hostname of the event, whatever the source calls it; for a cloud service's event, the account,
 * subscription, project or tenant it happened in (see `cloudHost`).
 */
export function eventHost(event: LogEvent): string | undefined {
  for (const name of HOST_FIELDS) {
    const value = event.fields[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return cloudHost(event.fields);
}

/** The fields that name an event's host, in the order they are looked at. */
export const HOST_FIELDS: readonly string[] = [
  'Computer',
  'ComputerName',
  'Hostname',
  'host.name',
  'hostname',
  'host',
  // Microsoft 365 Defender's device tables, Sentinel's CommonSecurityLog.
  'DeviceName',
  // Exchange message tracking: the server that logged the event.
  'server-hostname',
  // The systemd journal (`journalctl -o json`); auditd's `node=` (its name_format setting).
  '_HOSTNAME',
  'node',
  // FortiGate's own name for itself, when no relay's syslog header names the sender.
  'devname',
];

/** The Windows channel and event ID of an event, as written, when it has both. */
export function eventChannel(event: LogEvent): { channel: string; id: number } | undefined {
  const channel = event.fields.Channel;
  const id = Number(event.fields.EventID);
  return typeof channel === 'string' && Number.isInteger(id) ? { channel, id } : undefined;
}
