import { DECAY_THRESHOLD, type DecayModel, decayScore } from './actionability.js';
import type { IndicatorType } from './indicators.js';
import type { IocType } from './ioc-values.js';
import type { WarningListIndex, WarningListKind } from './warninglists.js';

/**
 * An indicator as a source gives it, its value already in normal form (normalizeIoc). Times are
 * milliseconds since the epoch; confidence is 0-100 as the source rates it.
 */
export interface IndicatorInput {
  type: IocType;
  value: string;
  /** Where it came from: a file, a feed's event, a TAXII collection, an advisory. */
  source: string;
  firstSeen?: number;
  lastSeen?: number;
  /** Default: DEFAULT_CONFIDENCE. */
  confidence?: number;
  /** An end of validity the source states (STIX `valid_until`); otherwise decay decides. */
  validUntil?: number;
  /** The source judged it already (an advisory's verdict weighs the warning lists): taken as is. */
  judged?: boolean;
  note?: string;
}

/**
 * An indicator ready to match: plain data (it crosses threads). `confidence` is what a match on
 * it is worth now: the source's rating, decayed with age and lowered by the warning lists.
 */
export interface Indicator {
  type: IocType;
  value: string;
  /** Every source that gave it, separated by "; ". */
  source: string;
  firstSeen?: number;
  lastSeen?: number;
  confidence: number;
  /** When it stops being matched, when known. */
  expires?: number;
  /** Why the confidence is lower than the source's (warning list, age), when it is. */
  note?: string;
}

/** What a source gives when it rates nothing. */
export const DEFAULT_CONFIDENCE = 75;

/**
 * How indicators age, per type, in the MISP polynomial model (see actionability.ts): lifetime τ
 * and speed δ. Addresses are re-assigned within months, names and URLs within a year, hashes and
 * file names stay meaningful for years; account names are as stable as the accounts.
 */
export const IOC_DECAY: Record<IocType, DecayModel> = {
  ipv4: { lifetimeDays: 180, decaySpeed: 1.5 },
  ipv6: { lifetimeDays: 180, decaySpeed: 1.5 },
  domain: { lifetimeDays: 365, decaySpeed: 1 },
  url: { lifetimeDays: 365, decaySpeed: 1 },
  email: { lifetimeDays: 365, decaySpeed: 1 },
  account: { lifetimeDays: 365, decaySpeed: 1 },
  md5: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  sha1: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  sha256: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  sha512: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  filename: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
};

/**
 * Where a warning list puts the confidence of a value on it. Nothing on a list is dropped: a
 * source that names a cloud address or a popular site as an actor's may be right, so the match is
 * still reported, at a level an analyst can filter out.
 */
const WARNING_CAPS: Record<WarningListKind, number> = {
  special: 10,
  benign: 20,
  popular: 25,
  scanner: 30,
  shared: 60,
};

const DAY = 86_400_000;

/** Age in days at which a model's score falls under the threshold: `τ · (1 − threshold/100)^δ`. */
export function decayLifetimeDays(model: DecayModel): number {
  return model.lifetimeDays * (1 - DECAY_THRESHOLD / 100) ** model.decaySpeed;
}

export interface StoreOptions {
  /** The time ages are counted to (default: now). */
  now?: number;
  warningLists?: WarningListIndex;
}

export interface StoreCounts {
  /** Distinct indicators kept. */
  kept: number;
  /** Entries that repeated one already kept (same type and value). */
  merged: number;
  /** Indicators past their validity or decayed below the threshold, left out. */
  expired: number;
  /** Indicators lowered by a warning list. */
  warned: number;
}

/**
 * The indicators of every source, one per type and value: a repeat adds its source and widens the
 * seen dates, keeping the higher confidence. `indicators()` judges them at `now`: those expired are
 * left out, the others carry their decayed, warning-checked confidence.
 */
