import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AhoCorasick,
  addDistinct,
  type Cidr,
  ipv4Range,
  ipv6InNetwork,
  parseAddress,
  parseCidr,
  VigilError,
} from '../core/index.js';
import type { IndicatorType } from './indicators.js';

/**
 * MISP warning lists: values that are harmless, or too common to say who used them (cloud ranges,
 * top sites, hashes of empty files, public DNS resolvers…). Format and matching as the MISP project
 * defines them: each list has a `type` (string, substring, hostname, cidr, regex) and the MISP
 * attribute types it applies to.
 */
export interface WarningList {
  name: string;
  description: string;
  type: 'string' | 'substring' | 'hostname' | 'cidr' | 'regex';
  /** Vigil's indicator types it applies to; all when the list names none. */
  appliesTo: Set<IndicatorType> | undefined;
  entries: string[];
  /** What a value on it means; when not given, judged from the list's name and description. */
  kind?: WarningListKind;
}

/**
 * What a warning list says about a value on it, in Vigil's terms:
 * - `special`: it identifies nobody (reserved ranges, TLDs, hashes of empty files and of common
 *   false positives, public resolvers, CRL and OCSP hosts, sinkholes, sandboxes);
 * - `benign`: it belongs to a well-known organisation (Google's, Microsoft's, a bank's domains);
 * - `popular`: among the most visited sites (top lists): too common to point at anyone;
 * - `shared`: anyone can rent or use it, attackers too (VPN, cloud and CDN ranges, mail providers,
 *   the trusted sites attackers live off, dynamic DNS, URL shorteners, disposable mail);
 * - `scanner`: an internet scanner's address.
 * The first three make a value not actionable; the last two only lower the confidence in it, since
 * an advisory that names such a value as the actors' still means it.
 */
export type WarningListKind = 'special' | 'benign' | 'popular' | 'shared' | 'scanner';

export interface WarningHit {
  list: string;
  description: string;
  entry: string;
  kind: WarningListKind;
}

const SPECIAL_LIST =
  /\brfc ?\d|multicast|link ?local|special[- ]use|\btlds?\b|empty files|eicar|false[- ]positive|certificate|public dns|dns resolvers|\bcrl\b|ocsp|sinkhole|block ?page|captive portal|malware analysis services|attack simulator/;
const SCANNER_LIST =
  /scann|census|connection[- ]attempt|check-host|xpanse|shodan|censys|shadowserver|stretchoid|onyphe|modat|tenable/;
const POPULAR_LIST = /\btop\b|most[- ]used|alexa|umbrella|majestic|tranco|moz\.com|crux/;
const SHARED_LIST =
  /vpn|datacenter|data center|cloud|amazon|aws|azure|gcp|oracle|ovh|akamai|fastly|\bcdn\b|stackpath|bunny|github ip|zscaler|private relay|telegram|smtp|sending ip|living off trusted|\blots\b|dynamic dns|shortener|link in bio|ipfs|disposable|external ip|source ip/;

/**
 * A list's kind from its name and description. Address lists not known otherwise are shared
 * (ranges of a provider), name and hash lists benign (an organisation's own domains).
 */
export function warningListKind(list: Pick<WarningList, 'name' | 'description' | 'type'>): WarningListKind {
  const text = `${list.name} ${list.description}`.toLowerCase();
  if (SPECIAL_LIST.test(text)) return 'special';
  if (SCANNER_LIST.test(text)) return 'scanner';
  if (POPULAR_LIST.test(text)) return 'popular';
  if (SHARED_LIST.test(text)) return 'shared';
  if (list.type === 'cidr' && !/crawler|googlebot|gptbot|apple|wikimedia|parking|palo alto/.test(text))
    return 'shared';
  return 'benign';
}

/**
 * Which hit decides a verdict: what identifies nobody, then a scanner (its hits are its scanning),
 * then what is shared, then what is benign, then what is popular.
 */
