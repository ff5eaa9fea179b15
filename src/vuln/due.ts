import type { KevEntry } from '../content/index.js';
import { dayOf } from './times.js';

/** Where a due date comes from: KEV's due date, the BOD 26-04 timeline, or the team's `--sla` days. */
export type DueSource = 'kev' | 'bod' | 'sla';

export interface DueDate {
  due: string | null;
  source: DueSource | null;
  reasons: string[];
}

export interface DueInput {
  /** The BOD 26-04 timeline decided for the finding (key `3D`, name `3 days` …). */
  timeline: { key: string; name: string };
  firstSeen: string;
  kev?: KevEntry;
  /** Days per timeline key; null: no date. */
  days: Record<string, number | null>;
  /** The team's `--sla` replaced the directive's days for this timeline. */
  overridden: boolean;
}

/**
 * The day a finding is due. The timeline's clock starts the day the team first saw the finding,
 * or, for a CVE that entered KEV later, the day it entered KEV. KEV's own due date is taken when
 * it is stricter, but only when it falls on or after both the day the finding was first seen and
 * the day the CVE entered KEV: a deadline that passed before anyone could act on it would make
 * every new finding of an old KEV entry overdue on the day it is found.
 */
export function dueDate(input: DueInput): DueDate {
  const reasons: string[] = [];
  const firstSeen = dayOf(input.firstSeen);
  const added = input.kev?.dateAdded;
  const start = added && added > firstSeen ? added : firstSeen;
  const startText =
    start === firstSeen
      ? `first seen ${firstSeen}`
      : `${start}, the day it entered KEV (first seen ${firstSeen})`;
  const days = input.days[input.timeline.key];
  const timelineDue = days === null || days === undefined ? null : addDays(start, days);
  let due = timelineDue;
  let source: DueSource | null = timelineDue === null ? null : input.overridden ? 'sla' : 'bod';
  const kevDue = input.kev?.dueDate;
  if (kevDue) {
    if (kevDue < firstSeen) {
      reasons.push(
        `KEV due date ${kevDue} not used: it had passed when the finding was first seen (${firstSeen})`,
      );
    } else if (added && kevDue < added) {
      reasons.push(`KEV due date ${kevDue} not used: it is before the CVE entered KEV (${added})`);
    } else if (timelineDue === null || kevDue < timelineDue) {
      due = kevDue;
      source = 'kev';
    }
  }
  const timelineText = `${input.overridden ? 'the team SLA (--sla)' : 'BOD 26-04'} "${input.timeline.name.toLowerCase()}" (${days} days) from ${startText}`;
  if (source === 'kev') {
    reasons.push(
      `due ${due} from KEV: its due date, in KEV since ${added}${timelineDue ? `, is stricter than ${timelineText}` : ''}`,
    );
  } else if (due) reasons.push(`due ${due} from ${timelineText}`);
  else reasons.push(`no due date: ${input.timeline.name.toLowerCase()}${input.overridden ? ' (--sla)' : ''}`);
  return { due, source, reasons };
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
