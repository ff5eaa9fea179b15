import { type FieldValue, getField, type Locate, type LogEvent } from '../core/index.js';
import type { FieldMap } from './compile.js';
import { type BaselineSnapshot, BaselineState } from './correlation-baseline.js';
import { type CorrelationResult, CorrelationState, type StateSnapshot } from './correlation-state.js';
import { type CorrelationRule, type DetectionRule, isBaselineType } from './rule.js';

export { percentileOf } from './correlation-aggregate.js';
export type { BaselineSnapshot } from './correlation-baseline.js';
export type { CorrelationResult } from './correlation-state.js';

/**
 * Correlation rules over matches pushed in event-time order, results given as soon as they are
 * known. The same matches give the same results whether pushed in one go and flushed (a hunt) or
 * as they arrive with the time advanced in between (a service): every judgement waits until the
 * matches it depends on are known to be in, never on when it is asked for.
 *
 * Time is told by a watermark: pushing a match of time t says no match before t will follow;
 * `advance(t)` says so without a match; `flush` says the input is over. Correlations over other
 * correlations take their results in event time (a result's time is that of the event that
 * completed it), once every correlation they name has given all its results before that time.
 *
 * State follows the live windows only: matches no window can use are dropped as time moves on.
 */

export type CorrelatedRule = DetectionRule | CorrelationRule;

/** The state of one correlation: Sigma's windows, or one of Vigil's baselines. */
type Judge = CorrelationState | BaselineState;

/** Whether a correlation places addresses (velocity, `|country`), which takes a geolocation database. */
export function needsGeolocation(rule: CorrelationRule): boolean {
  return BaselineState.needsGeolocation(rule);
}

export interface CorrelationEngineOptions {
  /** Places addresses for velocity and `|country` correlations; without it they leave their matches out. */
  locate?: Locate;
}

/** The state of a correlation engine as JSON-safe data: see CorrelationEngine.snapshot. */
export interface EngineSnapshot {
  watermark: number | null;
  late: number;
  /** By correlation (its id, else its title and place). */
  states: Record<string, StateSnapshot | BaselineSnapshot>;
}

/**
 * Which saved state a correlation takes back: the same rule (by id, else title and place) with the
 * same definition. A rule edited since (another timespan, other group-by fields) starts empty:
 * its saved groups would be keyed and windowed otherwise.
 */
function stateKey(rule: CorrelationRule): string {
  let hash = 0x811c9dc5;
  const definition = JSON.stringify(rule.correlation);
  for (let i = 0; i < definition.length; i++) hash = Math.imul(hash ^ definition.charCodeAt(i), 0x01000193);
  return `${rule.id ?? `${rule.origin.file}#${rule.origin.document}:${rule.title}`}/${(hash >>> 0).toString(16)}`;
}

/** How many pushed matches between sweeps of expired matches. */
const SWEEP_EVERY = 1024;

export class CorrelationEngine {
  /** Inner correlations before the correlations that name them. */
  private readonly states: Judge[] = [];
  /** rule -> the correlations that name it, with its position there. */
  private readonly consumers = new Map<CorrelatedRule, { state: Judge; member: number }[]>();
  /** correlation -> the correlations and detection rules it names (null: a detection rule). */
  private readonly sources = new Map<Judge, (Judge | null | undefined)[]>();
  private readonly fieldCache = new Map<CorrelatedRule, string[]>();
  /** Every match before this time has been pushed. */
  private watermark = Number.NEGATIVE_INFINITY;
  private pushes = 0;
  /** Matches pushed after later ones had moved the time on: left out. */
  late = 0;

  constructor(
    correlations: readonly CorrelationRule[],
    resolve: (reference: string) => CorrelatedRule | undefined,
    options: CorrelationEngineOptions = {},
  ) {
    const stateOf = new Map<CorrelationRule, Judge>();
    const membersOf = new Map<CorrelationRule, CorrelatedRule[]>();
    for (const rule of correlations) {
      const members = rule.correlation.rules
        .map((reference) => resolve(reference))
        .filter((r): r is CorrelatedRule => !!r);
      membersOf.set(rule, members);
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
      const buffered = members.some((member) => member.kind === 'correlation');
      stateOf.set(
        rule,
        isBaselineType(rule.correlation.type)
          ? new BaselineState(rule, groupFields, buffered, options.locate)
          : new CorrelationState(rule, members.length, groupFields, buffered),
      );
    }
    // Inner correlations first: one pass in this order takes results all the way up a chain.
    const placed = new Set<CorrelationRule>();
    const place = (rule: CorrelationRule, path: Set<CorrelationRule>) => {
      if (placed.has(rule) || !stateOf.has(rule)) return;
      if (path.has(rule))
        throw new Error(`correlation '${rule.title}' names itself through other correlations`);
      path.add(rule);
      for (const member of membersOf.get(rule)!) if (member.kind === 'correlation') place(member, path);
      path.delete(rule);
      placed.add(rule);
      this.states.push(stateOf.get(rule)!);
    };
    for (const rule of correlations) place(rule, new Set());
    for (const state of this.states) {
      const members = membersOf.get(state.rule)!;
      members.forEach((member, index) => {
        const list = this.consumers.get(member) ?? [];
        list.push({ state, member: index });
        this.consumers.set(member, list);
      });
      this.sources.set(
        state,
        members.map((member) => (member.kind === 'correlation' ? stateOf.get(member) : null)),
      );
    }
    for (const state of this.states) state.outerFields = this.fieldsFor(state.rule);
  }

