import type { FieldValue } from '../../core/index.js';
import { parseTimestamp } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * W3C extended log files (IIS's default format): `#Fields:` names the space-separated columns
 * (`date time s-ip cs-method cs-uri-stem cs-uri-query ... cs(User-Agent) ... sc-status`), `-` is
 * an empty value. Fields keep the header's names, which are the ones SigmaHQ's web rules use;
 * `cs-uri` (stem and query, as requested) is added when the log has no such column.
 */
export interface W3cHeader {
  fields: string[];
  /** `#Software:` as written, when given. */
  software?: string;
}

/** Reads a `#` directive line into the header; returns it unchanged for other directives. */
export function readW3cDirective(line: string, header: W3cHeader | undefined): W3cHeader | undefined {
  const m = /^#([A-Za-z-]+):\s*(.*)$/.exec(line);
  if (!m) return header;
  if (m[1] === 'Fields') return { ...header, fields: m[2]!.trim().split(/\s+/) };
  if (m[1] === 'Software') return { fields: header?.fields ?? [], software: m[2]!.trim() };
  return header;
}

export function isW3cDirective(line: string): boolean {
  return /^#(Software|Version|Date|Fields|Start-Date|Remark):/.test(line);
}

export function readW3cLine(
  line: string,
  header: W3cHeader | undefined,
): { fields: Record<string, FieldValue>; time?: number } | string {
  if (!header?.fields.length) return 'a record before any #Fields: line';
  const values = line.trim().split(/\s+/);
  if (values.length !== header.fields.length)
    return `${values.length} values where #Fields: names ${header.fields.length}`;
  const fields = newFields();
  header.fields.forEach((name, i) => {
    const value = values[i]!;
    fields[name] =
      value === '-'
        ? null
        : /^(sc-status|sc-substatus|sc-win32-status|s-port|time-taken|sc-bytes|cs-bytes)$/.test(name) &&
            /^\d+$/.test(value)
          ? Number(value)
          : value;
  });
  if (!header.fields.includes('cs-uri') && typeof fields['cs-uri-stem'] === 'string') {
    const query = fields['cs-uri-query'];
    fields['cs-uri'] =
      typeof query === 'string' ? `${fields['cs-uri-stem']}?${query}` : fields['cs-uri-stem'];
  }
  const date = fields.date;
  const clock = fields.time;
  const time =
    typeof date === 'string' && typeof clock === 'string' ? parseTimestamp(`${date}T${clock}Z`) : undefined;
  return { fields, time };
}
