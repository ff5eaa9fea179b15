import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * Zeek's TSV logs: `#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`,
 * `#fields` and `#types` header lines, then one record per line. Values take their Zeek type
 * (count, int, double, time, interval and port are numbers, bool is true/false, set and vector
 * are lists); unset fields are left out, as Zeek's JSON writer does; `_path` is the header's.
 */
export interface ZeekHeader {
  separator: string;
  setSeparator: string;
  empty: string;
  unset: string;
  path?: string;
  fields: string[];
  types: string[];
}

const NUMERIC = new Set(['count', 'int', 'double', 'time', 'interval', 'port']);

function unescapeSeparator(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

export function isZeekHeader(line: string): boolean {
  return line.startsWith('#separator ');
}

/** Reads a `#` header line into the header (a `#separator` line starts a new one). */
export function readZeekDirective(line: string, header: ZeekHeader | undefined): ZeekHeader | undefined {
  if (line.startsWith('#separator ')) {
    return {
      separator: unescapeSeparator(line.slice('#separator '.length)),
      setSeparator: ',',
      empty: '(empty)',
      unset: '-',
      fields: [],
      types: [],
    };
  }
  if (!header) return header;
  const [name, ...rest] = line.slice(1).split(header.separator);
  switch (name) {
    case 'set_separator':
      return { ...header, setSeparator: rest[0] ?? ',' };
    case 'empty_field':
      return { ...header, empty: rest[0] ?? '(empty)' };
    case 'unset_field':
      return { ...header, unset: rest[0] ?? '-' };
    case 'path':
      return { ...header, path: rest[0] };
    case 'fields':
      return { ...header, fields: rest };
    case 'types':
      return { ...header, types: rest };
    default:
      return header;
  }
}

function typed(value: string, type: string): FieldValue {
  if (NUMERIC.has(type)) {
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  if (type === 'bool') return value === 'T' ? true : value === 'F' ? false : value;
  return value;
}

/** How each column is read, worked out once per header. */
type Column =
  | { name: string; kind: 'number' | 'bool' | 'text' }
  | { name: string; kind: 'list'; item: string };

const plans = new WeakMap<ZeekHeader, Column[]>();

function columnsOf(header: ZeekHeader): Column[] {
  let columns = plans.get(header);
  if (!columns) {
    columns = header.fields.map((name, i): Column => {
      const type = header.types[i] ?? 'string';
      const inner = /^(?:set|vector)\[(\w+)\]$/.exec(type);
      if (inner) return { name, kind: 'list', item: inner[1]! };
      return { name, kind: NUMERIC.has(type) ? 'number' : type === 'bool' ? 'bool' : 'text' };
    });
    plans.set(header, columns);
  }
  return columns;
}

export function readZeekLine(
  line: string,
  header: ZeekHeader | undefined,
): { fields: Record<string, FieldValue>; time?: number } | string {
  if (!header?.fields.length) return 'a record before the #fields header line';
  const values = line.split(header.separator);
  const columns = columnsOf(header);
  if (values.length !== columns.length)
    return `${values.length} values where #fields names ${columns.length}`;
  const fields = newFields();
  if (header.path !== undefined) fields._path = header.path;
  for (let i = 0; i < columns.length; i++) {
    const value = values[i]!;
    if (value === header.unset) continue;
    const column = columns[i]!;
    if (value === header.empty) fields[column.name] = column.kind === 'list' ? [] : '';
    else if (column.kind === 'text') fields[column.name] = value;
    else if (column.kind === 'list')
      fields[column.name] = value.split(header.setSeparator).map((v) => typed(v, column.item));
    else fields[column.name] = typed(value, column.kind === 'number' ? 'count' : 'bool');
  }
  const ts = fields.ts;
  return { fields, time: typeof ts === 'number' ? Math.round(ts * 1000) : undefined };
}
