import {
  describePlace,
  distanceKm,
  type FieldValue,
  type Locate,
  type LogEvent,
  type Place,
} from '../core/index.js';
import {
  type CorrelationResult,
  conditionHolds,
  groupOf,
  keptFields,
  valueKey,
} from './correlation-state.js';
import type { BaselineCorrelationType, CorrelationRule } from './rule.js';

/**
 * Vigil's baseline correlations: each match of a group is judged at once against what the group
 * did before it, within the timespan:
 *
 * - `velocity`: km/h between the match's place and the group's previous placed match;
 * - `rare_value`: how many of the group's earlier matches had the match's value (0: a new one);
 * - `rare_hour`: the share (%) of the group's earlier matches within an hour of the match's hour of
 *   day (UTC);
 * - `dormant`: days since the group's previous match.
 *
 * What is kept per group is small and bounded whatever the traffic: the previous match (velocity,
 * dormant) or counts per day (rare_value, rare_hour), so the baseline of a year of sign-ins fits
 * in the snapshot a service saves. The counts are kept by whole UTC days: the baseline of a
 * rare_* correlation is the matches of the days the timespan covers, today's earlier ones included.
 */

const DAY_MS = 86_400_000;
/** Times closer than this count as this far apart: clocks of two products are never exact. */
const MIN_TRAVEL_MS = 60_000;
/** How many events a velocity result shows of each of its two matches. */
const EVENTS_PER_MATCH = 16;

/**
 * How often a group saw one value (rare_value) or hour of day (rare_hour): in all, and per UTC day
 * as pairs in day order (`[day, count, day, count, ...]`), so that days leave from the front as the
 * timespan moves on and a judgement reads the total alone.
 */
interface ValueCounts {
  total: number;
  days: number[];
}

interface PreviousMatch {
  time: number;
  place?: Place;
  events: readonly LogEvent[];
}

interface BaselineGroup {
  values: Record<string, FieldValue>;
  previous?: PreviousMatch;
  counts: Map<string, ValueCounts>;
  /** Matches in `counts`. */
  history: number;
  /** The earliest day `counts` holds (Infinity when none): nothing to forget before it. */
  earliestDay: number;
}

/** A match on its way into a baseline correlation. */
export interface BaselineSample {
  key: string;
  group: Record<string, FieldValue>;
  time: number;
  events: readonly LogEvent[];
  fields: Readonly<Record<string, FieldValue>>;
  /** rare_value: the value's key. */
  value?: string;
  /** velocity: where the match comes from. */
  place?: Place;
}

interface SavedGroup {
  key: string;
  values: Record<string, FieldValue>;
  previous?: PreviousMatch;
  /**
   * Each value's first day (days since 1 January 1970), then its count on each day from there, a
   * run of days without one written as minus their number: `[20727, 3, 3, -12, 1]` is three on
   * each of the first two days, none for twelve days, one on the day after. The same accounts log
   * on at the same hours day after day, so 10,000 accounts' 30 days of `rare_value` and `rare_hour`
   * counts take about 5 MB this way, where an object per day took 31.
   */
  counts?: Record<string, number[]>;
  /** How earlier snapshots saved the counts (an object per day), still read. */
  days?: { day: number; counts: Record<string, number>; total: number }[];
}

/** A baseline correlation's state as JSON-safe data. */
export interface BaselineSnapshot {
  kind: 'baseline';
  inputWatermark: number | null;
  buffer: BaselineSample[];
  groups: SavedGroup[];
}

export class BaselineState {
  readonly type: BaselineCorrelationType;
  outerFields: readonly string[] = [];
  inputWatermark = Number.NEGATIVE_INFINITY;
  /** Matches that could not be placed or valued (velocity and rare_value): left out. */
  unplaced = 0;
  private readonly groups = new Map<string, BaselineGroup>();
  private buffer: BaselineSample[] = [];
  private readonly spanDays: number;

