import {
  AhoCorasick,
  eventHost,
  type FieldValue,
  type LogEvent,
  parseAddress,
  parseCidr,
} from '../core/index.js';
import type { Level } from '../sigma/index.js';
import type { Detection } from './detection.js';
import { type FieldRole, fieldRole } from './ioc-fields.js';

/**
 * An indicator as the matcher takes it: plain data that crosses threads (intel's Indicator has this
 * shape). Values are in normal form (lower case but for URL paths; networks as `address/bits`).
 */
export interface WatchedIndicator {
  type: string;
  value: string;
  source: string;
  /** 0-100: what a match is worth (decayed, warning-checked). */
  confidence: number;
  firstSeen?: number;
  lastSeen?: number;
  expires?: number;
  note?: string;
}

export interface IocHit {
  indicator: WatchedIndicator;
  field: string;
  fieldValue: string;
}

/** Kinds of pattern in the text automaton. */
const DOMAIN = 0;
const URL_REST = 1;

const HOST_CHAR = /[a-z0-9_-]/i;
const URL_CONTINUES = /[a-z0-9_~%+-]/i;
const ALNUM = /[a-z0-9]/i;

/**
 * Finds indicators in events. Exact kinds are hash lookups in the fields that hold them (see
 * ioc-fields.ts): single addresses in a map by number, networks by prefix length (one lookup per
 * length present), hashes, accounts, e-mail addresses and file names by value, host names by each
 * of their parent domains. Domains and URLs are also found inside URLs and free text (command
 * lines, scripts) by one Aho-Corasick automaton, each hit checked at its edges: `evil.com` is in
 * `c2.evil.com` and `http://evil.com/x`, not in `notevil.com` or `evil.com.au`. A URL is found
 * without its scheme (`evil.com/x.ps1` in a command line), to the end of its path.
 */
export class IocMatcher {
  private readonly v4 = new Map<number, number>();
  private readonly v4Networks = new Map<number, Map<number, number>>();
  private readonly v4Lengths: number[] = [];
  private readonly v6 = new Map<string, number>();
  private readonly v6Networks = new Map<number, Map<string, number>>();
  private readonly v6Lengths: number[] = [];
  private readonly hashes = new Map<string, number>();
  private readonly accounts = new Map<string, number>();
  private readonly emails = new Map<string, number>();
  private readonly filenames = new Map<string, number>();
  private readonly domains = new Map<string, number>();
  /** The maps of the types looked up by value as they are. */
  private readonly byValue: Record<string, Map<string, number>> = {
    md5: this.hashes,
    sha1: this.hashes,
    sha256: this.hashes,
    sha512: this.hashes,
    account: this.accounts,
    email: this.emails,
    filename: this.filenames,
    domain: this.domains,
  };
  private readonly patterns: { text: string; kind: number; id: number }[] = [];
  private readonly automaton: AhoCorasick | undefined;
  private readonly roles = new Map<string, FieldRole | null>();
  /** Per event: indicators already reported, so each is one detection however many fields hold it. */
  private readonly seen = new Set<number>();
  private hits: IocHit[] = [];
  private field = '';
  private text = '';
  private lower = '';

  constructor(readonly indicators: readonly WatchedIndicator[]) {
    const urls = new Map<string, number>();
    for (const [id, indicator] of indicators.entries()) this.add(indicator, id, urls);
    for (const [text, id] of this.domains) this.patterns.push({ text, kind: DOMAIN, id });
    for (const [text, id] of urls) this.patterns.push({ text, kind: URL_REST, id });
    this.v4Lengths.sort((a, b) => b - a);
    this.v6Lengths.sort((a, b) => b - a);
    this.automaton = this.patterns.length
      ? new AhoCorasick(
          this.patterns.map((p) => p.text),
          { caseInsensitive: true },
        )
      : undefined;
  }

