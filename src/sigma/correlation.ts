import { type FieldValue, getField, type LogEvent } from '../core/index.js';
import type { CorrelationCondition, CorrelationRule, DetectionRule } from './rule.js';

/**
 * Correlation rules over a time-ordered stream of rule matches.
 *
 * Every correlation keeps, per group-by key, the matches of the last `timespan` (a sliding
 * window ending at the newest match). Conditions that only say "at least" (`gt`, `gte`) are
 * checked on every arrival and fire as soon as they hold; the group then starts afresh, so one
 * burst gives one alert. Conditions with an upper bound or equality (`lt`, `lte`, `eq`, `neq`)
 * can only be judged once a window is over: the window opens with a group's first match, closes
 * `timespan` later, and is judged when a later match arrives or the input ends (`flush`).
 * Expired matches and empty groups are dropped, so memory follows the live windows only.
 */

export type CorrelatedRule = DetectionRule | CorrelationRule;

/** A match fed to the correlations: a detection rule's event or a correlation's result. */
export interface CorrelationInput {
  rule: CorrelatedRule;
  time: number;
  /** Reads a field of the match (group-by values first for correlation results). */
  get(field: string): FieldValue | undefined;
  /** The events behind the match. */
  events: readonly LogEvent[];
}

export interface CorrelationResult extends CorrelationInput {
  rule: CorrelationRule;
  /** Group-by field -> value. */
  group: Record<string, FieldValue>;
  /** The aggregate the condition was judged on (count, distinct values, sum, average ...). */
  value: number;
  /** First and last time of the matches that made the result. */
  firstTime: number;
}

/** How many events a result keeps to show; counting goes on beyond it. */
const MAX_EVENTS_KEPT = 32;

interface Entry {
  time: number;
  /** Index in `rules` of the correlation (temporal types). */
  ruleIndex: number;
  /** The aggregated value (value_count: a key; value_*: a number). */
  value?: string | number;
  input: CorrelationInput;
}

interface GroupState {
  group: Record<string, FieldValue>;
  entries: Entry[];
  /** Start of the current window (for conditions judged at window close). */
  windowStart: number;
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

class CorrelationState {
  readonly groups = new Map<string, GroupState>();
  readonly judgedAtClose: boolean;

  constructor(
    readonly rule: CorrelationRule,
    /** Referenced rules, in the order written. */
    readonly members: CorrelatedRule[],
    /** group-by field -> member index -> field to read (after aliases). */
    readonly groupFields: { name: string; perMember: string[] }[],
  ) {
    this.judgedAtClose = rule.correlation.condition.comparisons.some(({ op }) => op !== 'gt' && op !== 'gte');
  }

  push(input: CorrelationInput, memberIndex: number): CorrelationResult[] {
    const c = this.rule.correlation;
    const group: Record<string, FieldValue> = {};
    for (const field of this.groupFields)
      group[field.name] = input.get(field.perMember[memberIndex]!) ?? null;
    const key = JSON.stringify(this.groupFields.map((f) => group[f.name]));
    let state = this.groups.get(key);
    const out: CorrelationResult[] = [];
    if (state && this.judgedAtClose && input.time > state.windowStart + c.timespanMs) {
      const closed = this.judge(state);
      if (closed) out.push(closed);
      this.groups.delete(key);
      state = undefined;
    }
    if (!state) {
      state = { group, entries: [], windowStart: input.time };
      this.groups.set(key, state);
    }
    const entry: Entry = { time: input.time, ruleIndex: memberIndex, input };
    if (c.condition.fields.length) {
      const values = c.condition.fields.map((f) => input.get(f));
      if (values.some((v) => v === undefined || v === null)) {
        // No value to aggregate; for the count types the match still opens the window.
        if (c.type !== 'value_count') return out;
      } else if (c.type === 'value_count') {
        entry.value = JSON.stringify(values);
      } else {
        const n = toNumber(values[0]!);
        if (n === undefined) return out;
        entry.value = n;
      }
    }
    state.entries.push(entry);
    if (!this.judgedAtClose) {
      const cutoff = input.time - c.timespanMs;
      while (state.entries.length && state.entries[0]!.time < cutoff) state.entries.shift();
      const result = this.judge(state);
      if (result) {
        this.groups.delete(key);
        out.push(result);
      }
    }
    return out;
  }

