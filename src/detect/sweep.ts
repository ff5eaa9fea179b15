import { AhoCorasick, eventHost, type FieldValue, type VigilError } from '../core/index.js';
import { readEvents } from '../logs/index.js';

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
 */
export async function sweepIndicators(
  files: readonly string[],
  targets: readonly SweepTarget[],
  onError: (error: VigilError) => void = () => {},
): Promise<SweepResult> {
  const usable = targets.filter((t) => t.value.length >= MIN_VALUE_LENGTH);
  const patterns = usable.map((t) => t.value.toLowerCase());
  const result: SweepResult = { events: 0, hits: [], total: 0 };
  if (patterns.length === 0) return result;
  const automaton = new AhoCorasick(patterns, { caseInsensitive: true });
  // Reused for every field of every event: the sweep runs per field value.
  const found = new Set<number>();
  for (const file of files) {
    try {
      for await (const event of readEvents(file, { onError })) {
        result.events++;
        for (const [field, value] of Object.entries(event.fields)) {
          for (const text of strings(value)) {
            found.clear();
            automaton.search(text, (id) => found.add(id));
            if (found.size === 0) continue;
            const lower = text.toLowerCase();
            for (const id of found) {
              // The automaton may report a near miss among non-ASCII characters: confirm.
              if (!lower.includes(patterns[id]!)) continue;
              if (result.total++ >= MAX_HITS) continue;
              result.hits.push({
                type: usable[id]!.type,
                value: usable[id]!.value,
                file,
                record: event.source.record,
                time: event.time === undefined ? undefined : new Date(event.time).toISOString(),
                host: eventHost(event),
                field,
                fieldValue: text.length > 300 ? `${text.slice(0, 297)}...` : text,
              });
            }
          }
        }
      }
    } catch (error) {
      onError(error as VigilError);
    }
  }
  return result;
}

function strings(value: FieldValue): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  return [];
}
