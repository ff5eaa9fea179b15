import type { FieldValue, LogEvent } from '../core/index.js';
import {
  type Detection,
  detectionFromIoc,
  detectionFromMatch,
  type ProblemData,
  type RuleMatch,
  referenceResolver,
  silencedRules,
  slim,
} from '../detect/index.js';
import { toLogEvent } from '../logs/index.js';
import { type CorrelatedRule, CorrelationEngine, type DetectionRule } from '../sigma/index.js';
import { type LogRecord, parseRecordLine, recordLineSeq } from './event-log.js';
import { type CompiledServiceRules, runningCorrelations, type TenantRules } from './rules.js';

/** A detection rule's match, as it leaves the thread that found it. */
export interface FoundDetection {
  seq: number;
  /** When the service accepted the event. */
  received: number;
  detection: Detection;
  /** The event as it was received (JSON text). */
  event: string;
}

/**
 * A match that feeds correlations, with a slim event. The rule is named by where it was written
 * (`ruleRef`), not by position: the thread that correlates may have loaded the rules anew since.
 */
export interface CorrelationInputData {
  rule: string;
  event: LogEvent;
  time: number;
}

/** A detection rule's name across threads and reloads: its file and document. */
export function ruleRef(rule: DetectionRule): string {
  return `${rule.origin.file}\0${rule.origin.document}`;
}

/** What evaluating a run of one tenant's log gives, in log order. */
export interface EvaluatedBatch {
  tenant: string;
  /** The positions covered, first to last. */
  first: number;
  last: number;
  events: number;
  detections: FoundDetection[];
  correlationInputs: CorrelationInputData[];
  /** Matches that would feed a correlation but carry no time. */
  untimed: number;
  errors: ProblemData[];
  /** Time the thread spent evaluating the batch, in ms (for the service's stage timers). */
  threadMs: number;
}

/**
 * A run of one tenant's log, packed to cross to a detection thread cheaply: either the lines the
 * log keeps (bytes handed over whole, read on the detection thread), or, from a log that keeps no
 * lines, the events as one string (a stored event is one line of JSON, so lines split them) and
 * the rest as numbers, instead of thousands of small objects to copy one by one.
 */
export type BatchTask = PackedRecords | KeptLines;

export interface KeptLines {
  tenant: string;
  /** The records as the log keeps them (recordHead, the event, `}`), separated by newlines. */
  lines: Uint8Array;
}

export interface PackedRecords {
  tenant: string;
  /** The events as sent, one per line. */
  events: string;
  /** Per event: position, arrival time, stored time (NaN: none). */
  meta: Float64Array;
  /** Per event: its input, as an index into `sources`. */
  sourceOf: Uint32Array;
  sources: string[];
}

export function packBatch(tenant: string, records: readonly LogRecord[]): PackedRecords {
  const meta = new Float64Array(records.length * 3);
  const sourceOf = new Uint32Array(records.length);
  const sources: string[] = [];
  const sourceIndex = new Map<string, number>();
  const events: string[] = [];
  for (const [i, record] of records.entries()) {
    meta[i * 3] = record.seq;
    meta[i * 3 + 1] = record.received;
    meta[i * 3 + 2] = record.time ?? Number.NaN;
    let index = sourceIndex.get(record.source);
    if (index === undefined) {
      index = sources.push(record.source) - 1;
      sourceIndex.set(record.source, index);
    }
    sourceOf[i] = index;
    events.push(record.event);
  }
  return { tenant, events: events.join('\n'), meta, sourceOf, sources };
}

/** A record, or the position of a line that does not read as one (a damaged log). */
type Unpacked = LogRecord | { unreadable: number };

function unpackLines(lines: Uint8Array): Unpacked[] {
  const bytes = Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength);
  const out: Unpacked[] = [];
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    out.push(
      parseRecordLine(bytes.toString('utf8', start, end)) ?? { unreadable: recordLineSeq(bytes, start) ?? 0 },
    );
    start = end + 1;
  }
  return out;
}