  /** Drops what no window can use any more, given that no match older than `now` will arrive. */
  expire(now: number): CorrelationResult[] {
    const out: CorrelationResult[] = [];
    const span = this.rule.correlation.timespanMs;
    for (const [key, state] of this.groups) {
      if (this.judgedAtClose) {
        if (now > state.windowStart + span) {
          const result = this.judge(state);
          if (result) out.push(result);
          this.groups.delete(key);
        }
      } else {
        while (state.entries.length && state.entries[0]!.time < now - span) state.entries.shift();
        if (state.entries.length === 0) this.groups.delete(key);
      }
    }
    return out;
  }

  flush(): CorrelationResult[] {
    const out: CorrelationResult[] = [];
    if (this.judgedAtClose) {
      for (const state of this.groups.values()) {
        const result = this.judge(state);
        if (result) out.push(result);
      }
    }
    this.groups.clear();
    return out;
  }

  private judge(state: GroupState): CorrelationResult | undefined {
    const c = this.rule.correlation;
    const entries = state.entries;
    if (entries.length === 0) return undefined;
    const value = aggregate(c.type, entries, this.members.length, c.condition.percentile);
    if (value === undefined || !conditionHolds(c.condition, value)) return undefined;
    const used = c.type === 'temporal_ordered' ? orderedChain(entries, this.members.length) : entries;
    const last = used[used.length - 1]!;
    const events = used.flatMap((e) => e.input.events);
    const group = state.group;
    return {
      rule: this.rule,
      time: last.time,
      firstTime: used[0]!.time,
      group,
      value,
      events: events.length > MAX_EVENTS_KEPT ? events.slice(-MAX_EVENTS_KEPT) : events,
      get: (field) => (field in group ? group[field] : last.input.get(field)),
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

function aggregate(
  type: CorrelationRule['correlation']['type'],
  entries: Entry[],
  members: number,
  percentile?: number,
): number | undefined {
  switch (type) {
    case 'event_count':
      return entries.length;
    case 'value_count':
      return new Set(entries.filter((e) => e.value !== undefined).map((e) => e.value)).size;
    case 'temporal':
      return new Set(entries.map((e) => e.ruleIndex)).size;
    case 'temporal_ordered':
      return orderedChain(entries, members).length;
    default: {
      const numbers = entries.map((e) => e.value).filter((v): v is number => typeof v === 'number');
      if (numbers.length === 0) return undefined;
      if (type === 'value_sum') return numbers.reduce((a, b) => a + b, 0);
      if (type === 'value_avg') return numbers.reduce((a, b) => a + b, 0) / numbers.length;
      return percentileOf(numbers, type === 'value_median' ? 50 : (percentile ?? 95));
    }
  }
}

/** Linear interpolation between closest ranks (the usual definition, as in numpy's default). */
export function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** The longest prefix of the rules found in order: the earliest fit for each next rule. */
function orderedChain(entries: Entry[], members: number): Entry[] {
  const chain: Entry[] = [];
  let want = 0;
  for (const entry of entries) {
    if (want < members && entry.ruleIndex === want) {
      chain.push(entry);
      want++;
    }
  }
  return chain;
}

/**
 * Runs all correlation rules of a rule set, chained ones included. Feed it matches in time order;
 * it returns the correlations that fire (and feeds them to the correlations that name them).
 */
export class CorrelationEngine {
  private readonly states: CorrelationState[] = [];
  /** rule -> the correlations that name it, with its position there. */
  private readonly consumers = new Map<CorrelatedRule, { state: CorrelationState; index: number }[]>();
  private watermark = Number.NEGATIVE_INFINITY;
  private readonly fieldCache = new Map<CorrelatedRule, string[]>();
  private pushes = 0;

  constructor(
    correlations: readonly CorrelationRule[],
    resolve: (reference: string) => CorrelatedRule | undefined,
  ) {
    const depth = new Map<CorrelationRule, number>();
    for (const rule of correlations) {
      const members = rule.correlation.rules
        .map((ref) => resolve(ref))
        .filter((r): r is CorrelatedRule => !!r);
      const aliases = rule.correlation.aliases;
      const groupFields = rule.correlation.groupBy.map((name) => ({
        name,
        perMember: members.map((member) => {
          const alias = aliases[name];
          if (!alias) return name;
          for (const [reference, field] of Object.entries(alias))
            if (resolve(reference) === member) return field;
          return name;
        }),
      }));
      const state = new CorrelationState(rule, members, groupFields);
      this.states.push(state);
      depth.set(rule, 0);
      members.forEach((member, index) => {
        const list = this.consumers.get(member) ?? [];
        list.push({ state, index });
        this.consumers.set(member, list);
      });
    }
    // At the end of input, a correlation is judged after the correlations it names.
    const depthOf = (rule: CorrelationRule, seen: Set<CorrelationRule>): number => {
      if (seen.has(rule)) return 0;
      seen.add(rule);
      const state = this.states.find((s) => s.rule === rule);
      const inner = (state?.members ?? []).filter((m): m is CorrelationRule => m.kind === 'correlation');
      return inner.length ? 1 + Math.max(...inner.map((m) => depthOf(m, seen))) : 0;
    };
    for (const state of this.states) depth.set(state.rule, depthOf(state.rule, new Set()));
    this.states.sort((a, b) => depth.get(a.rule)! - depth.get(b.rule)!);
  }

  /** Whether matches of this rule feed any correlation. */
  consumes(rule: CorrelatedRule): boolean {
    return this.consumers.has(rule);
  }

  /** The event fields the correlations that read this rule's matches look at, up the chain. */
  fieldsFor(rule: CorrelatedRule): string[] {
    let fields = this.fieldCache.get(rule);
    if (!fields) {
      const set = new Set<string>();
      this.fieldCache.set(rule, []); // a correlation chain that loops ends here
      for (const { state, index } of this.consumers.get(rule) ?? []) {
        for (const group of state.groupFields) set.add(group.perMember[index]!);
        for (const field of state.rule.correlation.condition.fields) set.add(field);
        // A correlation's result reads missing fields from its last event: keep what its readers need.
        for (const field of this.fieldsFor(state.rule)) set.add(field);
      }
      fields = [...set];
      this.fieldCache.set(rule, fields);
    }
    return fields;
  }

  /** Feeds one match of a detection rule. Matches must come in time order. */
  pushMatch(rule: DetectionRule, event: LogEvent, time: number): CorrelationResult[] {
    return this.push({ rule, time, events: [event], get: (field) => getField(event, field) });
  }

  private push(input: CorrelationInput): CorrelationResult[] {
    const out: CorrelationResult[] = [];
    if (input.time > this.watermark) this.watermark = input.time;
    for (const { state, index } of this.consumers.get(input.rule) ?? []) {
      for (const result of state.push(input, index)) this.emit(result, out);
    }
    if (++this.pushes % 1024 === 0)
      for (const state of this.states) for (const r of state.expire(this.watermark)) this.emit(r, out);
    return out;
  }

  private emit(result: CorrelationResult, out: CorrelationResult[]): void {
    out.push(result);
    out.push(...this.push(result));
  }

  /** The end of the input: judges the windows still open. */
  flush(): CorrelationResult[] {
    const out: CorrelationResult[] = [];
    for (const state of this.states) for (const result of state.flush()) this.emit(result, out);
    return out;
  }

  /** Open groups over all correlations (to show that state stays bounded). */
  openGroups(): number {
    let n = 0;
    for (const state of this.states) n += state.groups.size;
    return n;
  }
}
