import { stat } from 'node:fs/promises';
import { type FieldValue, getField, type LogEvent, VigilError } from '../core/index.js';
import { readEvents } from '../logs/index.js';
import {
  type CorrelatedRule,
  CorrelationEngine,
  type CorrelationRule,
  type DetectionRule,
  type Level,
  type RuleSet,
} from '../sigma/index.js';
import { type Detection, detectionFromCorrelation, detectionFromMatch, LEVEL_ORDER } from './detection.js';
import type { DetectionEngine, RuleMatch } from './engine.js';
import { type HuntSummary, SummaryBuilder } from './summary.js';

export interface HuntProgress {
  file: string;
  fileIndex: number;
  files: number;
  bytes: number;
  totalBytes: number;
  events: number;
  detections: number;
}

export interface HuntOptions {
  engine: DetectionEngine;
  ruleSet: RuleSet;
  /** Detections below this level are not reported (correlations still see their rules' matches). */
  minLevel?: Level;
  onDetection: (detection: Detection) => void;
  /** Unreadable files and records: reported, skipped, and the hunt goes on. */
  onError?: (error: VigilError) => void;
  onProgress?: (progress: HuntProgress) => void;
}

/**
 * Reads every file, runs every event through the engine, then runs the correlations over the
 * matches that feed them (in time order, since files are not). Returns the run's summary.
 */
export async function hunt(files: readonly string[], options: HuntOptions): Promise<HuntSummary> {
  const started = performance.now();
  const { engine, ruleSet } = options;
  const minRank = LEVEL_ORDER.indexOf(options.minLevel ?? 'informational');
  const summary = new SummaryBuilder();
  const resolve = referenceResolver(ruleSet);
  const correlations = new CorrelationEngine(ruleSet.correlations, resolve);
  const silenced = silencedRules(ruleSet.correlations, resolve);
  const correlationInputs: { rule: DetectionRule; event: LogEvent; time: number }[] = [];
  let untimed = 0;
  let readErrors = 0;
  let events = 0;
  let detections = 0;

  const report = (detection: Detection) => {
    if (LEVEL_ORDER.indexOf(detection.rule.level) < minRank) return;
    detections++;
    summary.add(detection);
    options.onDetection(detection);
  };

  const sizes = await Promise.all(
    files.map((file) =>
      stat(file)
        .then((s) => s.size)
        .catch(() => 0),
    ),
  );
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  let bytesBefore = 0;
  for (const [fileIndex, file] of files.entries()) {
    const progress = (bytes: number) =>
      options.onProgress?.({
        file,
        fileIndex,
        files: files.length,
        bytes: bytesBefore + bytes,
        totalBytes,
        events,
        detections,
      });
    const stream = readEvents(file, {
      onError: (error) => {
        readErrors++;
        options.onError?.(error);
      },
      onProgress: progress,
    });
    for await (const event of stream) {
      events++;
      let matches: RuleMatch[];
      try {
        matches = engine.evaluate(event);
      } catch (error) {
        // One event the engine cannot handle (whatever it holds) costs that event, not the hunt.
        readErrors++;
        options.onError?.(
          new VigilError('EVENT_FAILED', `event could not be evaluated: ${(error as Error).message}`, {
            file: event.source.file,
            record: event.source.record,
          }),
        );
        continue;
      }
      for (const match of matches) {
        if (correlations.consumes(match.rule)) {
          if (event.time === undefined) untimed++;
          else
            correlationInputs.push({
              rule: match.rule,
              event: slim(event, correlations.fieldsFor(match.rule)),
              time: event.time,
            });
        }
        if (!silenced.has(match.rule) && LEVEL_ORDER.indexOf(match.rule.level ?? 'medium') >= minRank) {
          report(detectionFromMatch(match));
        }
      }
    }
    bytesBefore += sizes[fileIndex]!;
    progress(0);
  }

  if (correlationInputs.length) {
    correlationInputs.sort((a, b) => a.time - b.time);
    const levels = memberLevels(ruleSet.correlations, resolve);
    const emit = (results: ReturnType<CorrelationEngine['flush']>) => {
      for (const result of results) {
        if (!silenced.has(result.rule))
          report(detectionFromCorrelation(result, levels.get(result.rule) ?? 'medium'));
      }
    };
    for (const input of correlationInputs) emit(correlations.pushMatch(input.rule, input.event, input.time));
    emit(correlations.flush());
  }

  return summary.build({
    files: files.length,
    events,
    bytes: totalBytes,
    durationMs: performance.now() - started,
    readErrors,
    untimedCorrelationInputs: untimed,
  });
}

/** Fields a detection shows besides those correlations use. */
const PLACE_FIELDS = [
  'Computer',
  'ComputerName',
  'Hostname',
  'host.name',
  'hostname',
  'host',
  'Channel',
  'EventID',
];

/**
 * What a correlation needs to keep of a matched event until the end of the run: the fields it
 * groups and aggregates by, and where the event came from. Files are not in time order, so
 * matches are correlated once all are read; keeping whole events would cost memory per match.
 */
function slim(event: LogEvent, fields: readonly string[]): LogEvent {
  const kept: Record<string, FieldValue> = Object.create(null);
  for (const name of [...fields, ...PLACE_FIELDS]) {
    const value = getField(event, name);
    if (value !== undefined) kept[name] = value;
  }
  return { fields: kept, source: event.source, time: event.time };
}

export function referenceResolver(ruleSet: RuleSet): (reference: string) => CorrelatedRule | undefined {
  const byId = new Map<string, CorrelatedRule>();
  const byName = new Map<string, CorrelatedRule>();
  for (const rule of [...ruleSet.rules, ...ruleSet.correlations]) {
    if (rule.id !== undefined && !byId.has(rule.id)) byId.set(rule.id, rule);
    if (rule.name !== undefined && !byName.has(rule.name)) byName.set(rule.name, rule);
  }
  return (reference) => byId.get(reference) ?? byName.get(reference);
}

/** Rules named by correlations that none of those asks to `generate`: only the correlation reports. */
function silencedRules(
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

/** For each correlation, the highest level among the rules it names (recursively). */
function memberLevels(
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