export class IndicatorStore {
  /** The inputs as given, by type and value (kept, not copied: a repeat changes the one kept). */
  private readonly entries = new Map<IocType, Map<string, IndicatorInput>>();
  /** For an indicator given by several sources, all of them in order. */
  private readonly sources = new Map<IndicatorInput, string[]>();
  private count = 0;
  private merged = 0;
  private readonly now: number;

  constructor(private readonly options: StoreOptions = {}) {
    this.now = options.now ?? Date.now();
  }

  get size(): number {
    return this.count;
  }

  add(input: IndicatorInput): void {
    const byValue = this.entries.get(input.type) ?? new Map<string, IndicatorInput>();
    this.entries.set(input.type, byValue);
    const kept = byValue.get(input.value);
    if (!kept) {
      byValue.set(input.value, input);
      this.count++;
      return;
    }
    this.merged++;
    const sources = this.sources.get(kept) ?? [kept.source];
    if (!sources.includes(input.source)) sources.push(input.source);
    this.sources.set(kept, sources);
    kept.firstSeen = earliest(kept.firstSeen, input.firstSeen);
    kept.lastSeen = latest(kept.lastSeen, input.lastSeen);
    kept.validUntil = kept.validUntil === undefined ? undefined : latest(kept.validUntil, input.validUntil);
    if ((input.confidence ?? DEFAULT_CONFIDENCE) > (kept.confidence ?? DEFAULT_CONFIDENCE)) {
      kept.confidence = input.confidence;
      kept.judged = input.judged;
      kept.note = input.note;
    }
  }

  /** The indicators to match now, and what judging them left out or lowered. */
  judge(): { indicators: Indicator[]; counts: StoreCounts } {
    const counts: StoreCounts = { kept: 0, merged: this.merged, expired: 0, warned: 0 };
    const indicators: Indicator[] = [];
    for (const byValue of this.entries.values()) {
      for (const input of byValue.values()) {
        const judged = this.judgeOne(input);
        if (!judged) {
          counts.expired++;
          continue;
        }
        if (judged.warned) counts.warned++;
        const sources = this.sources.get(input);
        if (sources) judged.indicator.source = sources.join('; ');
        indicators.push(judged.indicator);
      }
    }
    counts.kept = indicators.length;
    return { indicators, counts };
  }

  private judgeOne(input: IndicatorInput): { indicator: Indicator; warned: boolean } | undefined {
    const model = IOC_DECAY[input.type];
    const seen = input.lastSeen ?? input.firstSeen;
    const notes: string[] = input.note ? [input.note] : [];
    let confidence = Math.max(0, Math.min(100, input.confidence ?? DEFAULT_CONFIDENCE));
    let expires = input.validUntil;
    if (seen !== undefined) {
      const decayEnd = seen + decayLifetimeDays(model) * DAY;
      expires = expires === undefined ? decayEnd : Math.min(expires, decayEnd);
      const ageDays = (this.now - seen) / DAY;
      const factor = decayScore(ageDays, model) / 100;
      if (factor < 1) {
        confidence *= factor;
        notes.push(`seen ${Math.round(ageDays)} days ago, decayed to ${Math.round(factor * 100)}%`);
      }
    }
    if (expires !== undefined && expires <= this.now) return undefined;
    let warned = false;
    if (!input.judged && this.options.warningLists && input.type !== 'account') {
      const hit = this.options.warningLists.match(input.type as IndicatorType, input.value);
      if (hit) {
        warned = true;
        const cap = WARNING_CAPS[hit.kind];
        if (confidence > cap) confidence = cap;
        notes.push(`on the MISP warning list "${hit.list}" (${hit.entry}): ${hit.kind}`);
      }
    }
    return {
      warned,
      indicator: {
        type: input.type,
        value: input.value,
        source: input.source,
        ...(input.firstSeen === undefined ? {} : { firstSeen: input.firstSeen }),
        ...(input.lastSeen === undefined ? {} : { lastSeen: input.lastSeen }),
        confidence: Math.round(confidence),
        ...(expires === undefined ? {} : { expires }),
        ...(notes.length ? { note: notes.join('; ') } : {}),
      },
    };
  }
}

function earliest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
