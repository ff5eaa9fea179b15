import type { FieldValue, LogEvent } from '../core/index.js';
import {
  type Aggregate,
  addEntry,
  aggregateValue,
  type Entry,
  emptyAggregate,
  orderedChain,
  removeEntry,
} from './correlation-aggregate.js';
import type { CorrelationCondition, CorrelationRule } from './rule.js';

/** A correlation's result: plain data, fed in turn to the correlations that name it. */
export interface CorrelationResult {
  rule: CorrelationRule;
  /** Time of the event that completed the result. */
  time: number;
  /** Time of its first event. */
  firstTime: number;
  /** Group-by field -> value. */
  group: Record<string, FieldValue>;
  /** The aggregate the condition was judged on (count, distinct values, sum, average ...). */
  value: number;
  /** The events behind the result, at most the last MAX_EVENTS_KEPT. */
  events: readonly LogEvent[];
  /** What the correlations that name this one read of it: group values, else its last event's. */
  fields: Readonly<Record<string, FieldValue>>;
  /** Baseline correlations: what the value means, in words (`8,600 km from … to … in 2 h`). */
  detail?: string;
}

/** A match on its way into a correlation's group. */
export interface Sample {
  key: string;
  group: Record<string, FieldValue>;
  entry: Entry;
}

/** A correlation's state as JSON-safe data (times that may be infinite are null). */
export interface StateSnapshot {
  kind?: undefined;
  inputWatermark: number | null;
  clock: number | null;
  pending: string[];
  starts: { time: number; key: string }[];
  buffer: Sample[];
  groups: {
    key: string;
    values: Record<string, FieldValue>;
    /** From the first entry still held. */
    entries: Entry[];
    /** How many of them are in the aggregate. */
    counted: number;
    newest: number | null;
    pending: boolean;
    lastEnd: number | null;
  }[];
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
const orNegative = (n: number | null): number => n ?? Number.NEGATIVE_INFINITY;

/** How many events a result keeps to show; counting goes on beyond it. */
const MAX_EVENTS_KEPT = 32;

const NO_FIELDS: Readonly<Record<string, FieldValue>> = Object.freeze({});

interface Group {
  values: Record<string, FieldValue>;
  /** In time order; those before `head` are spent. */
  entries: Entry[];
  head: number;
  /** The entries from `head` up to here are in `aggregate`. */
  end: number;
  aggregate: Aggregate;
  /** Time of the newest entry. */
  newest: number;
  /** Early judgement: the group has matches of the newest time, not yet judged. */
  pending: boolean;
  /**
   * Whole windows: time of the last event of the window judged last. A window that ends there
   * too holds only events of that one, so it is not judged again.
   */
  lastEnd: number;
}

const compare = {
  gt: (a: number, b: number) => a > b,
  gte: (a: number, b: number) => a >= b,
  lt: (a: number, b: number) => a < b,
  lte: (a: number, b: number) => a <= b,
  eq: (a: number, b: number) => a === b,
  neq: (a: number, b: number) => a !== b,
};

export function conditionHolds(condition: CorrelationCondition, value: number): boolean {
  return condition.comparisons.every(({ op, value: threshold }) => compare[op](value, threshold));
}

/** Aggregates that only grow as matches are added: an "at least" condition on them can fire early. */
const GROWING = new Set(['event_count', 'value_count', 'temporal', 'temporal_ordered']);

/** Group-by and value_count values compare as text: 4624 from one log and "4624" from another are one. */
export function valueKey(values: readonly FieldValue[]): string {
  // One plain value, the common case, without JSON (a correlation's keys always have one length).
  if (values.length === 1) {
    const value = values[0];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      return `=${value}`;
    if (value === null) return '';
  }
  return JSON.stringify(
    values.map((value) => (typeof value === 'number' || typeof value === 'boolean' ? String(value) : value)),
  );
}

/** A match's group: the group-by values (after aliases), and their key. */
export function groupOf(
  groupFields: readonly { name: string; perMember: readonly string[] }[],
  read: (field: string) => FieldValue | undefined,
  member: number,
): { key: string; group: Record<string, FieldValue> } {
  const group: Record<string, FieldValue> = Object.create(null);
  const keyParts: FieldValue[] = [];
  for (const field of groupFields) {
    const value = read(field.perMember[member]!) ?? null;
    group[field.name] = value;
    keyParts.push(value);
  }
  return { key: valueKey(keyParts), group };
}

/** What the correlations reading a correlation's results need of one match. */
export function keptFields(
  names: readonly string[],
  read: (field: string) => FieldValue | undefined,
): Readonly<Record<string, FieldValue>> {
  if (names.length === 0) return NO_FIELDS;
  const kept: Record<string, FieldValue> = Object.create(null);
  for (const name of names) {
    const found = read(name);
    if (found !== undefined) kept[name] = found;
  }
  return kept;
}

/**
 * The groups of one correlation rule, fed with samples in time order (see `offer`), judged as
 * time moves on (see `advance`).
 *
 * Early judgement (an "at least" condition on a count): at each time a group has matches, once
 * all matches of that time are in, the matches of the last `timespan` are judged; when the
 * condition holds the group fires and starts afresh.
 *
 * Whole-window judgement (everything else): each time a group has matches opens a window of
 * `timespan` (both edges included), judged once closed on all the matches in it. A window that
 * holds only matches of the window before it is not judged (it is part of that one). After an
 * alert, the group starts afresh after the alert's last match, so overlapping windows never
 * report the same matches twice.
 */
export class CorrelationState {
  readonly early: boolean;
  /** What correlations reading this one's results need of them (set once all states exist). */
  outerFields: readonly string[] = [];
  /** All samples before this time have been taken in. */
  inputWatermark = Number.NEGATIVE_INFINITY;
  private readonly groups = new Map<string, Group>();
  /** Samples waiting for the time to be safe, in time order. */
  private buffer: Sample[] = [];
  /** Time of the newest sample taken in. */
  private clock = Number.NEGATIVE_INFINITY;
  /** Early: groups with matches of `clock` not yet judged. */
  private pending: string[] = [];
  /** Whole windows: window starts (time, group) in time order; those before `startsHead` are done. */
  private starts: { time: number; key: string }[] = [];
  private startsHead = 0;

