import type { FieldValue } from '../core/index.js';

/**
 * Windows events as EVTX-to-JSON converters write them, turned into Sigma's flat field names:
 * `System` children by name, XML attributes as `Element_Attribute` (`Provider_Name`,
 * `Execution_ProcessID`), `TimeCreated` as its SystemTime, and every `EventData`/`UserData` item
 * by its Name. Values keep their JSON types.
 */

type JsonObject = { [key: string]: FieldValue };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ATTRIBUTES = '#attributes';
const TEXT = '#text';

/** The `Event` element of the common nested form, if `record` has it. */
export function windowsEventElement(record: JsonObject): JsonObject | undefined {
  const event = record.Event;
  if (isObject(event) && isObject(event.System)) return event;
  return undefined;
}

export function flattenWindowsEvent(event: JsonObject): Record<string, FieldValue> {
  const fields = newFields();
  const system = event.System as JsonObject;
  for (const [name, value] of Object.entries(system)) {
    if (name === ATTRIBUTES) continue;
    if (isObject(value)) {
      const attributes = value[ATTRIBUTES];
      if (isObject(attributes)) {
        for (const [attribute, attributeValue] of Object.entries(attributes)) {
          fields[`${name}_${attribute}`] = attributeValue;
        }
      }
      if (TEXT in value) fields[name] = value[TEXT]!;
    } else {
      fields[name] = value;
    }
  }
  if (fields.TimeCreated === undefined && fields.TimeCreated_SystemTime !== undefined) {
    fields.TimeCreated = fields.TimeCreated_SystemTime;
  }
  for (const section of ['EventData', 'UserData'] as const) {
    const data = event[section];
    if (data !== undefined && data !== null) addDataItems(data, fields, section === 'UserData');
  }
  return fields;
}

/**
 * EventData is `{Name: value}` (evtx_dump), or `{Data: [{"@Name"|"#attributes":{Name}, "#text"}]}`
 * (xmltodict-style converters), or unnamed `Data` values. UserData holds one element whose
 * children are the items, sometimes nested further.
 */
function addDataItems(data: FieldValue, fields: Record<string, FieldValue>, nested: boolean): void {
  if (!isObject(data)) return;
  for (const [name, value] of Object.entries(data)) {
    if (name === ATTRIBUTES || name === TEXT) continue;
    if (name === 'Data' && Array.isArray(value) && value.every(isNamedData)) {
      for (const item of value) {
        const { key, text } = namedData(item as JsonObject);
        setItem(fields, key, text);
      }
      continue;
    }
    if (name === 'Data' && isObject(value) && isNamedData(value)) {
      const { key, text } = namedData(value);
      setItem(fields, key, text);
      continue;
    }
    if (nested && isObject(value) && !(TEXT in value)) {
      addDataItems(value, fields, true);
      continue;
    }
    const item = isObject(value) && TEXT in value ? value[TEXT]! : value;
    setItem(fields, name, item);
  }
}

/**
 * Sigma names fields as the event does with spaces removed (`Source Name` is `SourceName`), so
 * names with spaces are kept and also given without them.
 */
export function setItem(fields: Record<string, FieldValue>, name: string, value: FieldValue): void {
  if (!(name in fields)) fields[name] = value;
  if (name.includes(' ')) {
    const compact = name.replace(/ /g, '');
    if (!(compact in fields)) fields[compact] = value;
  }
}

function isNamedData(value: FieldValue): boolean {
  if (!isObject(value)) return false;
  const attributes = value[ATTRIBUTES];
  return typeof value['@Name'] === 'string' || (isObject(attributes) && typeof attributes.Name === 'string');
}

function namedData(item: JsonObject): { key: string; text: FieldValue } {
  const attributes = item[ATTRIBUTES];
  const key = typeof item['@Name'] === 'string' ? item['@Name'] : String((attributes as JsonObject).Name);
  return { key, text: item[TEXT] ?? item.value ?? null };
}

/** Winlogbeat / Elastic Agent documents (`winlog.*`) seen with Sigma's Windows field names. */
export function flattenWinlog(record: JsonObject): Record<string, FieldValue> | undefined {
  const winlog = record.winlog;
  if (!isObject(winlog) || (winlog.channel === undefined && winlog.event_id === undefined)) return undefined;
  const fields = newFields();
  const set = (name: string, value: FieldValue | undefined) => {
    if (value !== undefined) fields[name] = value;
  };
  set('Channel', winlog.channel);
  const eventId = winlog.event_id;
  set('EventID', typeof eventId === 'string' && /^\d+$/.test(eventId) ? Number(eventId) : eventId);
  set('Computer', winlog.computer_name);
  set('Provider_Name', winlog.provider_name);
  set('EventRecordID', winlog.record_id);
  set('TimeCreated', record['@timestamp']);
  for (const section of [winlog.event_data, winlog.user_data]) {
    if (isObject(section)) for (const [k, v] of Object.entries(section)) if (!(k in fields)) fields[k] = v;
  }
  return fields;
}

