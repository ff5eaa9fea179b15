import {
  eventChannel,
  eventHost,
  type FieldValue,
  getField,
  HOST_FIELDS,
  type Locate,
  type LogEvent,
  type SourceLocation,
  setFor,
  VigilError,
} from '../core/index.js';
import {
  type CorrelatedRule,
  CorrelationEngine,
  type CorrelationRule,
  type DetectionRule,
  type FieldMap,
  type Level,
  type RuleSet,
} from '../sigma/index.js';
import { type Detection, detectionFromCorrelation, detectionFromMatch, LEVEL_ORDER } from './detection.js';
import type { DetectionEngine } from './engine.js';
import { detectionFromIoc, IndicatorIndex, IocMatcher } from './ioc-match.js';
import type { IndicatorTable } from './ioc-table.js';
import { type EventScope, eventScopeTest, type ReportScope, reportsRule } from './scope.js';
import { type HuntSummary, SummaryBuilder } from './summary.js';
import { IndicatorSweep, type SweepResult, type SweepTarget } from './sweep.js';
import { ReadTally } from './tally.js';
import { unitEvents, type WorkUnit } from './units.js';

/** A problem as it crosses threads (classes do not). */
export interface ProblemData {
  code: string;
  message: string;
  location: SourceLocation;
}

/**
 * Work on every event besides the rules, done where events are read (this thread or a worker), so
 * that it needs no pass over the logs of its own. As data: it crosses threads.
 */
export interface EventWatch {
  /** Indicator values to look for in every field of every event. */
  indicators?: SweepTarget[];
  /** Record every Windows channel and event ID seen (what the logs show is collected). */
  channels?: boolean;
  /** Known indicators to report as detections where events hold them (see IocMatcher). */
  iocs?: IndicatorTable;
}

/** What an EventWatch saw in one unit. */
export interface Watched {
  sweep?: SweepResult;
  /** Channel as written -> event IDs seen in it. */
  channels?: [string, number[]][];
}

/** What evaluating one unit gives, in the unit's record order. */
export interface UnitResult {
  file: string;
  /** Events read, those the event scope left out included. */
  events: number;
  /** Events the event scope (time window, hosts) left out. */
  outOfScope: number;
  detections: Detection[];
  /** Matches of rules that feed correlations: the rule's index in the rule set, a slim event. */
  correlationInputs: { rule: number; event: LogEvent; time: number }[];
  untimed: number;
  errors: ProblemData[];
  /** Events evaluated by recognized source ('' = claimed by no pipeline's product). */
  sources: [string, number][];
  watched?: Watched;
}

/** Fields a detection shows besides those correlations use. */
const PLACE_FIELDS = [...HOST_FIELDS, 'Channel', 'EventID'];

/**
 * What a correlation needs to keep of a matched event until the end of the run: the fields it
 * groups and aggregates by, and where the event came from. Files are not in time order, so
 * matches are correlated once all are read; keeping whole events would cost memory per match.
 * The correlation fields are read through the fieldmap the rule matched with and kept under the
 * rules' names, so the slim event is read without it; a place field of the same name yields.
 */
export function slim(event: LogEvent, fields: readonly string[], fieldmap: FieldMap): LogEvent {
  const kept: Record<string, FieldValue> = Object.create(null);
  for (const name of fields) {
    const value = getField(event, fieldmap.get(name) ?? name);
    if (value !== undefined) kept[name] = value;
  }
  for (const name of PLACE_FIELDS) {
    const value = getField(event, name);
    if (value !== undefined && !(name in kept)) kept[name] = value;
  }
  const slimmed: LogEvent = { fields: kept, source: event.source, time: event.time };
  // The host fields are kept above; a host no field names (a cloud account and region, told by
  // several fields) is kept as `host`, so that a correlation's detection names its events' host.
  if (!('host' in kept) && eventHost(slimmed) === undefined) {
    const host = eventHost(event);
    if (host !== undefined) kept.host = host;
  }
  return slimmed;
}

export function referenceResolver(
  ruleSet: Pick<RuleSet, 'rules' | 'correlations'>,
): (reference: string) => CorrelatedRule | undefined {
  const byId = new Map<string, CorrelatedRule>();
  const byName = new Map<string, CorrelatedRule>();
  for (const rule of [...ruleSet.rules, ...ruleSet.correlations]) {
    if (rule.id !== undefined && !byId.has(rule.id)) byId.set(rule.id, rule);
    if (rule.name !== undefined && !byName.has(rule.name)) byName.set(rule.name, rule);
  }
  return (reference) => byId.get(reference) ?? byName.get(reference);
}