const KIND_PRECEDENCE: WarningListKind[] = ['special', 'scanner', 'shared', 'benign', 'popular'];

/** MISP attribute types, as written in `matching_attributes`, in Vigil's terms. */
const MISP_ATTRIBUTES: Record<string, IndicatorType[]> = {
  'ip-src': ['ipv4', 'ipv6'],
  'ip-dst': ['ipv4', 'ipv6'],
  'ip-src|port': ['ipv4', 'ipv6'],
  'ip-dst|port': ['ipv4', 'ipv6'],
  'domain|ip': ['domain', 'ipv4', 'ipv6'],
  domain: ['domain'],
  hostname: ['domain'],
  'hostname|port': ['domain'],
  url: ['url'],
  uri: ['url'],
  link: ['url'],
  md5: ['md5'],
  sha1: ['sha1'],
  sha256: ['sha256'],
  sha512: ['sha512'],
  'filename|md5': ['md5', 'filename'],
  'filename|sha1': ['sha1', 'filename'],
  'filename|sha256': ['sha256', 'filename'],
  'filename|sha512': ['sha512', 'filename'],
  filename: ['filename'],
  'email-src': ['email'],
  'email-dst': ['email'],
  'target-email': ['email'],
  'whois-registrant-email': ['email'],
  'dns-soa-email': ['email'],
  vulnerability: ['cve'],
};

export function readWarningLists(dir: string, onProblem?: (problem: VigilError) => void): WarningList[] {
  const root = existsSync(join(dir, 'lists')) ? join(dir, 'lists') : dir;
  const lists: WarningList[] = [];
  for (const name of readdirSync(root).sort()) {
    const file = join(root, name, 'list.json');
    if (!existsSync(file)) continue;
    let raw: {
      name?: string;
      description?: string;
      type?: string;
      matching_attributes?: string[];
      list?: unknown[];
    };
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      // One unreadable list costs its own verdicts, not the others'.
      onProblem?.(
        new VigilError('WARNINGLIST_INVALID', `warning list skipped: ${(error as Error).message}`, { file }),
      );
      continue;
    }
    const type = raw.type ?? 'string';
    if (!['string', 'substring', 'hostname', 'cidr', 'regex'].includes(type) || !Array.isArray(raw.list))
      continue;
    const appliesTo = raw.matching_attributes?.length
      ? new Set(raw.matching_attributes.flatMap((attribute) => MISP_ATTRIBUTES[attribute] ?? []))
      : undefined;
    lists.push({
      name: raw.name ?? name,
      description: raw.description ?? '',
      type: type as WarningList['type'],
      appliesTo,
      entries: raw.list.filter((entry): entry is string => typeof entry === 'string'),
    });
  }
  return lists;
}

interface Ipv4Range {
  start: number;
  end: number;
  list: number;
  entry: string;
  /** The order it was added in. */
  order: number;
}

interface Ipv6Network {
  network: Cidr;
  list: number;
  entry: string;
  order: number;
}

/**
 * Warning lists indexed for lookups: exact sets, host suffixes, IPv4 ranges by their first two
 * bytes (the wider ones by their first), IPv6 networks by first 16 bits, substrings in one
 * automaton; regular expressions are tried only for the types their lists apply to.
 */