  private add(indicator: WatchedIndicator, id: number, urls: Map<string, number>): void {
    const { type, value } = indicator;
    const keep = <K>(map: Map<K, number>, key: K) => {
      const before = map.get(key);
      if (before === undefined || this.indicators[before]!.confidence < indicator.confidence)
        map.set(key, id);
    };
    switch (type) {
      case 'ipv4':
      case 'ipv6': {
        const cidr = parseCidr(value);
        if (!cidr) return;
        const full = cidr.family === 4 ? 32 : 128;
        if (cidr.family === 4) {
          const network = networkV4(cidr.groups[0]!, cidr.bits);
          if (cidr.bits === full) keep(this.v4, network);
          else keep(networksOf(this.v4Networks, this.v4Lengths, cidr.bits), network);
        } else {
          const key = networkV6(cidr.groups, cidr.bits);
          if (cidr.bits === full) keep(this.v6, key);
          else keep(networksOf(this.v6Networks, this.v6Lengths, cidr.bits), key);
        }
        return;
      }
      case 'url': {
        const rest = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').toLowerCase();
        if (rest.length >= 4) keep(urls, rest);
        return;
      }
      default: {
        const map = this.byValue[type];
        if (map) keep(map, value.toLowerCase());
      }
    }
  }

  /** Every indicator the event holds, each once, with the first field it was found in. */
  match(event: LogEvent): IocHit[] {
    this.hits = [];
    this.seen.clear();
    const { fields } = event;
    for (const name in fields) {
      let role = this.roles.get(name);
      if (role === undefined) {
        role = fieldRole(name) ?? null;
        this.roles.set(name, role);
      }
      if (role === null) continue;
      const value = fields[name];
      if (typeof value === 'string') this.check(role, name, value);
      else if (Array.isArray(value)) for (const text of strings(value)) this.check(role, name, text);
    }
    return this.hits;
  }

  private report(id: number | undefined): void {
    if (id === undefined || this.seen.has(id)) return;
    this.seen.add(id);
    const text = this.text;
    this.hits.push({
      indicator: this.indicators[id]!,
      field: this.field,
      fieldValue: text.length > 300 ? `${text.slice(0, 297)}...` : text,
    });
  }

