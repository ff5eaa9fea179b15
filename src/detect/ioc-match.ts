import { eventHost, type FieldValue, type LogEvent, parseAddress, parseCidr } from '../core/index.js';
import type { Level } from '../sigma/index.js';
import type { Detection } from './detection.js';
import { type FieldRole, fieldRole } from './ioc-fields.js';
import {
  type IndicatorTable,
  indicatorAt,
  indicatorTable,
  NumberIndex,
  TextIndex,
  tableValue,
  type WatchedIndicator,
} from './ioc-table.js';

export interface IocHit {
  indicator: WatchedIndicator;
  field: string;
  fieldValue: string;
}

/** The index kind of each type looked up by its value. */
const KINDS: Record<string, string> = {
  md5: 'hash',
  sha1: 'hash',
  sha256: 'hash',
  sha512: 'hash',
  account: 'account',
  email: 'email',
  filename: 'filename',
  domain: 'domain',
};

/** Characters of a run of text that may hold a host name and the path after it. */
function hostChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95;
}

function alnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** Characters that carry a URL's path on (a listed URL must end where one of these does not follow). */
function urlContinues(c: number): boolean {
  return alnum(c) || c === 95 || c === 126 || c === 37 || c === 43 || c === 45;
}

/** Where a URL in text ends: white space, quotes and the characters URLs never hold unescaped. */
function urlStops(c: number): boolean {
  return (
    c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 96 || c === 124 || c === 92 || c === 94
  );
}

/**
 * One table's indicators, indexed for lookups: single IPv4 addresses by number, networks by prefix
 * length (one lookup per length present), IPv6 by their groups, and the rest by their text
 * (hashes, accounts, e-mail addresses, file names, domains, URLs without their scheme). Built where
 * events are read (each thread its own), from a table that crossed as data.
 */
export class IndicatorIndex {
  readonly v4: NumberIndex;
  readonly v4Networks: { bits: number; index: NumberIndex }[] = [];
  readonly v6: TextIndex;
  readonly v6Lengths: number[];
  readonly hashes: TextIndex;
  readonly accounts: TextIndex;
  readonly emails: TextIndex;
  readonly filenames: TextIndex;
  readonly domains: TextIndex;
  readonly urls: TextIndex;
  readonly addresses: boolean;

  constructor(readonly table: IndicatorTable) {
    const v4 = { keys: [] as number[], ids: [] as number[] };
    const v4Networks = new Map<number, { keys: number[]; ids: number[] }>();
    const v6 = { keys: [] as string[], ids: [] as number[] };
    const v6Lengths = new Set<number>();
    // Ids by kind; a URL is keyed from after its scheme.
    const byKind: Record<string, number[]> = {
      hash: [],
      account: [],
      email: [],
      filename: [],
      domain: [],
      url: [],
    };
    const urlStart: number[] = [];
    for (let id = 0; id < table.count; id++) {
      const type = table.types[table.type[id]!]!;
      if (type === 'ipv4' || type === 'ipv6') {
        const cidr = parseCidr(tableValue(table, id));
        if (!cidr) continue;
        if (cidr.family === 4) {
          const key = networkV4(cidr.groups[0]!, cidr.bits);
          const into = cidr.bits === 32 ? v4 : (v4Networks.get(cidr.bits) ?? { keys: [], ids: [] });
          if (cidr.bits < 32) v4Networks.set(cidr.bits, into);
          into.keys.push(key);
          into.ids.push(id);
        } else {
          v6.keys.push(networkV6(cidr.groups, cidr.bits));
          v6.ids.push(id);
          if (cidr.bits < 128) v6Lengths.add(cidr.bits);
        }
      } else if (type === 'url') {
        const start = table.offsets[id]!;
        const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(
          table.values.slice(start, Math.min(start + 40, table.offsets[id + 1]!)),
        );
        const from = start + (scheme ? scheme[0].length : 0);
        if (table.offsets[id + 1]! - from < 4) continue;
        byKind.url!.push(id);
        urlStart.push(from);
      } else {
        const kind = KINDS[type];
        if (kind) byKind[kind]!.push(id);
      }
    }
    // Of two indicators with one value, the one a match is worth more on stands.
    const prefer = (a: number, b: number) => table.confidence[a]! > table.confidence[b]!;
    const values = (ids: number[], starts?: number[]) =>
      new TextIndex(
        table.values,
        {
          count: ids.length,
          start: starts ? (i) => starts[i]! : (i) => table.offsets[ids[i]!]!,
          end: (i) => table.offsets[ids[i]! + 1]!,
          id: (i) => ids[i]!,
        },
        prefer,
      );
    this.v4 = new NumberIndex(v4.keys, v4.ids, prefer);
    for (const [bits, list] of [...v4Networks].sort((a, b) => b[0] - a[0]))
      this.v4Networks.push({ bits, index: new NumberIndex(list.keys, list.ids, prefer) });
    this.v6 = TextIndex.of(v6.keys, v6.ids, prefer);
    this.v6Lengths = [...v6Lengths].sort((a, b) => b - a);
    this.hashes = values(byKind.hash!);
    this.accounts = values(byKind.account!);
    this.emails = values(byKind.email!);
    this.filenames = values(byKind.filename!);
    this.domains = values(byKind.domain!);
    this.urls = values(byKind.url!, urlStart);
    this.addresses = this.v4.size + this.v4Networks.length + this.v6.size > 0;
  }