  constructor(
    readonly rule: CorrelationRule,
    readonly groupFields: readonly { name: string; perMember: readonly string[] }[],
    readonly buffered: boolean,
    private readonly locate: Locate | undefined,
  ) {
    this.type = rule.correlation.type as BaselineCorrelationType;
    this.spanDays = Math.max(1, Math.ceil(rule.correlation.timespanMs / DAY_MS));
  }

  /** Whether the correlation needs a geolocation database to place or value its matches. */
  static needsGeolocation(rule: CorrelationRule): boolean {
    const c = rule.correlation;
    return (
      (c.type === 'velocity' && c.condition.fields.length === 1) ||
      (c.type === 'rare_value' && !!c.condition.countryFields?.length)
    );
  }

  sample(
    read: (field: string) => FieldValue | undefined,
    events: readonly LogEvent[],
    time: number,
    member: number,
  ): BaselineSample | undefined {
    const { key, group } = groupOf(this.groupFields, read, member);
    const sample: BaselineSample = { key, group, time, events, fields: keptFields(this.outerFields, read) };
    const condition = this.rule.correlation.condition;
    if (this.type === 'velocity') {
      const place = this.placeOf(condition.fields.map(read));
      if (!place) {
        this.unplaced++;
        return undefined;
      }
      const name = condition.placeNameFields
        ?.map(read)
        .filter((value) => (typeof value === 'string' && value !== '') || typeof value === 'number')
        .join(', ');
      sample.place = name ? { ...place, name } : place;
    } else if (this.type === 'rare_value') {
      const values: FieldValue[] = [];
      for (const field of condition.fields) {
        let value = read(field);
        if (value !== undefined && value !== null && condition.countryFields?.includes(field))
          value = this.locate?.(String(value))?.country;
        if (value === undefined || value === null || value === '') {
          this.unplaced++;
          return undefined;
        }
        values.push(value);
      }
      sample.value = valueKey(values);
    }
    return sample;
  }

  offer(sample: BaselineSample, out: CorrelationResult[]): void {
    if (!this.buffered) {
      this.judge(sample, out);
      return;
    }
    let at = this.buffer.length;
    while (at > 0 && this.buffer[at - 1]!.time > sample.time) at--;
    this.buffer.splice(at, 0, sample);
  }

  advance(watermark: number, out: CorrelationResult[]): void {
    if (watermark > this.inputWatermark) this.inputWatermark = watermark;
    let taken = 0;
    while (taken < this.buffer.length && this.buffer[taken]!.time < watermark)
      this.judge(this.buffer[taken++]!, out);
    if (taken) this.buffer.splice(0, taken);
  }

  /** Results are given as matches are judged, so every one before the input's time is out. */
  outputWatermark(): number {
    return this.inputWatermark;
  }

  /** Forgets what the timespan no longer covers. */
  sweep(): void {
    const now = this.inputWatermark;
    if (!Number.isFinite(now)) return;
    for (const [key, group] of this.groups) {
      this.forget(group, now);
      if (!group.previous && group.counts.size === 0) this.groups.delete(key);
    }
  }

  get openGroups(): number {
    return this.groups.size;
  }

  snapshot(): BaselineSnapshot {
    return {
      kind: 'baseline',
      inputWatermark: Number.isFinite(this.inputWatermark) ? this.inputWatermark : null,
      buffer: [...this.buffer],
      groups: [...this.groups].map(([key, group]) => ({
        key,
        values: group.values,
        ...(group.previous ? { previous: group.previous } : {}),
        ...(group.counts.size ? { counts: savedCounts(group.counts) } : {}),
      })),
    };
  }

  restore(snapshot: BaselineSnapshot): void {
    this.inputWatermark = snapshot.inputWatermark ?? Number.NEGATIVE_INFINITY;
    this.buffer = [...snapshot.buffer];
    this.groups.clear();
    for (const saved of snapshot.groups) {
      const counts = saved.counts ? countsOf(saved.counts) : countsOfDays(saved.days ?? []);
      let history = 0;
      let earliestDay = Number.POSITIVE_INFINITY;
      for (const value of counts.values()) {
        history += value.total;
        earliestDay = Math.min(earliestDay, value.days[0]!);
      }
      this.groups.set(saved.key, {
        values: saved.values,
        previous: saved.previous,
        counts,
        history,
        earliestDay,
      });
    }
  }

