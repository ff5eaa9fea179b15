import { AhoCorasick, eventHost, type FieldValue, type LogEvent } from '../core/index.js';

/** A value to look for in logs, with its kind (as advisories give them: ipv4, domain, sha256 …). */
export interface SweepTarget {
  type: string;
  value: string;
}

export interface SweepHit {
  type: string;
  value: string;
  file: string;
  record: number;
  time?: string;
  host?: string;
  /** The field that holds it, and that field's value. */
  field: string;
  fieldValue: string;
}

export interface SweepResult {
  events: number;
  /** The first MAX_HITS hits. */
  hits: SweepHit[];
  /** All hits, kept or not. */
  total: number;
}

/** Hits kept at most, so that a value present everywhere cannot swamp a report. */
const MAX_HITS = 10_000;
/** Values shorter than this match too much text by chance ("a.b"); they are not looked for. */
const MIN_VALUE_LENGTH = 4;

/**
 * Looks for indicator values in every string field of every event, ignoring case: the sweep an
 * analyst runs after an advisory ("has any of these addresses, domains or hashes been seen?").
 * One automaton holds every value, so an event is read once whatever the number of indicators.
 * Events are given one by one, so that a sweep can ride on a pass that reads the logs anyway.
 */
export class IndicatorSweep {
  result: SweepResult = { events: 0, hits: [], total: 0 };
  private readonly usable: SweepTarget[];
  private readonly patterns: string[];
  private readonly bounds: Boundary[];
  private readonly automaton: AhoCorasick | undefined;
  /** Reused for every field of every event: the sweep runs per field value. */
  private readonly found = new Set<number>();

  constructor(targets: readonly SweepTarget[]) {
    this.usable = targets.filter((t) => t.value.length >= MIN_VALUE_LENGTH);
    this.patterns = this.usable.map((t) => t.value.toLowerCase());
    this.bounds = this.usable.map((t) => boundaryOf(t));
    this.automaton = this.patterns.length
      ? new AhoCorasick(this.patterns, { caseInsensitive: true })
      : undefined;
  }

  /** What was found since the last take (a unit's share, on a worker thread), and start afresh. */
  take(): SweepResult {
    const { result } = this;
    this.result = { events: 0, hits: [], total: 0 };
    return result;
  }

  check(event: LogEvent): void {
    if (!this.automaton) return;
    this.result.events++;
    // Per field of every event of a hunt: no arrays or closures made for the common case.
    const { fields } = event;
    for (const field in fields) {
      const value = fields[field];
      if (typeof value === 'string') this.checkText(event, field, value);
      else if (Array.isArray(value)) for (const text of strings(value)) this.checkText(event, field, text);
    }
  }

  private readonly remember = (id: number) => {
    this.found.add(id);
  };

  private checkText(event: LogEvent, field: string, text: string): void {
    const { found, patterns, result } = this;
    found.clear();
    this.automaton!.search(text, this.remember);
    if (found.size === 0) return;
    const lower = text.toLowerCase();
    for (const id of found) {
      // The automaton may report a near miss among non-ASCII characters: confirm, and as a whole
      // value, not inside a longer one.
      if (!standsAlone(lower, patterns[id]!, this.bounds[id]!)) continue;
      if (result.total++ >= MAX_HITS) continue;
      result.hits.push({
        type: this.usable[id]!.type,
        value: this.usable[id]!.value,
        file: event.source.file,
        record: event.source.record,
        time: event.time === undefined ? undefined : new Date(event.time).toISOString(),
        host: eventHost(event),
        field,
        fieldValue: text.length > 300 ? `${text.slice(0, 297)}...` : text,
      });
    }
  }
}

/** Adds a later part of a sweep (the next unit's) to what came before, keeping the first hits. */
export function addSweep(into: SweepResult, part: SweepResult): void {
  into.events += part.events;
  into.total += part.total;
  for (const hit of part.hits) {
    if (into.hits.length >= MAX_HITS) break;
    into.hits.push(hit);
  }
}

/**
 * What may not touch a value where it is found, before and after, for the text around it to be
 * another value: "hive.bat" is not in "archive.bat", 1.2.3.4 not in 11.2.3.45, evil.com not in
 * notevil.com or evil.com.au (but in c2.evil.com and user@evil.com), an MD5 not inside a SHA-256.
 */
interface Boundary {
  before?: RegExp;
  after?: RegExp;
  /** A dot after the value followed by one of these continues it (evil.com.au, 1.2.3.4.5). */
  dottedAfter?: RegExp;
}

const HEX: Boundary = { before: /[0-9a-f]/, after: /[0-9a-f]/ };
const BOUNDARIES: Record<string, Boundary> = {
  ipv4: { before: /[0-9a-z_.]/, after: /[0-9a-z_]/, dottedAfter: /[0-9]/ },
  ipv6: { before: /[0-9a-f:]/, after: /[0-9a-f:]/ },
  domain: { before: /[0-9a-z_-]/, after: /[0-9a-z_-]/, dottedAfter: /[0-9a-z]/ },
  email: { before: /[0-9a-z._%+-]/, after: /[0-9a-z_-]/, dottedAfter: /[0-9a-z]/ },
  filename: { before: /[0-9a-z_.$-]/, after: /[0-9a-z_]/, dottedAfter: /[0-9a-z]/ },
  path: { before: /[0-9a-z_]/, after: /[0-9a-z_]/ },
  registry: { before: /[0-9a-z_]/, after: /[0-9a-z_]/ },
  md5: HEX,
  sha1: HEX,
  sha256: HEX,
  sha512: HEX,
};

/** A URL ends where its host ends only when it has no path: https://mega.nz is not https://mega.nz.evil.io. */
function boundaryOf(target: SweepTarget): Boundary {
  if (target.type === 'url') {
    return /^[a-z]+:\/\/[^/?#]+$/i.test(target.value) ? { after: /[0-9a-z_.-]/ } : {};
  }
  return BOUNDARIES[target.type] ?? {};
}

function standsAlone(text: string, value: string, boundary: Boundary): boolean {
  for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
    const before = text[at - 1];
    const after = text[at + value.length];
    if (before !== undefined && boundary.before?.test(before)) continue;
    if (after !== undefined && boundary.after?.test(after)) continue;
    const next = text[at + value.length + 1];
    if (after === '.' && next !== undefined && boundary.dottedAfter?.test(next)) continue;
    return true;
  }
  return false;
}

function strings(value: FieldValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  return [];
}
