/** IP addresses as numbers, for CIDR tests on values that arrive as text. */

export interface Cidr {
  family: 4 | 6;
  /** The network address: one 32-bit number for IPv4, eight 16-bit groups for IPv6. */
  groups: number[];
  bits: number;
}

/** IPv4 dotted quad (four parts of one to three digits, each at most 255) to a 32-bit number. */
export function parseIPv4(text: string): number | undefined {
  // By hand rather than split and a pattern per part: addresses are parsed once per event field.
  let out = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      part = part * 10 + (c - 48);
    } else if (c === 46) {
      if (digits === 0 || part > 255 || ++parts > 4) return undefined;
      out = out * 256 + part;
      part = 0;
      digits = 0;
    } else return undefined;
  }
  return parts === 4 ? out : undefined;
}

/** IPv6 (with `::`, a zone and an embedded IPv4 tail) to eight 16-bit groups. */
export function parseIPv6(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  const address = zone < 0 ? text : text.slice(0, zone);
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = ipv6Groups(halves[0]!);
  const tail = halves.length === 2 ? ipv6Groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function ipv6Groups(half: string): number[] | undefined {
  if (half === '') return [];
  const out: number[] = [];
  const pieces = half.split(':');
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (i === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseIPv4(piece);
      if (v4 === undefined) return undefined;
      out.push(Math.floor(v4 / 65536), v4 % 65536);
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
      out.push(Number.parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return out;
}

/** `10.0.0.0/8`, `fe80::/10`, or a bare address (a /32 or /128 network). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
  if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) return undefined;
  if (address.includes(':')) {
    const groups = parseIPv6(address);
    const bits = bitsText === undefined ? 128 : Number(bitsText);
    if (!groups || bits > 128) return undefined;
    return { family: 6, groups, bits };
  }
  const v4 = parseIPv4(address);
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (v4 === undefined || bits > 32) return undefined;
  return { family: 4, groups: [v4], bits };
}

/** An address as text, parsed; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is that IPv4 address. */
export function parseAddress(text: string): { v4: number } | { v6: number[] } | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { v4 };
  if (!text.includes(':')) return undefined;
  const v6 = parseIPv6(text);
  if (!v6) return undefined;
  if (v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff) return { v4: v6[6]! * 65536 + v6[7]! };
  return { v6 };
}

/**
 * Whether an address given as text lies in the network. An IPv4-mapped IPv6 address
 * (`::ffff:a.b.c.d`) is in an IPv4 network as that IPv4 address, and in an IPv6 network as written.
 */
export function cidrContains(cidr: Cidr, text: string): boolean {
  const address = text.trim();
  if (cidr.family === 6) {
    const v6 = parseIPv6(address);
    return v6 !== undefined && ipv6InNetwork(cidr, v6);
  }
  const parsed = parseAddress(address);
  if (!parsed || !('v4' in parsed)) return false;
  const { start, end } = ipv4Range(cidr);
  return parsed.v4 >= start && parsed.v4 <= end;
}

/** Whether eight 16-bit groups (parseIPv6) lie in an IPv6 network. */
export function ipv6InNetwork(cidr: Cidr, groups: readonly number[]): boolean {
  let remaining = cidr.bits;
  for (let i = 0; i < 8 && remaining > 0; i++) {
    const take = Math.min(16, remaining);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((groups[i]! & mask) !== (cidr.groups[i]! & mask)) return false;
    remaining -= take;
  }
  return true;
}

/** The first and last address of an IPv4 network, as 32-bit numbers. */
export function ipv4Range(cidr: Cidr): { start: number; end: number } {
  const size = 2 ** (32 - cidr.bits);
  const start = Math.floor(cidr.groups[0]! / size) * size;
  return { start, end: start + size - 1 };
}