  private check(role: FieldRole, field: string, text: string): void {
    if (!text) return;
    this.field = field;
    this.text = text;
    switch (role) {
      case 'address':
        this.address(text);
        return;
      case 'host':
        this.address(text);
        this.host(text);
        return;
      case 'url':
      case 'text':
        this.scan(text);
        return;
      case 'hash':
        if (this.hashes.size === 0) return;
        for (const token of text.split(/[\s,;]+/)) {
          const hex = token.slice(token.indexOf('=') + 1).toLowerCase();
          if (hex.length >= 32) this.report(this.hashes.get(hex));
        }
        return;
      case 'account': {
        if (this.accounts.size === 0 && this.emails.size === 0) return;
        const lower = text.trim().toLowerCase();
        this.report(this.accounts.get(lower));
        const slash = lower.lastIndexOf('\\');
        if (slash >= 0) this.report(this.accounts.get(lower.slice(slash + 1)));
        const at = lower.indexOf('@');
        if (at > 0) {
          this.report(this.emails.get(lower));
          this.report(this.accounts.get(lower.slice(0, at)));
        }
        return;
      }
      case 'email':
        if (this.emails.size === 0) return;
        for (const part of text.toLowerCase().split(/[\s,;<>"]+/))
          if (part) this.report(this.emails.get(part));
        return;
      case 'file': {
        if (this.filenames.size === 0) return;
        const name = text.slice(Math.max(text.lastIndexOf('\\'), text.lastIndexOf('/')) + 1);
        this.report(this.filenames.get(name.toLowerCase()));
        return;
      }
    }
  }

  private address(text: string): void {
    if (
      this.v4.size === 0 &&
      this.v6.size === 0 &&
      this.v4Lengths.length === 0 &&
      this.v6Lengths.length === 0
    )
      return;
    const parsed = parseAddress(text.trim()) ?? parseAddress(withoutPort(text.trim()));
    if (!parsed) return;
    if ('v4' in parsed) {
      this.report(this.v4.get(parsed.v4));
      for (const bits of this.v4Lengths)
        this.report(this.v4Networks.get(bits)!.get(networkV4(parsed.v4, bits)));
    } else {
      this.report(this.v6.get(networkV6(parsed.v6, 128)));
      for (const bits of this.v6Lengths)
        this.report(this.v6Networks.get(bits)!.get(networkV6(parsed.v6, bits)));
    }
  }

  /** A host name and every domain above it (`a.b.evil.com`, `b.evil.com`, `evil.com`). */
  private host(text: string): void {
    if (this.domains.size === 0) return;
    const name = text.trim().toLowerCase().replace(/\.$/, '');
    for (let dot = -1; ; ) {
      this.report(this.domains.get(name.slice(dot + 1)));
      dot = name.indexOf('.', dot + 1);
      if (dot < 0) return;
    }
  }

  private scan(text: string): void {
    if (!this.automaton) return;
    this.lower = '';
    this.automaton.search(text, this.onPattern);
  }

  private readonly onPattern = (patternId: number, end: number): void => {
    const pattern = this.patterns[patternId]!;
    const text = this.text;
    const start = end - pattern.text.length;
    if (!this.lower) this.lower = text.toLowerCase();
    // The automaton may report a near miss among non-ASCII characters.
    if (this.lower.length !== text.length || this.lower.slice(start, end) !== pattern.text) return;
    const before = start > 0 ? text[start - 1]! : '';
    const after = end < text.length ? text[end]! : '';
    if (pattern.kind === DOMAIN) {
      if (before && HOST_CHAR.test(before)) return;
      if (after && (HOST_CHAR.test(after) || (after === '.' && ALNUM.test(text[end + 1] ?? '')))) return;
    } else {
      if (before && (HOST_CHAR.test(before) || before === '.')) return;
      const last = pattern.text[pattern.text.length - 1]!;
      if (
        after &&
        ALNUM.test(last) &&
        (URL_CONTINUES.test(after) || (after === '.' && ALNUM.test(text[end + 1] ?? '')))
      )
        return;
    }
    this.report(pattern.id);
  };
}

function networksOf<K>(
  byLength: Map<number, Map<K, number>>,
  lengths: number[],
  bits: number,
): Map<K, number> {
  let map = byLength.get(bits);
  if (!map) {
    map = new Map();
    byLength.set(bits, map);
    lengths.push(bits);
  }
  return map;
}

function networkV4(address: number, bits: number): number {
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) * size;
}

function networkV6(groups: readonly number[], bits: number): string {
  let key = '';
  let remaining = bits;
  for (let i = 0; i < 8; i++) {
    const take = Math.max(0, Math.min(16, remaining));
    const mask = take === 0 ? 0 : (0xffff << (16 - take)) & 0xffff;
    key += `${(groups[i]! & mask).toString(16)}:`;
    remaining -= 16;
  }
  return `${key}/${bits}`;
}

/** `1.2.3.4:443` or `[::1]:443` without the port. */
function withoutPort(text: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracket) return bracket[1]!;
  return text.replace(/^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/, '$1');
}

function strings(value: FieldValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  return [];
}

/** A match's level from the indicator's confidence: what a source's rating means to an analyst. */
export function indicatorLevel(confidence: number): Level {
  return confidence >= 70 ? 'high' : confidence >= 40 ? 'medium' : 'low';
}

const TYPE_TITLES: Record<string, string> = {
  ipv4: 'IP address',
  ipv6: 'IP address',
  domain: 'domain',
  url: 'URL',
  email: 'e-mail address',
  md5: 'file hash',
  sha1: 'file hash',
  sha256: 'file hash',
  sha512: 'file hash',
  account: 'account',
  filename: 'file name',
};

const DAY = 86_400_000;

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * A match as a detection: a rule of its own per indicator type (`ioc:domain`), so that matches
 * group into alerts and summaries as rule detections do, with the indicator's context.
 */
export function detectionFromIoc(hit: IocHit, event: LogEvent, now = Date.now()): Detection {
  const { indicator } = hit;
  const seen = indicator.lastSeen ?? indicator.firstSeen;
  const channel = event.fields.Channel;
  return {
    time: iso(event.time),
    timeMs: event.time,
    rule: {
      id: `ioc:${indicator.type}`,
      title: `Known indicator: ${TYPE_TITLES[indicator.type] ?? indicator.type}`,
      level: indicatorLevel(indicator.confidence),
      kind: 'indicator',
      file: indicator.source,
    },
    techniques: [],
    tactics: [],
    host: eventHost(event),
    channel: typeof channel === 'string' ? channel : undefined,
    eventId: event.fields.EventID,
    source: { file: event.source.file, record: event.source.record },
    matched: { [hit.field]: hit.fieldValue },
    indicator: {
      type: indicator.type,
      value: indicator.value,
      source: indicator.source,
      confidence: indicator.confidence,
      field: hit.field,
      ...(indicator.firstSeen === undefined ? {} : { firstSeen: iso(indicator.firstSeen) }),
      ...(indicator.lastSeen === undefined ? {} : { lastSeen: iso(indicator.lastSeen) }),
      ...(seen === undefined ? {} : { ageDays: Math.max(0, Math.floor((now - seen) / DAY)) }),
      ...(indicator.note ? { note: indicator.note } : {}),
    },
  };
}
