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
  private readonly automaton: AhoCorasick | undefined;
  /** Reused for every field of every event: the sweep runs per field value. */
  private readonly found = new Set<number>();

  constructor(targets: readonly SweepTarget[]) {
    this.usable = targets.filter((t) => t.value.length >= MIN_VALUE_LENGTH);
    this.patterns = this.usable.map((t) => t.value.toLowerCase());
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
      // The automaton may report a near miss among non-ASCII characters: confirm.
      if (!lower.includes(patterns[id]!)) continue;
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

function strings(value: FieldValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  return [];
}
