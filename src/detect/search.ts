import { stat } from 'node:fs/promises';
import { eventHost, type FieldValue, foldCase, getField, type LogEvent, VigilError } from '../core/index.js';
import { compileSigmaRegex } from '../sigma/index.js';
import type { ProblemData } from './collector.js';
import { runOrdered } from './parallel.js';
import { type EventScope, eventScopeTest } from './scope.js';
import { ReadTally } from './tally.js';
import { unitEvents, type WorkUnit, workUnits } from './units.js';

/**
 * `vigil search`: events whose fields hold a keyword or match a regular expression, as
 * `chainsaw search` finds them. Plain data: it crosses threads.
 */
export interface SearchQuery {
  /** Found anywhere in a value, without case. */
  keywords: string[];
  /** Regular expressions (the PCRE flavour of Sigma rules, safe against runaway backtracking). */
  regexes: string[];
  /** Regular expressions ignore case too. */
  ignoreCase?: boolean;
  /** Look only in these fields (Sigma names, or dotted paths into nested values); else in all. */
  fields?: string[];
  /** An event matches when any term does; by default every term must (each in any field). */
  any?: boolean;
  scope?: EventScope;
}

export interface SearchHit {
  time?: string;
  timeMs?: number;
  host?: string;
  channel?: string;
  eventId?: FieldValue;
  source: { file: string; record: number };
  /** The fields where a term was found, with their values. */
  matched: Record<string, FieldValue>;
  /** Every field of the event. */
  event: Record<string, FieldValue>;
}

export interface SearchUnitResult {
  file: string;
  events: number;
  outOfScope: number;
  hits: SearchHit[];
  errors: ProblemData[];
}

type Term = (folded: string, text: string) => boolean;

/** Searches units where they are read (this thread or a worker). */
export class UnitSearcher {
  private readonly terms: Term[];
  private readonly inScope: ((event: LogEvent) => boolean) | undefined;

  constructor(private readonly query: SearchQuery) {
    this.terms = searchTerms(query);
    this.inScope = eventScopeTest(query.scope);
  }

  search(unit: WorkUnit): SearchUnitResult {
    const result: SearchUnitResult = { file: unit.file, events: 0, outOfScope: 0, hits: [], errors: [] };
    const report = (error: VigilError) =>
      result.errors.push({ code: error.code, message: error.message, location: error.location });
    for (const event of unitEvents(unit, report)) {
      result.events++;
      if (this.inScope && !this.inScope(event)) {
        result.outOfScope++;
        continue;
      }
      const matched = this.match(event);
      if (matched) result.hits.push(hitOf(event, matched));
    }
    return result;
  }

  /** The fields where terms were found, when the event matches. */
  private match(event: LogEvent): Record<string, FieldValue> | undefined {
    const found = new Array<boolean>(this.terms.length).fill(false);
    const matched: Record<string, FieldValue> = {};
    for (const [name, value] of this.searched(event)) {
      for (const text of texts(value)) {
        const folded = foldCase(text);
        for (const [index, term] of this.terms.entries()) {
          if (!term(folded, text)) continue;
          found[index] = true;
          matched[name] = value;
        }
      }
    }
    const matches = this.query.any ? found.some(Boolean) : found.every(Boolean);
    return matches ? matched : undefined;
  }

  /** The fields to look in, by name. */
  private *searched(event: LogEvent): Generator<[string, FieldValue]> {
    if (!this.query.fields?.length) {
      yield* Object.entries(event.fields);
      return;
    }
    for (const name of this.query.fields) {
      const value = fieldWithoutCase(event, name);
      if (value !== undefined) yield [name, value];
    }
  }
}

/** The compiled terms; throws a VigilError with the pattern when a regex cannot be used. */
export function searchTerms(query: SearchQuery): Term[] {
  const keywords = query.keywords.map((keyword): Term => {
    const folded = foldCase(keyword);
    return (foldedText) => foldedText.includes(folded);
  });
  const regexes = query.regexes.map((pattern): Term => {
    let regex: RegExp;
    try {
      regex = compileSigmaRegex(pattern, { ignoreCase: query.ignoreCase });
    } catch (error) {
      throw new VigilError('SEARCH_REGEX', (error as Error).message, { field: `--regex ${pattern}` });
    }
    return (_folded, text) => regex.test(text);
  });
  return [...keywords, ...regexes];
}

