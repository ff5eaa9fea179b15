import type { Locate, LogEvent } from '../core/index.js';
import { memberLevels, referenceResolver, silencedRules } from '../detect/index.js';
import {
  CorrelationEngine,
  type CorrelationResult,
  type CorrelationRule,
  type DetectionRule,
  type EngineSnapshot,
  type Level,
} from '../sigma/index.js';
import { type CorrelationInputData, ruleRef } from './evaluate.js';
import { runningCorrelations, type TenantRules } from './rules.js';

interface Buffered {
  rule: string;
  event: LogEvent;
  time: number;
}

export interface CorrelatorSnapshot {
  engine: EngineSnapshot;
  buffer: Buffered[];
  maxTime: number | null;
}

/**
 * One tenant's correlations on a live stream. Events come out of order (shippers batch, agents
 * reconnect), so matches wait here until the newest event time seen is `lateness` past theirs,
 * then enter the engine in time order. A match older than what the engine already took is late:
 * counted and left out of correlation (its own detection stands). When no match comes for
 * `lateness` of wall-clock time, event time is taken to move on with the clock, so windows close
 * and conditions with an upper bound are judged without waiting for the next event.
 */
export class TenantCorrelator {
  private engine: CorrelationEngine;
  private buffer: Buffered[] = [];
  private maxTime = Number.NEGATIVE_INFINITY;
  /** Wall-clock time of the last match taken in. */
  private lastArrival = 0;
  /** Event time up to which the engine has been told everything is in. */
  private released = Number.NEGATIVE_INFINITY;
  private rulesByRef = new Map<string, DetectionRule>();
  private levels = new Map<CorrelationRule, Level>();
  /** Correlations that only feed other correlations (none of which asks them to `generate`). */
  private silenced = new Set<unknown>();
  /** Whether anything changed since the last snapshot. */
  dirty = false;

  constructor(
    rules: TenantRules,
    private readonly latenessMs: number,
    private readonly locate?: Locate,
  ) {
    this.engine = this.build(rules);
  }

  private build(rules: TenantRules): CorrelationEngine {
    const resolve = referenceResolver(rules);
    this.rulesByRef = new Map(rules.rules.map((rule) => [ruleRef(rule), rule]));
    this.levels = memberLevels(rules.correlations, resolve);
    // Of every correlation, those turned off too: a correlation only they read stays quiet.
    this.silenced = silencedRules(rules.correlations, resolve);
    return new CorrelationEngine(runningCorrelations(rules), resolve, { locate: this.locate });
  }

  /** The correlation's level: its own, else the highest of the rules it names. */
  levelOf(rule: CorrelationRule): Level {
    return rule.level ?? this.levels.get(rule) ?? 'medium';
  }

  /** Matches the engine left out because an earlier-timed one had already gone in. */
  get late(): number {
    return this.engine.late;
  }

  push(inputs: readonly CorrelationInputData[], now = Date.now()): CorrelationResult[] {
    if (inputs.length === 0) return [];
    for (const input of inputs) {
      this.insert(input);
      if (input.time > this.maxTime) this.maxTime = input.time;
    }
    this.lastArrival = now;
    this.dirty = true;
    return this.release(this.maxTime - this.latenessMs);
  }

  /** Called now and then: once the stream has been quiet for `lateness`, event time moves on with the clock. */
  tick(now = Date.now()): CorrelationResult[] {
    if (!Number.isFinite(this.maxTime) || now - this.lastArrival < this.latenessMs) return [];
    const until = this.maxTime + (now - this.lastArrival) - this.latenessMs;
    if (until <= this.released) return [];
    this.dirty = true;
    return this.release(until);
  }

  /** Matches in time order; equal times keep their log order. */
  private insert(input: Buffered): void {
    const buffer = this.buffer;
    let at = buffer.length;
    while (at > 0 && buffer[at - 1]!.time > input.time) at--;
    buffer.splice(at, 0, { rule: input.rule, event: input.event, time: input.time });
  }

  private release(until: number): CorrelationResult[] {
    const out: CorrelationResult[] = [];
    let taken = 0;
    for (; taken < this.buffer.length && this.buffer[taken]!.time <= until; taken++) {
      const input = this.buffer[taken]!;
      const rule = this.rulesByRef.get(input.rule);
      // A rule gone since the match was found (rules reloaded) feeds nothing.
      if (rule) out.push(...this.engine.pushMatch(rule, input.event, input.time));
    }
    if (taken) this.buffer.splice(0, taken);
    if (until > this.released) {
      // Everything up to `until` is in: matches at exactly `until` may still come, so not past it.
      out.push(...this.engine.advance(until));
      this.released = until;
    }
    return out.filter((result) => !this.silenced.has(result.rule));
  }

  snapshot(): string {
    const data: CorrelatorSnapshot = {
      engine: this.engine.snapshot(),
      buffer: this.buffer,
      maxTime: Number.isFinite(this.maxTime) ? this.maxTime : null,
    };
    return JSON.stringify(data);
  }

  restore(text: string): void {
    const data = JSON.parse(text) as CorrelatorSnapshot;
    this.engine.restore(data.engine);
    this.buffer = data.buffer;
    this.maxTime = data.maxTime ?? Number.NEGATIVE_INFINITY;
    this.released = data.engine.watermark ?? Number.NEGATIVE_INFINITY;
    // The quiet period starts again after a restart: what was in the buffer waits its lateness anew.
    this.lastArrival = Date.now();
  }

  /** New rules (a reload): the windows of correlations that did not change carry over. */
  reload(rules: TenantRules): void {
    const saved = this.engine.snapshot();
    this.engine = this.build(rules);
    this.engine.restore(saved);
    this.dirty = true;
  }
}