  /** An index over indicators given as objects (tests, small lists). */
  static of(indicators: readonly WatchedIndicator[]): IndicatorIndex {
    return new IndicatorIndex(indicatorTable(indicators));
  }
}

/**
 * Finds indicators in events, field by field as ioc-fields.ts assigns them: addresses in address
 * fields, hashes in hash fields, and so on, each a lookup. Domains and URLs are also found inside
 * URLs and free text (command lines, scripts): the text is cut into runs of host-name characters,
 * and a run is looked up from each of its labels to its end, so `evil.com` is found in
 * `c2.evil.com` and `http://evil.com/x`, not in `notevil.com` or `evil.com.au`. A listed URL is
 * found without its scheme (`evil.com/x.ps1` in a command line), from the start of its host to a
 * place where its path can end. Several indexes (every tenant's indicators, a tenant's own) are
 * looked up as one.
 */
export class IocMatcher {
  private readonly roles = new Map<string, FieldRole | null>();
  /** Per event: indicators already reported (index number and id), so each is one detection. */
  private readonly seen = new Set<number>();
  private hits: IocHit[] = [];
  private field = '';
  private text = '';
  private readonly texts: boolean;
  private readonly urls: boolean;

  constructor(private readonly indexes: readonly IndicatorIndex[]) {
    this.texts = indexes.some((i) => i.domains.size + i.urls.size > 0);
    this.urls = indexes.some((i) => i.urls.size > 0);
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

  /** The indicators one value is, looked up as a field of the given role would be. */
  matchValue(role: FieldRole, value: string): IocHit[] {
    this.hits = [];
    this.seen.clear();
    this.check(role, 'value', value);
    return this.hits;
  }

  private report(index: number, id: number): void {
    if (id < 0) return;
    const key = index * 2 ** 32 + id;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const text = this.text;
    this.hits.push({
      indicator: indicatorAt(this.indexes[index]!.table, id),
      field: this.field,
      fieldValue: text.length > 300 ? `${text.slice(0, 297)}...` : text,
    });
  }

  /** Looks `text.slice(start, end)` up in one kind of every index. */
  private lookup(
    kind: (index: IndicatorIndex) => TextIndex,
    text: string,
    start = 0,
    end = text.length,
  ): void {
    for (let i = 0; i < this.indexes.length; i++)
      this.report(i, kind(this.indexes[i]!).get(text, start, end));
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
        this.host(text.trim().toLowerCase());
        return;
      case 'url':
      case 'text':
        if (this.texts) this.scan(text.toLowerCase());
        return;
      case 'hash':
        for (const token of text.toLowerCase().split(/[\s,;]+/)) {
          const hex = token.slice(token.indexOf('=') + 1);
          if (hex.length >= 32) this.lookup(HASHES, hex);
        }
        return;
      case 'account': {
        const lower = text.trim().toLowerCase();
        this.lookup(ACCOUNTS, lower);
        const slash = lower.lastIndexOf('\\');
        if (slash >= 0) this.lookup(ACCOUNTS, lower, slash + 1);
        const at = lower.indexOf('@');
        if (at > 0) {
          this.lookup(EMAILS, lower);
          this.lookup(ACCOUNTS, lower, 0, at);
        }
        return;
      }
      case 'email':
        for (const part of text.toLowerCase().split(/[\s,;<>"]+/)) if (part) this.lookup(EMAILS, part);
        return;
      case 'file': {
        const name = text.slice(Math.max(text.lastIndexOf('\\'), text.lastIndexOf('/')) + 1);
        this.lookup(FILENAMES, name.toLowerCase());
        return;
      }
    }
  }

  private address(text: string): void {
    const trimmed = text.trim();
    let parsed: ReturnType<typeof parseAddress>;
    for (let i = 0; i < this.indexes.length; i++) {
      const index = this.indexes[i]!;
      if (!index.addresses) continue;
      parsed ??= parseAddress(trimmed) ?? parseAddress(withoutPort(trimmed));
      if (!parsed) return;
      if ('v4' in parsed) {
        this.report(i, index.v4.get(parsed.v4));
        for (const { bits, index: networks } of index.v4Networks)
          this.report(i, networks.get(networkV4(parsed.v4, bits)));
      } else {
        const exact = networkV6(parsed.v6, 128);
        this.report(i, index.v6.get(exact));
        for (const bits of index.v6Lengths) this.report(i, index.v6.get(networkV6(parsed.v6, bits)));
      }
    }
  }

  /** A host name and every domain above it (`a.b.evil.com`, `b.evil.com`, `evil.com`). */
  private host(name: string): void {
    const end = name.endsWith('.') ? name.length - 1 : name.length;
    for (let start = 0; start < end; ) {
      this.lookup(DOMAINS, name, start, end);
      const dot = name.indexOf('.', start);
      if (dot < 0 || dot >= end) return;
      start = dot + 1;
    }
  }

  /** Free text, lower case: every run of host-name characters that holds a dot. */
  private scan(lower: string): void {
    const n = lower.length;
    let i = 0;
    while (i < n) {
      if (!hostChar(lower.charCodeAt(i))) {
        i++;
        continue;
      }
      let j = i;
      let dotted = false;
      for (; j < n; j++) {
        const c = lower.charCodeAt(j);
        if (!hostChar(c)) break;
        if (c === 46) dotted = true;
      }
      if (dotted) this.run(lower, i, j);
      i = j;
    }
  }

  private run(lower: string, start: number, end: number): void {
    let last = end;
    while (last > start && lower.charCodeAt(last - 1) === 46) last--;
    this.host(lower.slice(start, last));
    if (!this.urls) return;
    this.lookup(URLS, lower, start, last);
    const next = lower.charCodeAt(end);
    if (next !== 47 && next !== 58) return;
    // The path (or port) after the host: every place a listed URL could end.
    let stop = end;
    while (stop < lower.length && !urlStops(lower.charCodeAt(stop))) stop++;
    for (let k = end + 1; k <= stop; k++) {
      const c = lower.charCodeAt(k);
      const ends =
        k === stop ||
        lower.charCodeAt(k - 1) === 47 ||
        (!urlContinues(c) && !(c === 46 && alnum(lower.charCodeAt(k + 1))));
      if (ends) this.lookup(URLS, lower, start, k);
    }
  }
}

const HASHES = (index: IndicatorIndex) => index.hashes;
const ACCOUNTS = (index: IndicatorIndex) => index.accounts;
const EMAILS = (index: IndicatorIndex) => index.emails;
const FILENAMES = (index: IndicatorIndex) => index.filenames;
const DOMAINS = (index: IndicatorIndex) => index.domains;
const URLS = (index: IndicatorIndex) => index.urls;

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
