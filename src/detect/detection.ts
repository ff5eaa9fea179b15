import { eventHost, type FieldValue, type LogEvent } from '../core/index.js';
import { attackTags, type CorrelationResult, type Level, type RuleMeta } from '../sigma/index.js';
import type { RuleMatch } from './engine.js';

/** What Vigil reports when a rule fires: one event for a detection rule, several for a correlation. */
export interface Detection {
  /** ISO 8601 time of the event (the last event for a correlation), when known. */
  time?: string;
  timeMs?: number;
  rule: {
    id?: string;
    title: string;
    level: Level;
    status?: string;
    /** Kept in every match output: the Detection Rule License requires author attribution. */
    author?: string;
    /** `indicator`: a match of a known indicator (its id is `ioc:<type>`, its file the source). */
    kind: 'detection' | 'correlation' | 'indicator';
    file: string;
  };
  techniques: string[];
  tactics: string[];
  host?: string;
  channel?: string;
  eventId?: FieldValue;
  source: { file: string; record: number };
  /** Fields that made the match and their values. */
  matched: Record<string, FieldValue>;
  /** For an indicator match: the indicator and what is known of it. */
  indicator?: IndicatorContext;
  correlation?: {
    type: string;
    group: Record<string, FieldValue>;
    value: number;
    firstTime?: string;
    events: { file: string; record: number; time?: string }[];
    /** Vigil's baseline correlations: the value in words (where from and to, which hour, how long). */
    detail?: string;
  };
}

export interface IndicatorContext {
  type: string;
  value: string;
  source: string;
  /** 0-100, decayed with age and lowered by warning lists. */
  confidence: number;
  /** The event field it was found in. */
  field: string;
  firstSeen?: string;
  lastSeen?: string;
  /** Days since it was last (or first) seen, when its source dates it. */
  ageDays?: number;
  note?: string;
}

export const LEVEL_ORDER: readonly Level[] = ['informational', 'low', 'medium', 'high', 'critical'];

function ruleInfo(rule: RuleMeta, kind: 'detection' | 'correlation', level: Level) {
  return {
    id: rule.id,
    title: rule.title,
    level,
    status: rule.status,
    author: rule.author,
    kind,
    file: rule.origin.file,
  };
}

const tagCache = new WeakMap<RuleMeta, { techniques: string[]; tactics: string[] }>();

/** A rule's ATT&CK ids and tactics, read from its tags once. */
function attackOf(rule: RuleMeta): { techniques: string[]; tactics: string[] } {
  let found = tagCache.get(rule);
  if (!found) {
    found = attackTags(rule.tags);
    tagCache.set(rule, found);
  }
  return { techniques: [...found.techniques], tactics: [...found.tactics] };
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function eventPlace(event: LogEvent) {
  const channel = event.fields.Channel;
  return {
    host: eventHost(event),
    channel: typeof channel === 'string' ? channel : undefined,
    eventId: event.fields.EventID,
    source: { file: event.source.file, record: event.source.record },
  };
}

export function detectionFromMatch(match: RuleMatch): Detection {
  const { rule, event } = match;
  return {
    time: iso(event.time),
    timeMs: event.time,
    rule: ruleInfo(rule, 'detection', rule.level ?? 'medium'),
    ...attackOf(rule),
    ...eventPlace(event),
    matched: match.matched,
  };
}

/**
 * A correlation's level is its own; without one it takes the highest level among the rules it
 * names (the spec lets correlations raise levels, so never lower them silently).
 */
export function detectionFromCorrelation(result: CorrelationResult, memberLevel: Level): Detection {
  const last = result.events[result.events.length - 1]!;
  const rule = result.rule;
  return {
    time: iso(result.time),
    timeMs: result.time,
    rule: ruleInfo(rule, 'correlation', rule.level ?? memberLevel),
    ...attackOf(rule),
    ...eventPlace(last),
    matched: result.group,
    correlation: {
      type: rule.correlation.type,
      group: result.group,
      value: result.value,
      firstTime: iso(result.firstTime),
      events: result.events.map((e) => ({ file: e.source.file, record: e.source.record, time: iso(e.time) })),
      ...(result.detail ? { detail: result.detail } : {}),
    },
  };
}
