import { type Detection, LEVEL_ORDER } from '../detect/index.js';
import type { NewDetection, Suppression } from './store.js';
import { ruleKey, suppresses } from './store-logic.js';

/** An alert still open in the store, as grouping reads it (its span in event times, ms). */
export interface OpenAlert {
  id: number;
  rule_key: string;
  host: string;
  level: string;
  first_seen: number;
  last_seen: number;
}

/** What one batch brings to one alert: an alert of the store that grows, or one to open. */
export interface AlertGrowth {
  /** The alert's id; undefined for an alert this batch opens, until the store writes it. */
  id: number | undefined;
  ruleKey: string;
  host: string;
  /** The detection that opens the alert: its rule and techniques are the alert's. */
  opener: Detection;
  /** Detections the batch adds, and their span. */
  count: number;
  first: number;
  last: number;
  /** The highest level among them (rank in LEVEL_ORDER; -1 before the first). */
  rank: number;
  level: string;
  /** The alert's whole span, for joining the batch's later detections. */
  spanFirst: number;
  spanLast: number;
}

/** Finds the open alert of a rule and host that takes a detection at `time` (within the window). */
export type FindOpenAlert = (
  ruleKey: string,
  host: string,
  time: number,
  windowMs: number,
) => OpenAlert | undefined;

/**
 * Detections of one batch joining alerts: the first of a rule and host asks the store for its open
 * alert (or opens one); those after it join in memory, so each alert is written once per batch
 * instead of once per detection.
 */
export class AlertGrouping {
  private readonly groups = new Map<string, AlertGrowth[]>();
  private readonly all: AlertGrowth[] = [];

  constructor(private readonly findOpen: FindOpenAlert) {}

  join(key: string, detection: Detection, time: number, windowMs: number): AlertGrowth {
    const host = detection.host ?? '';
    const groupKey = `${key}\0${host}`;
    const list = this.groups.get(groupKey) ?? [];
    let growth = list.find((g) => time >= g.spanFirst - windowMs && time <= g.spanLast + windowMs);
    if (!growth) {
      const open = this.findOpen(key, host, time, windowMs);
      growth = {
        id: open?.id,
        ruleKey: key,
        host,
        opener: detection,
        count: 0,
        first: time,
        last: time,
        rank: -1,
        level: open?.level ?? detection.rule.level,
        spanFirst: open?.first_seen ?? time,
        spanLast: open?.last_seen ?? time,
      };
      list.push(growth);
      this.groups.set(groupKey, list);
      this.all.push(growth);
    }
    const rank = LEVEL_ORDER.indexOf(detection.rule.level);
    growth.count++;
    growth.first = Math.min(growth.first, time);
    growth.last = Math.max(growth.last, time);
    growth.spanFirst = Math.min(growth.spanFirst, time);
    growth.spanLast = Math.max(growth.spanLast, time);
    if (rank > growth.rank) {
      growth.rank = rank;
      growth.level = detection.rule.level;
    }
    return growth;
  }

  /** Every alert the batch touched, in the order they were first joined. */
  growths(): AlertGrowth[] {
    return this.all;
  }
}

/**
 * The open alert among candidates read at once (every open alert of the batch's rules and hosts)
 * that takes a detection at `time`: the one seen last, as a query per detection would pick it.
 */
export function openAlertAmong(
  candidates: readonly OpenAlert[],
  key: string,
  host: string,
  time: number,
  windowMs: number,
): OpenAlert | undefined {
  let best: OpenAlert | undefined;
  for (const alert of candidates) {
    if (alert.rule_key !== key || alert.host !== host) continue;
    if (alert.last_seen < time - windowMs || alert.first_seen > time + windowMs) continue;
    if (!best || alert.last_seen > best.last_seen) best = alert;
  }
  return best;
}

/** One new detection of a batch, placed: held back by a suppression, or joining an alert. */
export interface PlacedDetection {
  found: NewDetection;
  ruleKey: string;
  suppression?: Suppression;
  growth?: AlertGrowth;
}

export interface BatchPlan {
  placed: PlacedDetection[];
  /** The alerts to open (id undefined) and to grow. */
  growths: AlertGrowth[];
  /** Detections each suppression held back in this batch, by its id. */
  suppressionHits: Map<number, number>;
}

/**
 * What storing a batch means, before anything is written: the detections not stored before (a
 * replay after a restart, or the same detection twice in one batch, is stored once), which
 * suppression holds each back, and which alert each of the others joins.
 */
export function planBatch(
  detections: readonly NewDetection[],
  stored: ReadonlySet<string>,
  suppressions: readonly Suppression[],
  findOpen: FindOpenAlert,
  now: string,
): BatchPlan {
  const seen = new Set(stored);
  const grouping = new AlertGrouping(findOpen);
  const placed: PlacedDetection[] = [];
  const suppressionHits = new Map<number, number>();
  for (const found of detections) {
    if (seen.has(found.key)) continue;
    seen.add(found.key);
    const { detection } = found;
    const key = ruleKey(detection.rule);
    const suppression = suppressions.find((s) => suppresses(s, detection, found.fields));
    if (suppression) {
      suppression.hits++;
      suppressionHits.set(suppression.id, (suppressionHits.get(suppression.id) ?? 0) + 1);
      placed.push({ found, ruleKey: key, suppression });
    } else {
      const time = detection.timeMs ?? Date.parse(now);
      placed.push({ found, ruleKey: key, growth: grouping.join(key, detection, time, found.alertWindowMs) });
    }
  }
  return { placed, growths: grouping.growths(), suppressionHits };
}
