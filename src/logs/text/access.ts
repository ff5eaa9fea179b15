import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * Web server access logs in the Common and Combined Log Formats (Apache httpd's `common` and
 * `combined`, nginx's default, Tomcat's AccessLogValve): fields named after Apache's log format
 * directives (`%h` remote_host, `%l` remote_logname, `%u` remote_user, `%t` time, `%r` request,
 * `%>s` status, `%b` bytes, then the Referer and User-Agent headers); the request line is also
 * taken apart (method, uri, path, query, protocol). Text after the user agent (a virtual host,
 * a response time) is kept as `extra`.
 */
// The request is taken up to the first `" status bytes`: Tomcat and older servers write the quotes
// of a request line (an XSS probe's) unescaped.
const ACCESS =
  /^(\S+) (\S+) (\S+) \[([^\]]+)\] "(.*?)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(?: (.*))?$/;

export function isAccessLine(line: string): boolean {
  return ACCESS.test(line);
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** `17/May/2015:10:05:03 +0000` as ms since the epoch. */
export function accessTime(text: string): number | undefined {
  const m =
    /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))? ([+-])(\d{2})(\d{2})$/.exec(
      text,
    );
  const month = m ? MONTHS[m[2]!] : undefined;
  if (!m || month === undefined) return undefined;
  const local = Date.UTC(
    Number(m[3]),
    month,
    Number(m[1]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
    Number((m[7] ?? '0').padEnd(3, '0')),
  );
  const offset = (Number(m[9]) * 60 + Number(m[10])) * 60_000 * (m[8] === '-' ? -1 : 1);
  return local - offset;
}

const unquote = (text: string) => text.replace(/\\(["\\])/g, '$1');
const dash = (text: string | undefined): string | null => (text === undefined || text === '-' ? null : text);

export function readAccessLine(
  line: string,
): { fields: Record<string, FieldValue>; time?: number } | undefined {
  const m = ACCESS.exec(line);
  if (!m) return undefined;
  const fields = newFields();
  fields.remote_host = m[1]!;
  fields.remote_logname = dash(m[2]);
  fields.remote_user = dash(m[3]);
  fields.time = m[4]!;
  const request = unquote(m[5]!);
  fields.request = request;
  const parts = /^(\S+) (\S+)(?: (\S+))?$/.exec(request);
  if (parts) {
    fields.method = parts[1]!;
    fields.uri = parts[2]!;
    const q = parts[2]!.indexOf('?');
    fields.path = q < 0 ? parts[2]! : parts[2]!.slice(0, q);
    fields.query = q < 0 ? null : parts[2]!.slice(q + 1);
    fields.protocol = parts[3] ?? null;
  }
  fields.status = m[6] === '-' ? null : Number(m[6]);
  fields.bytes = m[7] === '-' ? null : Number(m[7]);
  if (m[8] !== undefined) fields.referer = dash(unquote(m[8]));
  if (m[9] !== undefined) fields.user_agent = dash(unquote(m[9]));
  if (m[10]) fields.extra = m[10];
  return { fields, time: accessTime(m[4]!) };
}