  constructor(
    readonly rule: CorrelationRule,
    /** How many rules the correlation names. */
    readonly members: number,
    /** group-by field -> member index -> field to read (after aliases). */
    readonly groupFields: readonly { name: string; perMember: readonly string[] }[],
    /** Whether samples may come out of time order (results of other correlations) and wait in `buffer`. */
    readonly buffered: boolean,
  ) {
    const c = rule.correlation;
    this.early =
      GROWING.has(c.type) && c.condition.comparisons.every(({ op }) => op === 'gt' || op === 'gte');
  }

  /** Reads what the correlation needs of a match; undefined when it has no value to aggregate. */
  sample(
    read: (field: string) => FieldValue | undefined,
    events: readonly LogEvent[],
    time: number,
    member: number,
  ): Sample | undefined {
    const c = this.rule.correlation;
    const { key, group } = groupOf(this.groupFields, read, member);
    let value: string | number | undefined;
    if (c.condition.fields.length) {
      const values = c.condition.fields.map(read);
      if (values.some((v) => v === undefined || v === null)) return undefined;
      if (c.type === 'value_count') value = valueKey(values as FieldValue[]);
      else {
        value = toNumber(values[0]!);
        if (value === undefined) return undefined;
      }
    }
    const fields = keptFields(this.outerFields, read);
    return { key, group, entry: { time, member, value, events, fields } };
  }

  /** Takes a sample: at once, or, for a buffered correlation, once `advance` says its time is safe. */
  offer(sample: Sample, out: CorrelationResult[]): void {
    if (!this.buffered) {
      this.accept(sample, out);
      return;
    }
    const buffer = this.buffer;
    let at = buffer.length;
    while (at > 0 && buffer[at - 1]!.entry.time > sample.entry.time) at--;
    buffer.splice(at, 0, sample);
  }

