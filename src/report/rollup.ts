import { type Detection, LEVEL_ORDER } from '../detect/index.js';

/** The events of one rule on one host: one row of the report's hunt, its events one click away. */
export interface DetectionGroup {
  /** The rule as its first detection named it, at the highest level any of them had. */
  rule: Detection['rule'];
  host: string | null;
  /** Every detection of the rule on the host, not only the events kept. */
  count: number;
  /** The earliest and latest event time among all of them (ISO 8601, as the logs gave it). */
  firstTime?: string;
  lastTime?: string;
  techniques: string[];
  /** The earliest EVENTS_PER_GROUP detections in time order (untimed ones last). */
  events: Detection[];
}

/** Events kept per rule and host: enough to see the pattern; the count and first/last times are complete. */
export const EVENTS_PER_GROUP = 20;

interface Building {
  group: DetectionGroup;
  levelRank: number;
  firstMs: number;
  lastMs: number;
  techniques: Set<string>;
}

/**
 * Rolls detections up by rule and host as they arrive, so a hunt of any size reports one row per
 * rule and host with complete counts and first/last times, while memory holds at most twice
 * EVENTS_PER_GROUP detections per row.
 */
export class DetectionRollup {
  total = 0;
  private readonly building = new Map<string, Building>();

  add(detection: Detection): void {
    this.total++;
    const key = JSON.stringify([
      detection.rule.id ?? `${detection.rule.file}\n${detection.rule.title}`,
      detection.host ?? null,
    ]);
    let entry = this.building.get(key);
    if (!entry) {
      entry = {
        group: { rule: detection.rule, host: detection.host ?? null, count: 0, techniques: [], events: [] },
        levelRank: -1,
        firstMs: Number.POSITIVE_INFINITY,
        lastMs: Number.NEGATIVE_INFINITY,
        techniques: new Set(),
      };
      this.building.set(key, entry);
    }
    const { group } = entry;
    group.count++;
    const rank = LEVEL_ORDER.indexOf(detection.rule.level);
    if (rank > entry.levelRank) {
      entry.levelRank = rank;
      group.rule = { ...group.rule, level: detection.rule.level };
    }
    for (const technique of detection.techniques) entry.techniques.add(technique);
    const ms = detection.timeMs;
    if (ms !== undefined && detection.time !== undefined) {
      if (ms < entry.firstMs) {
        entry.firstMs = ms;
        group.firstTime = detection.time;
      }
      if (ms > entry.lastMs) {
        entry.lastMs = ms;
        group.lastTime = detection.time;
      }
    }
    group.events.push(detection);
    if (group.events.length >= 2 * EVENTS_PER_GROUP) group.events = earliest(group.events);
  }

  /** How many rule and host groups there are, listed or not. */
  get groupCount(): number {
    return this.building.size;
  }

  /** The groups, most severe first, then the earliest first, at most `limit` of them. */
  groups(limit: number): DetectionGroup[] {
    return [...this.building.values()]
      .sort(
        (a, b) => b.levelRank - a.levelRank || byTime(a.firstMs, b.firstMs) || b.group.count - a.group.count,
      )
      .slice(0, limit)
      .map(({ group, techniques }) => ({
        ...group,
        techniques: [...techniques].sort(),
        events: earliest(group.events),
      }));
  }
}

/** Stable: among events of the same time, the one found first stays first. */
function earliest(events: Detection[]): Detection[] {
  return events.sort((a, b) => byTime(a.timeMs, b.timeMs)).slice(0, EVENTS_PER_GROUP);
}

/** Earlier first; an unknown time (undefined, or the infinity of a group with none) after every known one. */
function byTime(a: number | undefined, b: number | undefined): number {
  const known = (ms: number | undefined) => ms !== undefined && Number.isFinite(ms);
  if (!known(a) || !known(b)) return Number(!known(a)) - Number(!known(b));
  return a! - b!;
}
