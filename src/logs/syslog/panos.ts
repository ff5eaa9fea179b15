import type { FieldValue } from '../../core/index.js';

/**
 * PAN-OS syslog in its default CSV form: `FUTURE_USE,Receive Time,Serial,Type,Subtype,…`, the
 * columns of each log type in the order Palo Alto's "Syslog Field Descriptions" give them, named
 * by the field names those pages put beside each column (`srcuser`, `public_ip`, `dport`). Columns
 * the pages call FUTURE_USE are left out; columns past the known ones (a newer PAN-OS adds them at
 * the end) are kept as `column<N>` (N counted from 1), so nothing a device sent is lost.
 */
const HEAD = ['', 'receive_time', 'serial', 'type', 'subtype', '', 'time_generated'];

const DEVICE_GROUPS = ['dg_hier_level_1', 'dg_hier_level_2', 'dg_hier_level_3', 'dg_hier_level_4'];

const COLUMNS: Record<string, readonly string[]> = {
  GLOBALPROTECT: [
    ...HEAD,
    'vsys',
    'eventid',
    'stage',
    'auth_method',
    'tunnel_type',
    'srcuser',
    'srcregion',
    'machinename',
    'public_ip',
    'public_ipv6',
    'private_ip',
    'private_ipv6',
    'hostid',
    'serialnumber',
    'client_ver',
    'client_os',
    'client_os_ver',
    'repeatcnt',
    'reason',
    'error',
    'opaque',
    'status',
    'location',
    'login_duration',
    'connect_method',
    'error_code',
    'portal',
    'seqno',
    'actionflags',
    'high_res_timestamp',
    'selection_type',
    'response_time',
    'priority',
    'attempted_gateways',
    'gateway',
    ...DEVICE_GROUPS,
    'vsys_name',
    'device_name',
    'vsys_id',
    'cluster_name',
  ],
  SYSTEM: [
    ...HEAD,
    'vsys',
    'eventid',
    'object',
    '',
    '',
    'module',
    'severity',
    'opaque',
    'seqno',
    'actionflags',
    ...DEVICE_GROUPS,
    'vsys_name',
    'device_name',
  ],
  TRAFFIC: [
    ...HEAD,
    'src',
    'dst',
    'natsrc',
    'natdst',
    'rule',
    'srcuser',
    'dstuser',
    'app',
    'vsys',
    'from',
    'to',
    'inbound_if',
    'outbound_if',
    'logset',
    '',
    'sessionid',
    'repeatcnt',
    'sport',
    'dport',
    'natsport',
    'natdport',
    'flags',
    'proto',
    'action',
    'bytes',
    'bytes_sent',
    'bytes_received',
    'packets',
    'start',
    'elapsed',
    'category',
    '',
    'seqno',
    'actionflags',
    'srcloc',
    'dstloc',
    '',
    'pkts_sent',
    'pkts_received',
    'session_end_reason',
  ],
};

/** Log types whose first columns (up to the generated time) are the common head. */
const TYPES = new Set([
  'TRAFFIC',
  'THREAT',
  'SYSTEM',
  'CONFIG',
  'GLOBALPROTECT',
  'USERID',
  'AUTH',
  'HIPMATCH',
  'DECRYPTION',
  'TUNNEL',
  'SCTP',
  'IPTAG',
  'CORRELATION',
]);

/** Sticky: tried at the message's start without copying the message. */
const START = /\d+,\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d,[^,]*,([A-Z]+),/y;

/** The log type of a PAN-OS CSV message starting at `start`, or undefined when it is not one. */
export function panOsType(text: string, start = 0): string | undefined {
  const first = text.charCodeAt(start);
  if (first < 0x30 || first > 0x39) return undefined;
  START.lastIndex = start;
  const type = START.exec(text)?.[1];
  return type !== undefined && TYPES.has(type) ? type : undefined;
}

/** The values of one CSV line: quoted values may hold commas, `""` is a quote. */
export function splitCsv(text: string, start = 0): string[] {
  const values: string[] = [];
  let i = start;
  for (;;) {
    if (text.charCodeAt(i) === 0x22) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote < 0) {
          value += text.slice(from);
          i = text.length;
          break;
        }
        value += text.slice(from, quote);
        if (text.charCodeAt(quote + 1) === 0x22) {
          value += '"';
          from = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      values.push(value);
      const comma = text.indexOf(',', i);
      if (comma < 0) return values;
      i = comma + 1;
    } else {
      const comma = text.indexOf(',', i);
      values.push(text.slice(i, comma < 0 ? text.length : comma));
      if (comma < 0) return values;
      i = comma + 1;
    }
  }
}

/**
 * The fields of a PAN-OS CSV message of type `type` (see `panOsType`). A log type whose columns
 * are not listed here gets its common head and the rest as `column<N>`. Empty columns are left out.
 */
export function readPanOs(
  text: string,
  start: number,
  type: string,
  fields: Record<string, FieldValue>,
  name: (key: string) => string,
): void {
  const values = splitCsv(text, start);
  const columns = COLUMNS[type] ?? HEAD;
  values.forEach((value, index) => {
    if (value === '') return;
    const column = index < columns.length ? columns[index]! : `column${index + 1}`;
    if (column !== '') fields[name(column)] = value;
  });
  if (type === 'SYSTEM' && fields.subtype === 'globalprotect') addGlobalProtectSystemFields(fields);
}

/**
 * Before PAN-OS 9.1 (and still, beside the GLOBALPROTECT type), GlobalProtect logs its logins as
 * SYSTEM events (`globalprotectgateway-auth-fail`, `globalprotectportal-auth-succ` …) whose
 * description names the user and the address: `… Login from: 203.0.113.5, Source region: US,
 * User name: alice, …`. They are given the GLOBALPROTECT type's names, `srcuser` and `public_ip`.
 */
function addGlobalProtectSystemFields(fields: Record<string, FieldValue>): void {
  const description = fields.opaque;
  if (typeof description !== 'string') return;
  const from = /Login from: ([^,\s]+)/.exec(description)?.[1];
  const user = /User name: ([^,]+)/.exec(description)?.[1]?.trim();
  if (from !== undefined && fields.public_ip === undefined) fields.public_ip = from;
  if (user !== undefined && fields.srcuser === undefined) fields.srcuser = user;
}