  /** An address placed by the database, or latitude and longitude fields. */
  private placeOf(values: (FieldValue | undefined)[]): Place | undefined {
    if (values.length === 1) {
      const address = values[0];
      return address === undefined || address === null ? undefined : this.locate?.(String(address));
    }
    const latitude = Number(values[0]);
    const longitude = Number(values[1]);
    const given = values[0] !== null && values[0] !== '' && values[1] !== null && values[1] !== '';
    if (!given || !Number.isFinite(latitude) || !Number.isFinite(longitude)) return undefined;
    if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
    return { latitude, longitude };
  }

  private judge(sample: BaselineSample, out: CorrelationResult[]): void {
    let group = this.groups.get(sample.key);
    if (!group) {
      group = { values: sample.group, counts: new Map(), history: 0, earliestDay: Number.POSITIVE_INFINITY };
      this.groups.set(sample.key, group);
    }
    this.forget(group, sample.time);
    const judged = this.judgement(group, sample);
    if (judged) out.push(judged);
    this.remember(group, sample);
  }

  /** The result this match gives against the group's past, if the condition holds. */
  private judgement(group: BaselineGroup, sample: BaselineSample): CorrelationResult | undefined {
    const condition = this.rule.correlation.condition;
    const result = (
      value: number,
      detail: string,
      earlier?: PreviousMatch,
    ): CorrelationResult | undefined => {
      if (!conditionHolds(condition, value)) return undefined;
      const events = earlier
        ? [...earlier.events.slice(-EVENTS_PER_MATCH), ...sample.events.slice(-EVENTS_PER_MATCH)]
        : sample.events;
      return {
        rule: this.rule,
        time: sample.time,
        firstTime: earlier?.time ?? sample.time,
        group: group.values,
        value,
        events,
        fields: sample.fields,
        detail,
      };
    };
    switch (this.type) {
      case 'velocity': {
        const previous = group.previous;
        if (!previous?.place || !sample.place) return undefined;
        const straight = distanceKm(previous.place, sample.place);
        const distance = straight - (previous.place.accuracyKm ?? 0) - (sample.place.accuracyKm ?? 0);
        if (distance <= 0 || distance < (condition.minDistanceKm ?? 0)) return undefined;
        const elapsed = Math.max(sample.time - previous.time, MIN_TRAVEL_MS);
        const speed = Math.round(distance / (elapsed / 3_600_000));
        const detail = `${Math.round(straight).toLocaleString('en-US')} km from ${describePlace(previous.place)} to ${describePlace(sample.place)} in ${duration(sample.time - previous.time)}: ${speed.toLocaleString('en-US')} km/h`;
        return result(speed, detail, previous);
      }
      case 'dormant': {
        const previous = group.previous;
        if (!previous) return undefined;
        const days = Math.floor(((sample.time - previous.time) / DAY_MS) * 10) / 10;
        return result(
          days,
          `first match in ${days} days (previous ${new Date(previous.time).toISOString()})`,
          undefined,
        );
      }
      case 'rare_value': {
        if (group.history < (condition.history ?? 1)) return undefined;
        const seen = group.counts.get(sample.value!)?.total ?? 0;
        const shown = sample.value!.startsWith('=') ? sample.value!.slice(1) : sample.value!;
        return result(
          seen,
          `${shown}: ${seen} of the group's ${group.history} earlier matches in ${this.rule.correlation.timespan}`,
        );
      }
      case 'rare_hour': {
        if (group.history < (condition.history ?? 1)) return undefined;
        const hour = new Date(sample.time).getUTCHours();
        let near = 0;
        for (const h of [hour + 23, hour, hour + 1]) near += group.counts.get(String(h % 24))?.total ?? 0;
        const share = Math.round((near / group.history) * 1000) / 10;
        return result(
          share,
          `${String(hour).padStart(2, '0')}:00 UTC: ${near} of the group's ${group.history} earlier matches within an hour of it (${share} %)`,
        );
      }
    }
  }