/**
 * The OpenTelemetry Collector's `windowseventlog` receiver body (`channel`, `computer`,
 * `event_id.id`, `provider.name`, `record_id`, `system_time`, `event_data`, ...) seen with Sigma's
 * Windows field names. `event_data` is a map of items by name (current receivers) or
 * `{data: [{Name: value}, ...]}` (receivers of 2023-2025). Levels, tasks and opcodes are kept
 * when numeric (the receiver sends rendered names when it has them), as is the keyword mask.
 */
export function flattenCollectorWindowsEvent(record: JsonObject): Record<string, FieldValue> | undefined {
  const eventId = record.event_id;
  if (typeof record.channel !== 'string' || !isObject(eventId) || record.record_id === undefined)
    return undefined;
  const fields = newFields();
  const set = (name: string, value: FieldValue | undefined) => {
    if (value !== undefined && value !== null && value !== '') fields[name] = value;
  };
  const numeric = (value: FieldValue | undefined) =>
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : undefined;
  set('Channel', record.channel);
  set('EventID', numeric(eventId.id) ?? eventId.id);
  if (eventId.qualifiers) set('EventID_Qualifiers', eventId.qualifiers);
  set('Computer', record.computer);
  const provider = isObject(record.provider) ? record.provider : {};
  set('Provider_Name', provider.name);
  set('Provider_Guid', provider.guid);
  set('Provider_EventSourceName', provider.event_source);
  set('EventRecordID', numeric(record.record_id) ?? record.record_id);
  set('TimeCreated', record.system_time);
  set('TimeCreated_SystemTime', record.system_time);
  set('Version', numeric(record.version));
  set('Level', numeric(record.level));
  set('Task', numeric(record.task));
  set('Opcode', numeric(record.opcode));
  const keywords = Array.isArray(record.keywords) ? record.keywords : [];
  set(
    'Keywords',
    keywords.find((k) => typeof k === 'string' && /^0x[0-9a-f]+$/i.test(k)),
  );
  if (isObject(record.security)) set('Security_UserID', record.security.user_id);
  if (isObject(record.execution)) {
    set('Execution_ProcessID', record.execution.process_id);
    set('Execution_ThreadID', record.execution.thread_id);
  }
  if (isObject(record.correlation)) {
    set('Correlation_ActivityID', record.correlation.activity_id);
    set('Correlation_RelatedActivityID', record.correlation.related_activity_id);
  }
  const eventData = record.event_data;
  if (isObject(eventData) && Array.isArray(eventData.data)) {
    for (const item of eventData.data)
      if (isObject(item)) for (const [k, v] of Object.entries(item)) setItem(fields, k, v);
    if (eventData.binary) setItem(fields, 'Binary', eventData.binary);
  } else if (isObject(eventData)) {
    for (const [k, v] of Object.entries(eventData)) setItem(fields, k, v);
  }
  if (isObject(record.user_data)) {
    for (const [k, v] of Object.entries(record.user_data)) if (k !== 'xml_name') setItem(fields, k, v);
  }
  return fields;
}

/** Objects nested deeper than this stay whole under their dotted name. */
const MAX_FLATTEN_DEPTH = 16;

/** Any other JSON object: top-level keys as they are, nested objects also as dotted names. */
export function flattenGeneric(record: JsonObject): Record<string, FieldValue> {
  const fields = newFields();
  const visit = (prefix: string, value: FieldValue, depth: number): void => {
    if (isObject(value) && depth < MAX_FLATTEN_DEPTH) {
      for (const [key, child] of Object.entries(value))
        visit(prefix ? `${prefix}.${key}` : key, child, depth + 1);
    } else if (prefix) {
      fields[prefix] = value;
    }
  };
  visit('', record, 0);
  return fields;
}

/** A fields object without a prototype: a field named `constructor` or `__proto__` is just a field. */
export function newFields(): Record<string, FieldValue> {
  return Object.create(null) as Record<string, FieldValue>;
}
