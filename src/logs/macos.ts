import type { FieldValue } from '../core/index.js';

/**
 * Endpoint Security (ESF) events as `eslogger` writes them (JSON, one `es_message_t` per line:
 * `event_type`, `process`, `event: {<name>: {...}}`, `time`). What a rule needs that JSON alone
 * cannot name is added beside the event's own fields: `es_event`, the event's name (`exec`,
 * `create`); `command_line`, an exec's arguments joined by spaces; `target_path`, the file a file
 * event wrote (a create's or rename's destination, a write's target).
 */

type JsonObject = { [key: string]: FieldValue };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether the record is an Endpoint Security message as eslogger writes it. */
export function isEsloggerEvent(record: JsonObject): boolean {
  return (
    typeof record.event_type === 'number' &&
    isObject(record.process) &&
    isObject(record.event) &&
    Object.keys(record.event).length === 1
  );
}

function pathOf(file: FieldValue | undefined): string | undefined {
  return isObject(file) && typeof file.path === 'string' ? file.path : undefined;
}

/**
 * A create's or rename's destination: an existing file (`destination_type` 0), or a new one
 * (`destination_type` 1) named by its folder and file name.
 */
function destinationPath(event: JsonObject): string | undefined {
  const destination = event.destination;
  if (!isObject(destination)) return undefined;
  const existing = pathOf(destination.existing_file);
  if (existing !== undefined) return existing;
  const created = destination.new_path;
  if (!isObject(created) || typeof created.filename !== 'string') return undefined;
  const dir = pathOf(created.dir);
  return dir === undefined ? created.filename : `${dir.replace(/\/$/, '')}/${created.filename}`;
}

export function addEsloggerNames(record: JsonObject, fields: Record<string, FieldValue>): void {
  const [name, body] = Object.entries(record.event as JsonObject)[0]!;
  fields.es_event ??= name;
  if (!isObject(body)) return;
  if (name === 'exec' && Array.isArray(body.args))
    fields.command_line ??= body.args.filter((arg) => typeof arg === 'string').join(' ');
  const target =
    name === 'create' || name === 'rename'
      ? destinationPath(body)
      : name === 'write' || name === 'unlink' || name === 'truncate'
        ? pathOf(body.target)
        : undefined;
  if (target !== undefined) fields.target_path ??= target;
}