export class WarningListIndex {
  readonly lists: WarningList[];
  private readonly exact = new Map<string, number[]>();
  private readonly hosts = new Map<string, number[]>();
  /** Ranges within one /16, by its first 16 bits; wider ones by their first byte, in `wideIpv4`. */
  private readonly ipv4 = new Map<number, Ipv4Range[]>();
  private readonly wideIpv4 = new Map<number, Ipv4Range[]>();
  /** Ranges are numbered as added, so that a lookup considers them in list order whatever the bucket. */
  private ranges = 0;
  /** By the network's first 32 bits, or 16 for networks wider than /32; wider than /16 in `wideIpv6`. */
  private readonly ipv6 = new Map<number, Ipv6Network[]>();
  private readonly midIpv6 = new Map<number, Ipv6Network[]>();
  private readonly wideIpv6: Ipv6Network[] = [];
  /** Address ranges are many (cloud providers' lists) and only parsed once an address is asked about. */
  private rangesIndexed = false;
  private readonly substrings: { entry: string; list: number }[] = [];
  /** All substring entries in one automaton, built on first use: one pass per value. */
  private substringAutomaton: AhoCorasick | undefined;
  private readonly regexes: { pattern: RegExp; list: number; entry: string }[] = [];
  private readonly regexesByType = new Map<
    IndicatorType,
    { pattern: RegExp; list: number; entry: string }[]
  >();

  private readonly kinds: WarningListKind[];

  constructor(lists: WarningList[]) {
    this.lists = lists;
    this.kinds = lists.map((list) => list.kind ?? warningListKind(list));
    lists.forEach((list, index) => {
      for (const entry of list.entries) this.add(list, index, entry);
    });
  }

  private add(list: WarningList, index: number, entry: string): void {
    switch (list.type) {
      case 'string':
        addDistinct(this.exact, entry.toLowerCase(), index);
        break;
      case 'hostname':
        addDistinct(this.hosts, entry.toLowerCase().replace(/^\.+|\.+$/g, ''), index);
        break;
      case 'substring':
        this.substrings.push({ entry: entry.toLowerCase(), list: index });
        break;
      case 'regex': {
        const match = /^\/(.*)\/([a-z]*)$/s.exec(entry);
        try {
          const pattern = match
            ? new RegExp(match[1]!, match[2]!.replace(/[^imsu]/g, ''))
            : new RegExp(entry);
          this.regexes.push({ pattern, list: index, entry });
        } catch {
          // A pattern JavaScript cannot read is left out.
        }
        break;
      }
      case 'cidr':
        break;
    }
  }

  private indexRanges(): void {
    if (this.rangesIndexed) return;
    this.rangesIndexed = true;
    this.lists.forEach((list, index) => {
      if (list.type === 'cidr') for (const entry of list.entries) this.addRange(entry, index);
    });
  }

  private addRange(entry: string, list: number): void {
    const network = parseCidr(entry.trim());
    if (!network) return;
    if (network.family === 6) {
      const item = { network, list, entry, order: this.ranges++ };
      if (network.bits < 16) this.wideIpv6.push(item);
      else {
        const [buckets, key] =
          network.bits >= 32
            ? [this.ipv6, network.groups[0]! * 65536 + network.groups[1]!]
            : [this.midIpv6, network.groups[0]!];
        const bucket = buckets.get(key) ?? [];
        buckets.set(key, bucket);
        bucket.push(item);
      }
      return;
    }
    const { start, end } = ipv4Range(network);
    const range = { start, end, list, entry, order: this.ranges++ };
    const narrow = network.bits >= 16;
    const [buckets, size] = narrow ? [this.ipv4, 2 ** 16] : [this.wideIpv4, 2 ** 24];
    for (let first = Math.floor(start / size); first <= Math.floor(end / size); first++) {
      const bucket = buckets.get(first) ?? [];
      buckets.set(first, bucket);
      bucket.push(range);
    }
  }