  /**
   * All samples before `watermark` have been offered: takes in those waiting and judges what can
   * be judged now.
   */
  advance(watermark: number, out: CorrelationResult[]): void {
    if (watermark > this.inputWatermark) this.inputWatermark = watermark;
    if (this.buffer.length) {
      let taken = 0;
      while (taken < this.buffer.length && this.buffer[taken]!.entry.time < watermark)
        this.accept(this.buffer[taken++]!, out);
      if (taken) this.buffer.splice(0, taken);
    }
    this.settle(watermark, out);
  }

  /** Time before which every result of this correlation is out. */
  outputWatermark(): number {
    if (this.early || this.startsHead >= this.starts.length) return this.inputWatermark;
    return Math.min(this.inputWatermark, this.starts[this.startsHead]!.time);
  }

  /** Drops matches no window can use any more (early judgement; whole windows drop theirs when judged). */
  sweep(): void {
    if (!this.early) return;
    const cutoff = this.inputWatermark - this.rule.correlation.timespanMs;
    for (const [key, group] of this.groups) {
      if (group.pending) continue;
      this.dropBefore(group, cutoff);
      if (group.head === group.entries.length) this.groups.delete(key);
    }
  }

  get openGroups(): number {
    return this.groups.size;
  }

  /** Everything this correlation holds, as data; the aggregates are rebuilt from the entries on restore. */
  snapshot(): StateSnapshot {
    return {
      inputWatermark: finite(this.inputWatermark),
      clock: finite(this.clock),
      pending: [...this.pending],
      starts: this.starts.slice(this.startsHead),
      buffer: [...this.buffer],
      groups: [...this.groups].map(([key, group]) => ({
        key,
        values: group.values,
        entries: group.entries.slice(group.head),
        counted: group.end - group.head,
        newest: finite(group.newest),
        pending: group.pending,
        lastEnd: finite(group.lastEnd),
      })),
    };
  }

  restore(snapshot: StateSnapshot): void {
    this.inputWatermark = orNegative(snapshot.inputWatermark);
    this.clock = orNegative(snapshot.clock);
    this.pending = [...snapshot.pending];
    this.starts = [...snapshot.starts];
    this.startsHead = 0;
    this.buffer = [...snapshot.buffer];
    this.groups.clear();
    for (const saved of snapshot.groups) {
      const aggregate = emptyAggregate(this.rule.correlation.type, this.members);
      for (let i = 0; i < saved.counted; i++) addEntry(aggregate, saved.entries[i]!);
      this.groups.set(saved.key, {
        values: saved.values,
        entries: [...saved.entries],
        head: 0,
        end: saved.counted,
        aggregate,
        newest: orNegative(saved.newest),
        pending: saved.pending,
        lastEnd: orNegative(saved.lastEnd),
      });
    }
  }

  private accept(sample: Sample, out: CorrelationResult[]): void {
    const { entry } = sample;
    if (entry.time > this.clock) {
      this.settle(entry.time, out);
      this.clock = entry.time;
    }
    let group = this.groups.get(sample.key);
    if (!group) {
      group = {
        values: sample.group,
        entries: [],
        head: 0,
        end: 0,
        aggregate: emptyAggregate(this.rule.correlation.type, this.members),
        newest: Number.NEGATIVE_INFINITY,
        pending: false,
        lastEnd: Number.NEGATIVE_INFINITY,
      };
      this.groups.set(sample.key, group);
    }
    group.entries.push(entry);
    if (this.early) {
      addEntry(group.aggregate, entry);
      group.end++;
      if (!group.pending) {
        group.pending = true;
        this.pending.push(sample.key);
      }
    } else if (entry.time !== group.newest) {
      this.starts.push({ time: entry.time, key: sample.key });
    }
    group.newest = entry.time;
  }

  /** Judges what every sample before `watermark` being in allows. */
  private settle(watermark: number, out: CorrelationResult[]): void {
    if (this.early) {
      if (this.clock >= watermark || this.pending.length === 0) return;
      for (const key of this.pending) this.judgeLatest(key, out);
      this.pending = [];
      return;
    }
    const span = this.rule.correlation.timespanMs;
    const starts = this.starts;
    while (this.startsHead < starts.length && starts[this.startsHead]!.time + span < watermark) {
      const start = starts[this.startsHead++]!;
      this.judgeWindow(start.key, start.time, out);
    }
    if (this.startsHead > 1024 && this.startsHead * 2 > starts.length) {
      this.starts = starts.slice(this.startsHead);
      this.startsHead = 0;
    }
  }

