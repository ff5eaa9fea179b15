import { readFileSync } from 'node:fs';
import { eventHost, type FieldValue } from '../core/index.js';
import { parseJsonRecord } from '../logs/index.js';
import type { RuleMeta } from '../sigma/index.js';
import type { EventLog } from './event-log.js';

/** A rule's YAML beyond this is cut: a page shows the rule, not a megabyte someone pasted into it. */
const RULE_SOURCE_MAX = 256 * 1024;

/**
 * The YAML document a rule was read from, as written (its own document of a multi-document
 * file); undefined when the file is gone or unreadable.
 */
export function ruleSource(rule: Pick<RuleMeta, 'origin'>): string | undefined {
  let text: string;
  try {
    text = readFileSync(rule.origin.file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/).slice(Math.max(0, rule.origin.line - 1));
  if (lines[0] === '---') lines.shift();
  const end = lines.indexOf('---');
  const document = (end === -1 ? lines : lines.slice(0, end)).join('\n').trimEnd();
  return document.length > RULE_SOURCE_MAX ? `${document.slice(0, RULE_SOURCE_MAX)}\n…` : document;
}

/** One event of a host's timeline, as the event log keeps it. */
export interface TimelineEvent {
  seq: number;
  /** The event's own time (ms), when it has one. */
  time?: number;
  received: number;
  source: string;
  fields: Readonly<Record<string, FieldValue>>;
}

/**
 * The events of a host around a position of a tenant's event log: up to `span` positions on
 * each side are read and those of the same host (without case) kept. Events that retention
 * removed are simply not there.
 */
export async function hostTimeline(
  events: EventLog,
  tenant: string,
  host: string,
  seq: number,
  span = 200,
): Promise<TimelineEvent[]> {
  const from = Math.max(events.tail(tenant), seq - span, 1);
  const to = Math.min(events.head(tenant), seq + span);
  if (to < from) return [];
  const records = await events.read(tenant, from, to - from + 1);
  const wanted = host.toLowerCase();
  const timeline: TimelineEvent[] = [];
  for (const record of records) {
    const event = parseJsonRecord(
      { text: record.event, line: 1, number: record.seq, time: record.time },
      `event log of ${tenant}`,
    );
    if (!event || eventHost(event)?.toLowerCase() !== wanted) continue;
    timeline.push({
      seq: record.seq,
      time: event.time,
      received: record.received,
      source: record.source,
      fields: event.fields,
    });
  }
  return timeline;
}