function unpackBatch(task: BatchTask): Unpacked[] {
  if ('lines' in task) return unpackLines(task.lines);
  return task.events.split('\n').map((event, i) => {
    const time = task.meta[i * 3 + 2]!;
    return {
      seq: task.meta[i * 3]!,
      received: task.meta[i * 3 + 1]!,
      source: task.sources[task.sourceOf[i]!]!,
      event,
      ...(Number.isNaN(time) ? {} : { time }),
    };
  });
}

/** What one tenant's correlations need to know on the evaluating thread. */
interface TenantView {
  rules: TenantRules;
  correlations: CorrelationEngine;
  silenced: Set<CorrelatedRule>;
}

/**
 * Evaluates runs of a tenant's event log on a detection thread: each stored event is parsed and
 * normalised as `vigil hunt` would read it, met by the global rules and the tenant's own, and
 * what fired leaves as plain data.
 */
export class ServiceEvaluator {
  private readonly views = new Map<string, TenantView>();

  constructor(private readonly compiled: CompiledServiceRules) {}

  private view(tenant: string): TenantView {
    let view = this.views.get(tenant);
    if (!view) {
      const rules = this.compiled.tenant(tenant);
      const resolve = referenceResolver(rules);
      view = {
        rules,
        correlations: new CorrelationEngine(runningCorrelations(rules), resolve),
        // Of every correlation, those turned off too: the rules only they read stay quiet.
        silenced: silencedRules(rules.correlations, resolve),
      };
      this.views.set(tenant, view);
    }
    return view;
  }

  evaluate(task: BatchTask): EvaluatedBatch {
    const started = performance.now();
    const records = unpackBatch(task);
    const position = (record: Unpacked | undefined) =>
      record === undefined ? 0 : 'unreadable' in record ? record.unreadable : record.seq;
    const result: EvaluatedBatch = {
      tenant: task.tenant,
      first: position(records[0]),
      last: position(records.at(-1)),
      events: 0,
      detections: [],
      correlationInputs: [],
      untimed: 0,
      errors: [],
      threadMs: 0,
    };
    const view = this.view(task.tenant);
    const local = this.compiled.localEngine(task.tenant);
    const iocs = this.compiled.iocMatcher(task.tenant);
    for (const record of records) {
      if ('unreadable' in record) {
        result.errors.push({
          code: 'EVENT_FAILED',
          message: 'a line of the event log is not a record',
          location: { file: task.tenant, record: record.unreadable },
        });
        continue;
      }
      const problem = (message: string) =>
        result.errors.push({
          code: 'EVENT_FAILED',
          message,
          location: { file: `${task.tenant}:${record.source}`, record: record.seq },
        });
      let event: LogEvent;
      try {
        const parsed = JSON.parse(record.event) as Record<string, FieldValue>;
        const read = toLogEvent(parsed, record.source, record.seq);
        // The time stored beside the event is its reader's (a syslog message's), which knew its format.
        event = { ...read, source: { ...read.source, seq: record.seq }, time: record.time ?? read.time };
      } catch (error) {
        problem(`stored event cannot be read: ${(error as Error).message}`);
        continue;
      }
      result.events++;
      let matches: RuleMatch[];
      try {
        matches = this.compiled.global.evaluate(event);
        if (view.rules.replaced.size)
          matches = matches.filter((match) => !view.rules.replaced.has(match.rule));
        if (local) matches.push(...local.evaluate(event));
      } catch (error) {
        problem(`event could not be evaluated: ${(error as Error).message}`);
        continue;
      }
      for (const match of matches) {
        if (view.correlations.consumes(match.rule)) {
          if (event.time === undefined) result.untimed++;
          else
            result.correlationInputs.push({
              rule: ruleRef(match.rule),
              event: slim(event, view.correlations.fieldsFor(match.rule), match.fieldmap),
              time: event.time,
            });
        }
        if (view.silenced.has(match.rule)) continue;
        result.detections.push({
          seq: record.seq,
          received: record.received,
          detection: detectionFromMatch(match),
          event: record.event,
        });
      }
      if (iocs) {
        for (const hit of iocs.match(event)) {
          result.detections.push({
            seq: record.seq,
            received: record.received,
            detection: detectionFromIoc(hit, event),
            event: record.event,
          });
        }
      }
    }
    result.threadMs = performance.now() - started;
    return result;
  }
}