  /** Early judgement of a group on the matches of the last timespan, up to its newest. */
  private judgeLatest(key: string, out: CorrelationResult[]): void {
    const group = this.groups.get(key)!;
    group.pending = false;
    const c = this.rule.correlation;
    this.dropBefore(group, group.newest - c.timespanMs);
    const value = this.valueOf(group);
    if (value !== undefined && conditionHolds(c.condition, value)) {
      out.push(this.result(group, value));
      this.groups.delete(key);
    }
  }

  /** Whole-window judgement of the window that opens at `start`, now closed. */
  private judgeWindow(key: string, start: number, out: CorrelationResult[]): void {
    const group = this.groups.get(key);
    // Gone or moved on: the alert of an earlier window took these matches.
    if (!group || group.entries[group.head]?.time !== start) return;
    const entries = group.entries;
    const closes = start + this.rule.correlation.timespanMs;
    while (group.end < entries.length && entries[group.end]!.time <= closes)
      addEntry(group.aggregate, entries[group.end++]!);
    const lastTime = entries[group.end - 1]!.time;
    if (lastTime > group.lastEnd) {
      const value = this.valueOf(group);
      if (value !== undefined && conditionHolds(this.rule.correlation.condition, value)) {
        out.push(this.result(group, value));
        // The group starts afresh after the alert's last match.
        group.aggregate = emptyAggregate(this.rule.correlation.type, this.members);
        group.head = group.end;
        group.lastEnd = Number.NEGATIVE_INFINITY;
        this.tidy(key, group);
        return;
      }
      group.lastEnd = lastTime;
    }
    while (group.head < group.end && entries[group.head]!.time === start)
      removeEntry(group.aggregate, entries[group.head++]!);
    this.tidy(key, group);
  }

  private valueOf(group: Group): number | undefined {
    const c = this.rule.correlation;
    return aggregateValue(
      group.aggregate,
      c.type,
      group.entries,
      group.head,
      group.end,
      this.members,
      c.condition.percentile,
    );
  }

  private dropBefore(group: Group, cutoff: number): void {
    const entries = group.entries;
    while (group.head < group.end && entries[group.head]!.time < cutoff)
      removeEntry(group.aggregate, entries[group.head++]!);
    this.compact(group);
  }

  /** Deletes a group left without matches, or compacts it. */
  private tidy(key: string, group: Group): void {
    if (group.head === group.entries.length) this.groups.delete(key);
    else this.compact(group);
  }

  private compact(group: Group): void {
    if (group.head > 64 && group.head * 2 > group.entries.length) {
      group.entries = group.entries.slice(group.head);
      group.end -= group.head;
      group.head = 0;
    }
  }

  private result(group: Group, value: number): CorrelationResult {
    const used =
      this.rule.correlation.type === 'temporal_ordered'
        ? orderedChain(group.entries, group.head, group.end, this.members)
        : group.entries.slice(group.head, group.end);
    const last = used[used.length - 1]!;
    const events: LogEvent[] = [];
    for (let i = used.length - 1; i >= 0 && events.length < MAX_EVENTS_KEPT; i--) {
      const own = used[i]!.events;
      for (let k = own.length - 1; k >= 0 && events.length < MAX_EVENTS_KEPT; k--) events.push(own[k]!);
    }
    events.reverse();
    let fields = NO_FIELDS;
    if (this.outerFields.length) {
      const kept: Record<string, FieldValue> = Object.create(null);
      for (const name of this.outerFields) {
        const found = Object.hasOwn(group.values, name) ? group.values[name] : last.fields[name];
        if (found !== undefined) kept[name] = found;
      }
      fields = kept;
    }
    return {
      rule: this.rule,
      time: last.time,
      firstTime: used[0]!.time,
      group: group.values,
      value,
      events,
      fields,
    };
  }
}

function toNumber(value: FieldValue): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