/** A field by its name as given, or failing that by the same name in another case. */
function fieldWithoutCase(event: LogEvent, name: string): FieldValue | undefined {
  const exact = getField(event, name);
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  const key = Object.keys(event.fields).find((field) => field.toLowerCase() === wanted);
  return key === undefined ? undefined : event.fields[key];
}

/** The texts of a value: itself, or the leaves of an array or object. */
function* texts(value: FieldValue): Generator<string> {
  if (value === null) return;
  if (typeof value !== 'object') {
    yield String(value);
    return;
  }
  for (const item of Array.isArray(value) ? value : Object.values(value)) yield* texts(item);
}

function hitOf(event: LogEvent, matched: Record<string, FieldValue>): SearchHit {
  const channel = event.fields.Channel;
  return {
    time: event.time === undefined ? undefined : new Date(event.time).toISOString(),
    timeMs: event.time,
    host: eventHost(event),
    channel: typeof channel === 'string' ? channel : undefined,
    eventId: event.fields.EventID,
    source: { file: event.source.file, record: event.source.record },
    matched,
    event: { ...event.fields },
  };
}

export interface SearchSummary {
  files: number;
  /** Files not one event could be read from. */
  unreadFiles: string[];
  bytes: number;
  durationMs: number;
  /** Events read, those the scope left out included. */
  events: number;
  outOfScope: number;
  hits: number;
  /** Records or files that could not be read. */
  readErrors: number;
  firstTime?: string;
  lastTime?: string;
}

export interface SearchOptions {
  query: SearchQuery;
  onHit: (hit: SearchHit) => void;
  onError?: (error: VigilError) => void;
  onProgress?: (progress: { bytes: number; totalBytes: number; events: number; hits: number }) => void;
  /** Called between units; a promise it returns (output not keeping up) holds the search back. */
  pace?: () => Promise<void> | undefined;
  /** Threads that read and search (default 1). */
  threads?: number;
}

/** Reads every file and reports the events that match, in file and record order. */
export async function search(files: readonly string[], options: SearchOptions): Promise<SearchSummary> {
  const started = performance.now();
  // Checked here, on this thread, so that a bad pattern is an error before any file is read.
  searchTerms(options.query);
  const sizes = await Promise.all(
    files.map((file) =>
      stat(file)
        .then((s) => s.size)
        .catch(() => 0),
    ),
  );
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const tally = new ReadTally();
  const counts = { events: 0, outOfScope: 0, hits: 0, readErrors: 0 };
  let first: number | undefined;
  let last: number | undefined;
  const problem = (error: VigilError) => {
    counts.readErrors++;
    tally.problem(error.location);
    options.onError?.(error);
  };
  const units = workUnits(files, sizes, {
    onError: problem,
    onProgress: (bytes) =>
      options.onProgress?.({ bytes, totalBytes, events: counts.events, hits: counts.hits }),
  });
  await runOrdered<SearchUnitResult>(
    units,
    options.threads ?? 1,
    { kind: 'search', query: options.query },
    async () => {
      const searcher = new UnitSearcher(options.query);
      return (unit) => searcher.search(unit);
    },
    (result) => {
      counts.events += result.events;
      counts.outOfScope += result.outOfScope;
      tally.add(result.file, result.events);
      for (const error of result.errors) problem(new VigilError(error.code, error.message, error.location));
      for (const hit of result.hits) {
        counts.hits++;
        if (hit.timeMs !== undefined) {
          if (first === undefined || hit.timeMs < first) first = hit.timeMs;
          if (last === undefined || hit.timeMs > last) last = hit.timeMs;
        }
        options.onHit(hit);
      }
      return options.pace?.();
    },
  );
  return {
    files: files.length,
    unreadFiles: tally.unread(files),
    bytes: totalBytes,
    durationMs: performance.now() - started,
    ...counts,
    firstTime: first === undefined ? undefined : new Date(first).toISOString(),
    lastTime: last === undefined ? undefined : new Date(last).toISOString(),
  };
}