  private remember(group: BaselineGroup, sample: BaselineSample): void {
    if (this.type === 'velocity' || this.type === 'dormant') {
      const events = this.type === 'velocity' ? sample.events.slice(-EVENTS_PER_MATCH) : [];
      group.previous = { time: sample.time, events, ...(sample.place ? { place: sample.place } : {}) };
      return;
    }
    const key = this.type === 'rare_value' ? sample.value! : String(new Date(sample.time).getUTCHours());
    const day = Math.floor(sample.time / DAY_MS);
    let value = group.counts.get(key);
    if (!value) {
      value = { total: 0, days: [] };
      group.counts.set(key, value);
    }
    // Matches are judged in time order, so a day is either the value's last one or a new one.
    const last = value.days.length - 2;
    if (last >= 0 && value.days[last] === day) value.days[last + 1]!++;
    else value.days.push(day, 1);
    value.total++;
    group.history++;
    if (day < group.earliestDay) group.earliestDay = day;
  }

  /** Drops what lies beyond the timespan before `now`. */
  private forget(group: BaselineGroup, now: number): void {
    const span = this.rule.correlation.timespanMs;
    if (group.previous && now - group.previous.time > span) group.previous = undefined;
    const firstDay = Math.floor(now / DAY_MS) - this.spanDays + 1;
    if (group.earliestDay >= firstDay) return;
    group.earliestDay = Number.POSITIVE_INFINITY;
    for (const [key, value] of group.counts) {
      let drop = 0;
      while (drop < value.days.length && value.days[drop]! < firstDay) {
        value.total -= value.days[drop + 1]!;
        group.history -= value.days[drop + 1]!;
        drop += 2;
      }
      if (drop === value.days.length) group.counts.delete(key);
      else {
        if (drop) value.days.splice(0, drop);
        group.earliestDay = Math.min(group.earliestDay, value.days[0]!);
      }
    }
  }
}

/** A group's counts as saved: each value's first day, then its count on each day from there. */
function savedCounts(counts: ReadonlyMap<string, ValueCounts>): Record<string, number[]> {
  const saved: Record<string, number[]> = {};
  for (const [key, { days }] of counts) {
    const run = [days[0]!];
    for (let i = 0; i < days.length; i += 2) {
      const skipped = i ? days[i]! - days[i - 2]! - 1 : 0;
      if (skipped > 0) run.push(-skipped);
      run.push(days[i + 1]!);
    }
    saved[key] = run;
  }
  return saved;
}

function countsOf(saved: Record<string, number[]>): Map<string, ValueCounts> {
  const counts = new Map<string, ValueCounts>();
  for (const [key, run] of Object.entries(saved)) {
    const days: number[] = [];
    let day = run[0]!;
    let total = 0;
    for (let i = 1; i < run.length; i++) {
      const entry = run[i]!;
      if (entry < 0) day -= entry;
      else {
        days.push(day++, entry);
        total += entry;
      }
    }
    if (total > 0) counts.set(key, { total, days });
  }
  return counts;
}

/** Counts from a snapshot that saved an object per day. */
function countsOfDays(saved: NonNullable<SavedGroup['days']>): Map<string, ValueCounts> {
  const counts = new Map<string, ValueCounts>();
  for (const { day, counts: ofDay } of [...saved].sort((a, b) => a.day - b.day)) {
    for (const [key, count] of Object.entries(ofDay)) {
      let value = counts.get(key);
      if (!value) {
        value = { total: 0, days: [] };
        counts.set(key, value);
      }
      value.days.push(day, count);
      value.total += count;
    }
  }
  return counts;
}

/** `3 h 20 min`, `45 min`, `2 d 4 h`. */
function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
