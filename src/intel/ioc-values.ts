import ipaddr from 'ipaddr.js';
import { ipv4Range, parseCidr } from '../core/index.js';
import { refang } from './refang.js';

/**
 * The kinds of indicator Vigil matches against events. Addresses may be networks (`10.0.0.0/8`);
 * a file name is only taken when its source says it is an indicator (never inferred from a bare
 * value, which would read half of any list as file names).
 */
export const IOC_TYPES = [
  'ipv4',
  'ipv6',
  'domain',
  'url',
  'email',
  'md5',
  'sha1',
  'sha256',
  'sha512',
  'account',
  'filename',
] as const;
export type IocType = (typeof IOC_TYPES)[number];

export function isIocType(text: string): text is IocType {
  return (IOC_TYPES as readonly string[]).includes(text);
}

const HASH_LENGTHS: Partial<Record<IocType, number>> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };
const HEX = /^[0-9a-f]+$/i;
const HASH_PATTERNS: Partial<Record<IocType, RegExp>> = {
  md5: /^[0-9a-f]{32}$/i,
  sha1: /^[0-9a-f]{40}$/i,
  sha256: /^[0-9a-f]{64}$/i,
  sha512: /^[0-9a-f]{128}$/i,
};
const HASH_BY_LENGTH: Record<number, IocType> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };

/** A host name of labels (letters, digits, hyphens, underscores as DNS records use them) with a dot. */
const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{2,63}$/;
const EMAIL = /^[^\s@"<>()[\],;:]+@([^\s@]+)$/;
const URL = /^([a-z][a-z0-9+.-]*):\/\/([^/?#\s]+)([^\s]*)$/i;

/**
 * The form an indicator is kept and compared in, or why the value is not one of its type:
 * addresses as written by RFC 5952 (networks by their first address), host names, e-mail
 * addresses, hashes, accounts and file names in lower case, URLs with scheme and host in lower case.
 */
export function normalizeIoc(type: IocType, raw: string): { value: string } | { problem: string } {
  const text = refang(raw.trim());
  if (!text) return { problem: 'empty value' };
  switch (type) {
    case 'ipv4':
    case 'ipv6':
      return normalizeAddress(type, text);
    case 'domain': {
      const host = text.toLowerCase().replace(/\.$/, '');
      return HOST_NAME.test(host) && !parseCidr(host) ? { value: host } : { problem: 'not a domain name' };
    }
    case 'url': {
      const match = URL.exec(text);
      if (!match) return { problem: 'not a URL (scheme://host…)' };
      const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
      return { value: `${scheme.toLowerCase()}://${authority.toLowerCase()}${rest}` };
    }
    case 'email': {
      const match = EMAIL.exec(text);
      if (!match || !HOST_NAME.test(match[1]!.toLowerCase())) return { problem: 'not an e-mail address' };
      return { value: text.toLowerCase() };
    }
    case 'md5':
    case 'sha1':
    case 'sha256':
    case 'sha512': {
      const length = HASH_LENGTHS[type]!;
      return HASH_PATTERNS[type]!.test(text)
        ? { value: text.toLowerCase() }
        : { problem: `not a ${type} hash (${length} hexadecimal digits)` };
    }
    case 'account':
      return /\p{Cc}/u.test(text) ? { problem: 'not an account name' } : { value: text.toLowerCase() };
    case 'filename': {
      const name = text.split(/[\\/]/).pop()!;
      return name ? { value: name.toLowerCase() } : { problem: 'not a file name' };
    }
  }
}

function normalizeAddress(type: 'ipv4' | 'ipv6', text: string): { value: string } | { problem: string } {
  const cidr = parseCidr(text);
  if (!cidr || cidr.family !== (type === 'ipv4' ? 4 : 6))
    return { problem: `not an ${type} address or network` };
  const full = cidr.family === 4 ? 32 : 128;
  const suffix = cidr.bits === full ? '' : `/${cidr.bits}`;
  if (cidr.family === 4) {
    const { start } = ipv4Range(cidr);
    return {
      value: `${start >>> 24}.${(start >>> 16) & 255}.${(start >>> 8) & 255}.${start & 255}${suffix}`,
    };
  }
  const first = ipaddr.IPv6.networkAddressFromCIDR(`${text.split('/')[0]}/${cidr.bits}`).toRFC5952String();
  return { value: `${first}${suffix}` };
}

/**
 * The type of a bare value, as a plain list gives it: an address or network, a hash by its
 * length, an e-mail address, a URL, a domain name. Anything else needs its type written.
 */
export function inferIocType(raw: string): IocType | undefined {
  const text = refang(raw.trim());
  const cidr = parseCidr(text);
  if (cidr) return cidr.family === 4 ? 'ipv4' : 'ipv6';
  if (HEX.test(text)) return HASH_BY_LENGTH[text.length];
  if (EMAIL.test(text)) return 'email';
  if (URL.test(text)) return 'url';
  if (HOST_NAME.test(text.toLowerCase().replace(/\.$/, ''))) return 'domain';
  return undefined;
}