  /**
   * The list that decides about this value, of those that hold it for its type: one that says it
   * identifies nobody, else one of scanners, else one that says it is shared (a site attackers live
   * off is also a popular one: it is the former that matters), else any; the first by name among
   * equals.
   */
  match(type: IndicatorType, value: string): WarningHit | undefined {
    const hits = new Map<number, string>();
    const consider = (list: number, entry: string) => {
      const applies = this.lists[list]!.appliesTo;
      if ((!applies || applies.has(type)) && !hits.has(list)) hits.set(list, entry);
    };
    const lower = value.toLowerCase();
    for (const list of this.exact.get(lower) ?? []) consider(list, value);
    const host = hostOf(type, lower);
    if (host) {
      const labels = host.split('.');
      for (let i = 0; i < labels.length - 1; i++) {
        const suffix = labels.slice(i).join('.');
        for (const list of this.hosts.get(suffix) ?? []) consider(list, suffix);
      }
    }
    if (type === 'ipv4' || type === 'ipv6') {
      this.indexRanges();
      this.matchAddress(value, consider);
    }
    this.substringAutomaton ??= new AhoCorasick(this.substrings.map((s) => s.entry));
    const found = new Set<number>();
    this.substringAutomaton.search(lower, (id) => found.add(id));
    // In list order, as the verdict takes the first list; the automaton may report a near miss
    // among non-ASCII characters, so each is confirmed.
    for (const id of [...found].sort((a, b) => a - b)) {
      const { entry, list } = this.substrings[id]!;
      if (lower.includes(entry)) consider(list, entry);
    }
    for (const { pattern, list, entry } of this.regexesFor(type))
      if (pattern.test(value)) consider(list, entry);
    if (hits.size === 0) return undefined;
    const rank = (list: number) => KIND_PRECEDENCE.indexOf(this.kinds[list]!);
    const [list, entry] = [...hits].sort(
      (a, b) => rank(a[0]) - rank(b[0]) || this.lists[a[0]]!.name.localeCompare(this.lists[b[0]]!.name),
    )[0]!;
    return {
      list: this.lists[list]!.name,
      description: this.lists[list]!.description,
      entry,
      kind: this.kinds[list]!,
    };
  }

  /** The regular expressions of the lists that apply to a type. */
  private regexesFor(type: IndicatorType): { pattern: RegExp; list: number; entry: string }[] {
    let found = this.regexesByType.get(type);
    if (!found) {
      found = this.regexes.filter(({ list }) => {
        const applies = this.lists[list]!.appliesTo;
        return !applies || applies.has(type);
      });
      this.regexesByType.set(type, found);
    }
    return found;
  }

  private matchAddress(value: string, consider: (list: number, entry: string) => void): void {
    const address = parseAddress(value.replace(/\/\d+$/, ''));
    if (!address) return;
    if ('v4' in address) {
      const { v4 } = address;
      const containing: Ipv4Range[] = [];
      for (const bucket of [
        this.ipv4.get(Math.floor(v4 / 2 ** 16)),
        this.wideIpv4.get(Math.floor(v4 / 2 ** 24)),
      ])
        for (const range of bucket ?? []) if (v4 >= range.start && v4 <= range.end) containing.push(range);
      containing.sort((a, b) => a.order - b.order);
      for (const range of containing) consider(range.list, range.entry);
      return;
    }
    const { v6 } = address;
    const containing: Ipv6Network[] = [];
    for (const bucket of [this.ipv6.get(v6[0]! * 65536 + v6[1]!), this.midIpv6.get(v6[0]!), this.wideIpv6])
      for (const item of bucket ?? []) if (ipv6InNetwork(item.network, v6)) containing.push(item);
    containing.sort((a, b) => a.order - b.order);
    for (const { list, entry } of containing) consider(list, entry);
  }
}

/** The host name inside a value: a domain itself, a URL's host, an e-mail's domain. */
function hostOf(type: IndicatorType, value: string): string | undefined {
  if (type === 'domain') return value;
  if (type === 'email') return value.slice(value.lastIndexOf('@') + 1);
  if (type === 'url') return urlHost(value);
  return undefined;
}

/** The host of a URL (an IPv6 address without its brackets), by the URL's own syntax. */
export function urlHost(url: string): string | undefined {
  const match = /^[a-z]+:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^/?#:]+)/.exec(url);
  return match?.[1]?.replace(/^\[|\]$/g, '');
}
