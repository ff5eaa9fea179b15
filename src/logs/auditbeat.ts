import { type FieldValue, parseTimestamp } from '../core/index.js';

/**
 * Audit events as Elastic's agents ship them: Auditbeat's auditd module and Elastic Agent's Auditd
 * Manager integration (one document per event, ECS fields plus `auditd.*`: `message_type`,
 * `sequence`, `data`, `paths`, the rule keys in `tags`), and Filebeat's auditd module (one document
 * per audit.log record, its pairs under `auditd.log`). SigmaHQ's auditd rules name the raw record
 * fields (`type`, `SYSCALL`, `exe`, `a0`, `key`, `name`), so each document also gets those names,
 * as Vigil's audit.log reader gives them for the same event; a name the document already has is
 * left as it is.
 */

type JsonObject = { [key: string]: FieldValue };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: FieldValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Whether the record is an audit document of Auditbeat, Elastic Agent or Filebeat. */
export function isAuditbeatDocument(record: JsonObject): boolean {
  const auditd = record.auditd;
  if (!isObject(auditd)) return false;
  return (
    auditd.sequence !== undefined ||
    auditd.message_type !== undefined ||
    (isObject(auditd.log) && auditd.log.record_type !== undefined)
  );
}

/**
 * ECS fields (as the flattened document names them) and the audit record fields they came from
 * (`user.effective.id` was `euid`).
 */
const ECS_NAMES: [string, string][] = [
  ['process.pid', 'pid'],
  ['process.ppid', 'ppid'],
  ['process.parent.pid', 'ppid'],
  ['process.executable', 'exe'],
  ['process.name', 'comm'],
  ['process.working_directory', 'cwd'],
  ['process.title', 'proctitle'],
  ['user.id', 'uid'],
  ['user.audit.id', 'auid'],
  ['user.effective.id', 'euid'],
  ['user.saved.id', 'suid'],
  ['user.filesystem.id', 'fsuid'],
  ['user.group.id', 'gid'],
  ['user.effective.group.id', 'egid'],
  ['user.saved.group.id', 'sgid'],
  ['user.filesystem.group.id', 'fsgid'],
  ['auditd.session', 'ses'],
];

/** The PATH record fields Auditbeat keeps for each path (`auditd.paths[]`). */
const PATH_NAMES = ['name', 'nametype', 'inode', 'dev', 'mode', 'ouid', 'ogid', 'rdev', 'item'];

/**
 * Adds the raw audit names to an Elastic audit document's flattened fields: `msg` is `audit(SECONDS.MS:SEQUENCE)`
 * (so the document is recognized as auditd, as a raw record is), `type` the record types the
 * event was built from, the syscall's own fields (`auditd.data`), the process and user fields by
 * their record names, the EXECVE arguments as `a0`, `a1` … beside the syscall's (as the records
 * of one serial join), the paths' fields, and the rule keys (`tags`) as `key`.
 */
export function addAuditdNames(record: JsonObject, fields: Record<string, FieldValue>): void {
  const auditd = record.auditd as JsonObject;
  if (isObject(auditd.log)) {
    addFilebeatRecord(record, auditd.log, fields);
    return;
  }
  // Each raw name's values, in the order the records would give them.
  const values = new Map<string, FieldValue[]>();
  const add = (name: string, value: FieldValue | undefined) => {
    if (value === undefined || value === null || isObject(value)) return;
    let list = values.get(name);
    if (!list) {
      list = [];
      values.set(name, list);
    }
    if (Array.isArray(value)) list.push(...value);
    else list.push(value);
  };
  const types: string[] = [];
  const messageType = text(auditd.message_type);
  if (messageType) types.push(messageType.toUpperCase());
  const data = auditd.data;
  if (isObject(data)) {
    for (const [key, value] of Object.entries(data)) add(key, value);
    const syscall = text(data.syscall);
    // Newer auditd writes the syscall's name as `SYSCALL=` beside its number; rules use both.
    if (syscall) add('SYSCALL', syscall);
  }
  if (auditd.result === 'success' || auditd.result === 'fail')
    add('success', auditd.result === 'success' ? 'yes' : 'no');
  for (const [path, name] of ECS_NAMES) if (!values.has(name)) add(name, fields[path]);
  const args = fields['process.args'];
  if (Array.isArray(args) && args.length) {
    types.push('EXECVE');
    add('argc', args.length);
    for (const [i, arg] of args.entries()) add(`a${i}`, arg);
  }
  if (values.has('cwd')) types.push('CWD');
  const paths = auditd.paths;
  if (Array.isArray(paths) && paths.length) {
    types.push('PATH');
    for (const path of paths) if (isObject(path)) for (const name of PATH_NAMES) add(name, path[name]);
  }
  if (values.has('proctitle')) types.push('PROCTITLE');
  const tags = record.tags;
  if (Array.isArray(tags) || typeof tags === 'string') add('key', tags);
  setAbsent(fields, 'type', types.length === 1 ? types[0]! : types.length ? types : undefined);
  setAbsent(fields, 'msg', auditId(record, auditd.sequence));
  for (const [name, list] of values) setAbsent(fields, name, list.length === 1 ? list[0]! : list);
}

/** Filebeat's auditd module: one record, its type in `record_type`, its pairs beside it. */
function addFilebeatRecord(record: JsonObject, log: JsonObject, fields: Record<string, FieldValue>): void {
  setAbsent(fields, 'type', text(log.record_type));
  setAbsent(fields, 'msg', auditId(record, log.sequence));
  for (const [key, value] of Object.entries(log))
    if (key !== 'record_type' && key !== 'sequence' && !isObject(value)) setAbsent(fields, key, value);
  for (const [path, name] of ECS_NAMES) setAbsent(fields, name, fields[path]);
}

/** `audit(SECONDS.MS:SEQUENCE)`, the id a raw record carries, from the document's time and sequence. */
function auditId(record: JsonObject, sequence: FieldValue | undefined): string | undefined {
  const serial = text(sequence);
  const time = parseTimestamp(record['@timestamp']);
  if (serial === undefined || time === undefined) return undefined;
  const ms = String(time % 1000).padStart(3, '0');
  return `audit(${Math.floor(time / 1000)}.${ms}:${serial})`;
}

function setAbsent(fields: Record<string, FieldValue>, name: string, value: FieldValue | undefined): void {
  if (value !== undefined && value !== null && !isObject(value) && fields[name] === undefined)
    fields[name] = value;
}
