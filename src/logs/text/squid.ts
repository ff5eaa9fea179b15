import type { FieldValue } from '../../core/index.js';
import { newFields } from '../windows-json.js';

/**
 * Squid's native access.log format (`logformat squid`): time elapsed remotehost code/status
 * bytes method URL rfc931 peerstatus/peerhost type, named after Squid's documentation. The URL's
 * host and file extension are added (`url_host`, `url_extension`) for proxy rules that test them.
 */
const SQUID =
  /^(\d+(?:\.\d+)?)\s+(-?\d+) (\S+) ([A-Za-z_]+)\/(\d{3}|-|\d+) (\d+|-) (\S+) (\S+) (\S+) ([A-Za-z_]+)\/(\S+) (\S+)(?: (.*))?$/;

export function isSquidLine(line: string): boolean {
  return SQUID.test(line);
}

function urlParts(url: string): { host: string | null; extension: string | null } {
  // `scheme://host/path`, or `host:port` as CONNECT requests are logged; anything else has no host.
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:?#]+)(?::\d+)?(\/[^?#]*)?/i.exec(url);
  const connect = m ? undefined : /^([^/:\s]+):\d+$/.exec(url);
  const path = m?.[2] ?? '';
  const ext = /\.([A-Za-z0-9]{1,10})$/.exec(path.slice(path.lastIndexOf('/') + 1));
  return { host: m?.[1] ?? connect?.[1] ?? null, extension: ext ? ext[1]!.toLowerCase() : null };
}

export function readSquidLine(
  line: string,
): { fields: Record<string, FieldValue>; time?: number } | undefined {
  const m = SQUID.exec(line);
  if (!m) return undefined;
  const fields = newFields();
  fields.time = Number(m[1]);
  fields.elapsed = Number(m[2]);
  fields.remotehost = m[3]!;
  fields.result_code = m[4]!;
  fields.status = m[5] === '-' ? null : Number(m[5]);
  fields.bytes = m[6] === '-' ? null : Number(m[6]);
  fields.method = m[7]!;
  fields.url = m[8]!;
  const { host, extension } = urlParts(m[8]!);
  fields.url_host = host;
  fields.url_extension = extension;
  fields.rfc931 = m[9] === '-' ? null : m[9]!;
  fields.hierarchy_code = m[10]!;
  fields.peerhost = m[11] === '-' ? null : m[11]!;
  fields.content_type = m[12] === '-' ? null : m[12]!;
  if (m[13]) fields.extra = m[13];
  return { fields, time: Math.round(Number(m[1]) * 1000) };
}