/** Rules named by correlations that none of those asks to `generate`: only the correlation reports. */
export function silencedRules(
  correlations: readonly CorrelationRule[],
  resolve: (reference: string) => CorrelatedRule | undefined,
): Set<CorrelatedRule> {
  const referenced = new Set<CorrelatedRule>();
  const generated = new Set<CorrelatedRule>();
  for (const correlation of correlations) {
    for (const reference of correlation.correlation.rules) {
      const rule = resolve(reference);
      if (!rule) continue;
      referenced.add(rule);
      if (correlation.generate) generated.add(rule);
    }
  }
  return new Set([...referenced].filter((rule) => !generated.has(rule)));
}

/**
 * Evaluates units where the engine is (the main thread, or each worker): parses the events,
 * runs the rules, and keeps what the collector needs: detections at or above the minimum
 * level, and slim copies of the matches correlations read.
 */
export class UnitEvaluator {
  private readonly correlations: CorrelationEngine;
  private readonly silenced: Set<CorrelatedRule>;
  private readonly reports: (rule: { level?: Level; status?: string }) => boolean;
  private readonly inScope: ((event: LogEvent) => boolean) | undefined;
  private readonly ruleIndex = new Map<DetectionRule, number>();
  /** The watch's indicator search, built once per evaluator (per thread). */
  private readonly sweep: IndicatorSweep | undefined;
  private readonly iocs: IocMatcher | undefined;

  constructor(
    private readonly engine: DetectionEngine,
    ruleSet: Pick<RuleSet, 'rules' | 'correlations'>,
    report: ReportScope = {},
    private readonly watch: EventWatch = {},
    scope?: EventScope,
  ) {
    this.reports = reportsRule(report);
    this.inScope = eventScopeTest(scope);
    if (watch.indicators?.length) this.sweep = new IndicatorSweep(watch.indicators);
    if (watch.iocs?.count) this.iocs = new IocMatcher([new IndicatorIndex(watch.iocs)]);
    const resolve = referenceResolver(ruleSet);
    this.correlations = new CorrelationEngine(ruleSet.correlations, resolve);
    this.silenced = silencedRules(ruleSet.correlations, resolve);
    for (const [index, rule] of ruleSet.rules.entries()) this.ruleIndex.set(rule, index);
  }

  evaluate(unit: WorkUnit): UnitResult {
    const result: UnitResult = {
      file: unit.file,
      events: 0,
      outOfScope: 0,
      detections: [],
      correlationInputs: [],
      untimed: 0,
      errors: [],
      sources: [],
    };
    const channels = this.watch.channels ? new Map<string, Set<number>>() : undefined;
    const report = (error: VigilError) =>
      result.errors.push({ code: error.code, message: error.message, location: error.location });
    for (const event of unitEvents(unit, report)) {
      result.events++;
      if (this.inScope && !this.inScope(event)) {
        result.outOfScope++;
        continue;
      }
      this.sweep?.check(event);
      if (channels) {
        const seen = eventChannel(event);
        if (seen) setFor(channels, seen.channel).add(seen.id);
      }
      let matches: ReturnType<DetectionEngine['evaluate']>;
      try {
        matches = this.engine.evaluate(event);
      } catch (error) {
        // One event the engine cannot handle (whatever it holds) costs that event, not the hunt.
        report(
          new VigilError('EVENT_FAILED', `event could not be evaluated: ${(error as Error).message}`, {
            file: event.source.file,
            record: event.source.record,
          }),
        );
        continue;
      }
      for (const match of matches) {
        if (this.correlations.consumes(match.rule)) {
          if (event.time === undefined) result.untimed++;
          else {
            result.correlationInputs.push({
              rule: this.ruleIndex.get(match.rule)!,
              event: slim(event, this.correlations.fieldsFor(match.rule), match.fieldmap),
              time: event.time,
            });
          }
        }
        if (!this.silenced.has(match.rule) && this.reports(match.rule))
          result.detections.push(detectionFromMatch(match));
      }
      if (this.iocs) {
        for (const hit of this.iocs.match(event)) {
          const detection = detectionFromIoc(hit, event);
          if (this.reports(detection.rule)) result.detections.push(detection);
        }
      }
    }
    result.sources = this.engine.takeRecognized();
    if (this.sweep || channels) {
      result.watched = {
        sweep: this.sweep?.take(),
        channels: channels && [...channels].map(([channel, ids]) => [channel, [...ids]]),
      };
    }
    return result;
  }
}

export interface CollectorOptions extends ReportScope {
  /** Places addresses for the correlations that need it (velocity, `|country`). */
  locate?: Locate;
  onDetection: (detection: Detection) => void;
  onError?: (error: VigilError) => void;
  /** What the hunt's EventWatch saw, unit by unit in file and record order. */
  onWatched?: (watched: Watched) => void;
}

