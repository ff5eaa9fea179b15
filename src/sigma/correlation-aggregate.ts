import type { FieldValue, LogEvent } from '../core/index.js';
import type { CorrelationType } from './rule.js';

/** One match as a correlation holds it: plain data, so that correlation state can be saved. */
export interface Entry {
  time: number;
  /** Position of the matched rule in the correlation's `rules`. */
  member: number;
  /** value_count: the field values as one key; value_sum/avg/median/percentile: the number. */
  value?: string | number;
  /** The events behind the match. */
  events: readonly LogEvent[];
  /** What the correlations that read this one's results need of the match, by field name. */
  fields: Readonly<Record<string, FieldValue>>;
}

/**
 * The running aggregate of the entries a group holds, as plain data. Entries are added in time
 * order and removed from the oldest.
 */
export type Aggregate =
  | { kind: 'count'; n: number }
  | { kind: 'distinct'; counts: Map<string, number> }
  | { kind: 'members'; counts: number[]; present: number }
  /** temporal_ordered: the order is read from the entries themselves. */
  | { kind: 'ordered' }
  /** The values, sorted: sums are added up in this order, so the result never depends on arrival. */
  | { kind: 'values'; sorted: number[] };

export function emptyAggregate(type: CorrelationType, members: number): Aggregate {
  switch (type) {
    case 'event_count':
      return { kind: 'count', n: 0 };
    case 'value_count':
      return { kind: 'distinct', counts: new Map() };
    case 'temporal':
      return { kind: 'members', counts: new Array<number>(members).fill(0), present: 0 };
    case 'temporal_ordered':
      return { kind: 'ordered' };
    default:
      return { kind: 'values', sorted: [] };
  }
}

export function addEntry(aggregate: Aggregate, entry: Entry): void {
  switch (aggregate.kind) {
    case 'count':
      aggregate.n++;
      return;
    case 'distinct': {
      const key = entry.value as string;
      aggregate.counts.set(key, (aggregate.counts.get(key) ?? 0) + 1);
      return;
    }
    case 'members':
      if (aggregate.counts[entry.member]!++ === 0) aggregate.present++;
      return;
    case 'ordered':
      return;
    case 'values': {
      const sorted = aggregate.sorted;
      sorted.splice(lowerBound(sorted, entry.value as number), 0, entry.value as number);
    }
  }
}

export function removeEntry(aggregate: Aggregate, entry: Entry): void {
  switch (aggregate.kind) {
    case 'count':
      aggregate.n--;
      return;
    case 'distinct': {
      const key = entry.value as string;
      const left = aggregate.counts.get(key)! - 1;
      if (left === 0) aggregate.counts.delete(key);
      else aggregate.counts.set(key, left);
      return;
    }
    case 'members':
      if (--aggregate.counts[entry.member]! === 0) aggregate.present--;
      return;
    case 'ordered':
      return;
    case 'values':
      aggregate.sorted.splice(lowerBound(aggregate.sorted, entry.value as number), 1);
  }
}

/** The first index whose value is not below `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The value a condition is judged on, for the entries `from` (inclusive) to `to` (exclusive)
 * that the aggregate holds; undefined when there is nothing to judge.
 */
export function aggregateValue(
  aggregate: Aggregate,
  type: CorrelationType,
  entries: readonly Entry[],
  from: number,
  to: number,
  members: number,
  percentile: number | undefined,
): number | undefined {
  switch (aggregate.kind) {
    case 'count':
      return aggregate.n;
    case 'distinct':
      return aggregate.counts.size;
    case 'members':
      return aggregate.present;
    case 'ordered':
      return orderedChain(entries, from, to, members).length;
    case 'values': {
      const sorted = aggregate.sorted;
      if (sorted.length === 0) return undefined;
      if (type === 'value_sum' || type === 'value_avg') {
        let sum = 0;
        for (const value of sorted) sum += value;
        return type === 'value_sum' ? sum : sum / sorted.length;
      }
      return percentileOfSorted(sorted, type === 'value_median' ? 50 : (percentile ?? 95));
    }
  }
}

/** Linear interpolation between closest ranks (the usual definition, as in numpy's default). */
export function percentileOf(values: readonly number[], p: number): number {
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    p,
  );
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/**
 * The longest prefix of the correlation's rules found in order among the entries (in time order),
 * taking the earliest fit for each next rule. Entries of the same time count as in order
 * whichever way they arrived: their order is not known.
 */
export function orderedChain(entries: readonly Entry[], from: number, to: number, members: number): Entry[] {
  const chain: Entry[] = [];
  let want = 0;
  let i = from;
  while (i < to && want < members) {
    let sameTime = i + 1;
    while (sameTime < to && entries[sameTime]!.time === entries[i]!.time) sameTime++;
    for (let found = true; found && want < members; ) {
      found = false;
      for (let k = i; k < sameTime; k++) {
        if (entries[k]!.member === want) {
          chain.push(entries[k]!);
          want++;
          found = true;
          break;
        }
      }
    }
    i = sameTime;
  }
  return chain;
}