  /** Whether matches of this rule feed any correlation. */
  consumes(rule: CorrelatedRule): boolean {
    return this.consumers.has(rule);
  }

  /** The fields (as rules name them) the correlations that read this rule's matches look at, up the chain. */
  fieldsFor(rule: CorrelatedRule): string[] {
    let fields = this.fieldCache.get(rule);
    if (!fields) {
      const set = new Set<string>();
      this.fieldCache.set(rule, []); // a correlation chain that loops ends here
      for (const { state, member } of this.consumers.get(rule) ?? []) {
        for (const group of state.groupFields) set.add(group.perMember[member]!);
        const { condition } = state.rule.correlation;
        for (const field of [...condition.fields, ...(condition.placeNameFields ?? [])]) set.add(field);
        // A correlation's result reads missing fields from its last event: keep what its readers need.
        for (const field of this.fieldsFor(state.rule)) set.add(field);
      }
      fields = [...set];
      this.fieldCache.set(rule, fields);
    }
    return fields;
  }

  /**
   * Feeds one match of a detection rule, no earlier than those pushed before (an earlier one is
   * counted in `late` and left out, as is one without a time). `fieldmap` (rule field -> event field) is the one the rule
   * matched the event with: correlations read their fields through it, as the rule does.
   * Returns the results this match's time made known (of earlier times).
   */
  pushMatch(rule: DetectionRule, event: LogEvent, time: number, fieldmap?: FieldMap): CorrelationResult[] {
    const consumers = this.consumers.get(rule);
    if (!consumers) return [];
    if (!(time >= this.watermark)) {
      this.late++;
      return [];
    }
    const out: CorrelationResult[] = [];
    if (time > this.watermark) this.moveTo(time, out);
    const read = fieldmap?.size
      ? (field: string): FieldValue | undefined => getField(event, fieldmap.get(field) ?? field)
      : (field: string): FieldValue | undefined => getField(event, field);
    const events = [event];
    for (const { state, member } of consumers) feed(state, read, events, time, member, out);
    if (++this.pushes % SWEEP_EVERY === 0) for (const state of this.states) state.sweep();
    return out;
  }

  /** No match before `time` will be pushed: returns the results that makes known. */
  advance(time: number): CorrelationResult[] {
    const out: CorrelationResult[] = [];
    if (time > this.watermark) this.moveTo(time, out);
    return out;
  }

  /** The end of the input: judges every window still open. */
  flush(): CorrelationResult[] {
    return this.advance(Number.POSITIVE_INFINITY);
  }

  /**
   * Everything the engine holds, as data that survives JSON: a service saves it with the input
   * position it covers and, after a restart, restores it and goes on from that position, so a
   * window that spans the restart still fires once.
   */
  snapshot(): EngineSnapshot {
    const states: Record<string, StateSnapshot | BaselineSnapshot> = {};
    for (const state of this.states) states[stateKey(state.rule)] = state.snapshot();
    return { watermark: Number.isFinite(this.watermark) ? this.watermark : null, late: this.late, states };
  }

  /**
   * Takes back a snapshot. Correlations are matched by id (else title and place) and definition;
   * those the snapshot does not know (added or changed since) start empty, and saved ones no
   * longer loaded are dropped.
   */
  restore(snapshot: EngineSnapshot): void {
    this.watermark = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    this.late = snapshot.late;
    for (const state of this.states) {
      const saved = snapshot.states[stateKey(state.rule)];
      if (!saved) continue;
      if (state instanceof BaselineState) {
        if (saved.kind === 'baseline') state.restore(saved);
      } else if (saved.kind === undefined) state.restore(saved);
    }
  }

  /**
   * Matches of each velocity and rare_value correlation that could not be placed or valued (no
   * geolocation database, an address it does not know, a missing field).
   */
  unplaced(): { rule: CorrelationRule; matches: number }[] {
    return this.states
      .filter((state): state is BaselineState => state instanceof BaselineState && state.unplaced > 0)
      .map((state) => ({ rule: state.rule, matches: state.unplaced }));
  }

  /** Open groups over all correlations (to show that state stays bounded). */
  openGroups(): number {
    let n = 0;
    for (const state of this.states) n += state.openGroups;
    return n;
  }

  private moveTo(time: number, out: CorrelationResult[]): void {
    this.watermark = time;
    for (const state of this.states) {
      let watermark = time;
      for (const source of this.sources.get(state)!) {
        // A correlation left out of the engine (its rules are missing) never gives a result.
        if (source) watermark = Math.min(watermark, source.outputWatermark());
      }
      const from = out.length;
      state.advance(watermark, out);
      for (let i = from; i < out.length; i++) this.deliver(out[i]!);
    }
  }

  /** Hands a correlation's result to the correlations that name it. */
  private deliver(result: CorrelationResult): void {
    const consumers = this.consumers.get(result.rule);
    if (!consumers) return;
    const read = (field: string): FieldValue | undefined => result.fields[field];
    // Buffered: taken in when the consumer's own advance comes, later in this pass.
    for (const { state, member } of consumers) feed(state, read, result.events, result.time, member, []);
  }
}

/** Reads what a correlation needs of a match and hands it over. */
function feed(
  state: Judge,
  read: (field: string) => FieldValue | undefined,
  events: readonly LogEvent[],
  time: number,
  member: number,
  out: CorrelationResult[],
): void {
  if (state instanceof BaselineState) {
    const sample = state.sample(read, events, time, member);
    if (sample) state.offer(sample, out);
  } else {
    const sample = state.sample(read, events, time, member);
    if (sample) state.offer(sample, out);
  }
}