/**
 * Takes unit results in order on the main thread: reports detections and problems as they
 * come, keeps the correlation inputs, and at the end correlates them in time order.
 */
export class HuntCollector {
  private readonly summary = new SummaryBuilder();
  private readonly inputs: { rule: number; event: LogEvent; time: number }[] = [];
  private readonly reports: (rule: Detection['rule']) => boolean;
  private readonly tally = new ReadTally();
  private readonly sources = new Map<string, number>();
  events = 0;
  outOfScope = 0;
  detections = 0;
  readErrors = 0;
  private untimed = 0;
  private readonly unplaced: { key: string; count: number }[] = [];

  constructor(
    private readonly ruleSet: Pick<RuleSet, 'rules' | 'correlations'>,
    private readonly options: CollectorOptions,
  ) {
    this.reports = reportsRule(options);
  }

  problem(error: VigilError): void {
    this.readErrors++;
    this.tally.problem(error.location);
    this.options.onError?.(error);
  }

  add(result: UnitResult): void {
    this.events += result.events;
    this.outOfScope += result.outOfScope;
    this.tally.add(result.file, result.events);
    this.untimed += result.untimed;
    for (const [source, count] of result.sources)
      this.sources.set(source, (this.sources.get(source) ?? 0) + count);
    for (const error of result.errors)
      this.problem(new VigilError(error.code, error.message, error.location));
    for (const detection of result.detections) this.report(detection);
    for (const input of result.correlationInputs) this.inputs.push(input);
    if (result.watched) this.options.onWatched?.(result.watched);
  }

  private report(detection: Detection): void {
    if (!this.reports(detection.rule)) return;
    this.detections++;
    this.summary.add(detection);
    this.options.onDetection(detection);
  }

  /** Correlates what was gathered and returns the run's summary. */
  finish(run: { files: readonly string[]; bytes: number; durationMs: number }): HuntSummary {
    if (this.inputs.length) {
      const resolve = referenceResolver(this.ruleSet);
      const engine = new CorrelationEngine(this.ruleSet.correlations, resolve, {
        locate: this.options.locate,
      });
      const silenced = silencedRules(this.ruleSet.correlations, resolve);
      const levels = memberLevels(this.ruleSet.correlations, resolve);
      const emit = (results: ReturnType<CorrelationEngine['flush']>) => {
        for (const result of results) {
          if (!silenced.has(result.rule))
            this.report(detectionFromCorrelation(result, levels.get(result.rule) ?? 'medium'));
        }
      };
      this.inputs.sort((a, b) => a.time - b.time);
      for (const input of this.inputs)
        emit(engine.pushMatch(this.ruleSet.rules[input.rule]!, input.event, input.time));
      emit(engine.flush());
      for (const { rule, matches } of engine.unplaced())
        this.unplaced.push({ key: rule.title, count: matches });
    }
    return this.summary.build({
      files: run.files.length,
      unreadFiles: this.tally.unread(run.files),
      bytes: run.bytes,
      durationMs: run.durationMs,
      events: this.events,
      outOfScope: this.outOfScope,
      readErrors: this.readErrors,
      untimedCorrelationInputs: this.untimed,
      unplacedCorrelationInputs: this.unplaced,
      geolocation: this.options.locate !== undefined,
      bySource: [...this.sources]
        .map(([key, count]) => ({ key, count }))
        .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)),
    });
  }
}

/** For each correlation, the highest level among the rules it names (recursively). */
export function memberLevels(
  correlations: readonly CorrelationRule[],
  resolve: (reference: string) => CorrelatedRule | undefined,
): Map<CorrelationRule, Level> {
  const out = new Map<CorrelationRule, Level>();
  const levelOf = (rule: CorrelatedRule, seen: Set<CorrelatedRule>): Level => {
    if (rule.level) return rule.level;
    if (rule.kind === 'detection' || seen.has(rule)) return 'medium';
    seen.add(rule);
    let best = 0;
    for (const reference of rule.correlation.rules) {
      const member = resolve(reference);
      if (member) best = Math.max(best, LEVEL_ORDER.indexOf(levelOf(member, seen)));
    }
    return LEVEL_ORDER[best]!;
  };
  for (const correlation of correlations) {
    let best = 0;
    for (const reference of correlation.correlation.rules) {
      const member = resolve(reference);
      if (member) best = Math.max(best, LEVEL_ORDER.indexOf(levelOf(member, new Set())));
    }
    out.set(correlation, LEVEL_ORDER[best]!);
  }
  return out;
}
