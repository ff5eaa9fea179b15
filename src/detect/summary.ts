import type { Level } from '../sigma/index.js';
import { type Detection, LEVEL_ORDER } from './detection.js';

export interface Count {
  key: string;
  count: number;
}

export interface RuleCount {
  id?: string;
  title: string;
  level: Level;
  count: number;
}

export interface HuntSummary {
  files: number;
  /** Files not one event could be read from (empty, not a log, every record damaged). */
  unreadFiles: string[];
  /** Events read, those the event scope left out included. */
  events: number;
  /** Events outside the time window or hosts asked, left out before detection. */
  outOfScope: number;
  bytes: number;
  durationMs: number;
  /** Records or files that could not be read. */
  readErrors: number;
  detections: number;
  byLevel: Record<Level, number>;
  byRule: RuleCount[];
  byHost: Count[];
  byTactic: Count[];
  firstTime?: string;
  lastTime?: string;
  /**
   * Events evaluated, by the source the pipelines recognized (`zeek/dns`, `aws/cloudtrail`; the
   * key '' counts events that no pipeline recognized, so only rules of no product saw them).
   */
  bySource: Count[];
  /** Matches of rules that feed correlations but carry no time, so could not be correlated. */
  untimedCorrelationInputs: number;
  /**
   * Matches velocity and rare_value correlations could not place or value (no geolocation
   * database, an address it does not know, a missing field), by correlation title.
   */
  unplacedCorrelationInputs: Count[];
  /** Whether a geolocation database placed addresses. */
  geolocation: boolean;
}

/** Counts detections as they come, for the end-of-run summary. */
export class SummaryBuilder {
  private readonly levels = Object.fromEntries(LEVEL_ORDER.map((l) => [l, 0])) as Record<Level, number>;
  private readonly rules = new Map<string, RuleCount>();
  private readonly hosts = new Map<string, number>();
  private readonly tactics = new Map<string, number>();
  private total = 0;
  private first: number | undefined;
  private last: number | undefined;

  add(detection: Detection): void {
    this.total++;
    this.levels[detection.rule.level]++;
    const key = detection.rule.id ?? `${detection.rule.file}#${detection.rule.title}`;
    const rule = this.rules.get(key);
    if (rule) rule.count++;
    else
      this.rules.set(key, {
        id: detection.rule.id,
        title: detection.rule.title,
        level: detection.rule.level,
        count: 1,
      });
    const host = detection.host ?? '(unknown)';
    this.hosts.set(host, (this.hosts.get(host) ?? 0) + 1);
    for (const tactic of new Set(detection.tactics))
      this.tactics.set(tactic, (this.tactics.get(tactic) ?? 0) + 1);
    const t = detection.timeMs;
    if (t !== undefined) {
      if (this.first === undefined || t < this.first) this.first = t;
      if (this.last === undefined || t > this.last) this.last = t;
    }
  }

  build(
    run: Omit<
      HuntSummary,
      'detections' | 'byLevel' | 'byRule' | 'byHost' | 'byTactic' | 'firstTime' | 'lastTime'
    >,
  ): HuntSummary {
    const sorted = (map: Map<string, number>) =>
      [...map]
        .map(([key, count]) => ({ key, count }))
        .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
    return {
      ...run,
      detections: this.total,
      byLevel: { ...this.levels },
      byRule: [...this.rules.values()].sort(
        (a, b) =>
          b.count - a.count ||
          LEVEL_ORDER.indexOf(b.level) - LEVEL_ORDER.indexOf(a.level) ||
          a.title.localeCompare(b.title),
      ),
      byHost: sorted(this.hosts),
      byTactic: sorted(this.tactics),
      firstTime: this.first === undefined ? undefined : new Date(this.first).toISOString(),
      lastTime: this.last === undefined ? undefined : new Date(this.last).toISOString(),
    };
  }
}
