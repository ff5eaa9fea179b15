import ipaddr from 'ipaddr.js';
import { VigilError } from './errors.js';
import { type Cidr, cidrContains, parseCidr } from './ip.js';

/**
 * Which addresses a download from a URL someone else gave may reach. Only global unicast
 * addresses: loopback, private (RFC 1918, fc00::/7), link-local, carrier-grade NAT, unspecified,
 * multicast, broadcast and the reserved and special-purpose ranges of IANA's registries are the
 * way into the network Vigil runs in, not where an advisory is published.
 */

/**
 * The instance metadata services of the clouds (AWS, GCP and Azure on 169.254.169.254, AWS over
 * IPv6 and ECS tasks, Alibaba, Oracle): they hand out credentials, so no allow-list opens them.
 */
const METADATA_ADDRESSES = new Set(
  ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200', '192.0.0.192'].map(canonical),
);

const RANGE_REASONS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address (RFC 1918)',
  uniqueLocal: 'a private address (unique local, fc00::/7)',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  unspecified: 'the unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  deprecatedSiteLocal: 'a site-local address (fec0::/10)',
};

export interface AddressRefusal {
  /** What the address is, for a message: "a loopback address". */
  reason: string;
  /** A metadata service's address: refused even for a host an admin allows. */
  always: boolean;
}

/**
 * Why a download may not connect to the address, or undefined when it is a global unicast one.
 * IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:127.0.0.1`, IPv4-compatible,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address they carry.
 */
export function addressRefusal(text: string): AddressRefusal | undefined {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.parse(text);
  } catch {
    return { reason: 'not an IP address', always: true };
  }
  if (METADATA_ADDRESSES.has(canonical(text)))
    return { reason: "a cloud metadata service's address", always: true };
  if (address.kind() === 'ipv6') {
    const carried = carriedIPv4(address as ipaddr.IPv6);
    if (carried) {
      const refusal = addressRefusal(carried.address);
      return refusal && { ...refusal, reason: `${refusal.reason} (${carried.form} ${carried.address})` };
    }
  }
  const range = address.range();
  if (range === 'unicast') return undefined;
  return { reason: RANGE_REASONS[range] ?? `a special-purpose address (${range})`, always: false };
}

function carriedIPv4(address: ipaddr.IPv6): { address: string; form: string } | undefined {
  const parts = address.parts;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const tail = v4(parts[6]!, parts[7]!);
  const range = address.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145') return { address: tail, form: 'IPv4-mapped' };
  if (range === 'rfc6052' && parts[2] === 0) return { address: tail, form: 'NAT64 of' };
  if (range === '6to4') return { address: v4(parts[1]!, parts[2]!), form: '6to4 of' };
  // IPv4-compatible (::a.b.c.d, deprecated); :: and ::1 are themselves.
  if (parts.slice(0, 6).every((p) => p === 0) && parts[6] !== 0)
    return { address: tail, form: 'IPv4-compatible' };
  return undefined;
}

function canonical(text: string): string {
  const address = ipaddr.process(text);
  return address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toNormalizedString() : address.toString();
}

/**
 * Hosts an admin lets downloads reach although they resolve to refused addresses: names
 * (`intel.corp.example`, matched exactly, any case), every name under a domain
 * (`*.corp.example`, not the domain itself), or addresses and networks (`10.20.0.0/16`,
 * `fd12::/48`), which let through any name that resolves inside them.
 */
export class HostAllowList {
  private readonly names = new Set<string>();
  private readonly domains: string[] = [];
  private readonly networks: Cidr[] = [];

  /** Throws FETCH_ALLOW_INVALID naming the first entry that is none of the three forms. */
  constructor(entries: readonly string[] = [], origin = 'the allowed hosts') {
    for (const entry of entries) {
      const problem = allowEntryProblem(entry);
      if (problem) throw new VigilError('FETCH_ALLOW_INVALID', `${problem}: '${entry}'`, { field: origin });
      const text = entry.trim();
      const network = parseCidr(unbracket(text));
      if (network) this.networks.push(network);
      else if (text.startsWith('*.')) this.domains.push(normalHost(text.slice(2))!);
      else this.names.add(normalHost(text)!);
    }
  }

  get size(): number {
    return this.names.size + this.domains.length + this.networks.length;
  }

  /** Whether the host, as a URL names it, is allowed by name. */
  allowsHost(hostname: string): boolean {
    const host = normalHost(unbracket(hostname));
    if (host === undefined) return false;
    return this.names.has(host) || this.domains.some((domain) => host.endsWith(`.${domain}`));
  }

  /** Whether the address lies in an allowed network. */
  allowsAddress(address: string): boolean {
    return this.networks.some((network) => cidrContains(network, address));
  }
}

/** What is wrong with an allow-list entry, or undefined when it is a name, `*.domain`, address or network. */
export function allowEntryProblem(entry: string): string | undefined {
  const text = entry.trim();
  if (text === '') return 'an empty host';
  if (parseCidr(unbracket(text))) return undefined;
  if (/^[\d./]+$/.test(text) || text.includes(':'))
    return 'not a host name, address or network (a URL or a port is not a host)';
  const name = text.startsWith('*.') ? text.slice(2) : text;
  if (normalHost(name) === undefined) return 'not a host name, address or network';
  return undefined;
}

/** A host name as the URL parser writes it (lower case, punycode), without a final dot. */
function normalHost(name: string): string | undefined {
  if (!/^[^\s/?#@:*[\]\\]+$/.test(name)) return undefined;
  try {
    return new URL(`http://${name}/`).hostname.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
