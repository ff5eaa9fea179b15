import ipaddr from 'ipaddr.js';
import type { ExtractedIndicator, IndicatorType } from './indicators.js';
import { urlHost, type WarningListIndex } from './warninglists.js';

export interface Verdict {
  actionable: boolean;
  reason: string;
  /** MISP decay-model score (0-100) when the indicators' date is known. */
  score?: number;
}

/**
 * The MISP decay model (polynomial): score(t) = base × (1 − (t/τ)^(1/δ)) for t < τ, else 0,
 * where τ is the indicator's lifetime and δ its decay speed. An indicator whose score falls below
 * the threshold is stale. Vigil's defaults per type follow how fast each kind of indicator is
 * reused by others: addresses change hands within months, domains within a year or two, file
 * hashes and artefact names stay meaningful for years.
 */
export interface DecayModel {
  lifetimeDays: number;
  decaySpeed: number;
}

export const DECAY_MODELS: Record<IndicatorType, DecayModel | undefined> = {
  ipv4: { lifetimeDays: 180, decaySpeed: 1.5 },
  ipv6: { lifetimeDays: 180, decaySpeed: 1.5 },
  domain: { lifetimeDays: 365, decaySpeed: 1 },
  url: { lifetimeDays: 365, decaySpeed: 1 },
  email: { lifetimeDays: 365, decaySpeed: 1 },
  md5: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  sha1: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  sha256: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  sha512: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  filename: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  path: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  registry: { lifetimeDays: 3 * 365, decaySpeed: 0.5 },
  // A vulnerability does not go stale: it stays exploitable until patched.
  cve: undefined,
};

export const DECAY_BASE_SCORE = 100;
export const DECAY_THRESHOLD = 30;

export function decayScore(ageDays: number, model: DecayModel, base = DECAY_BASE_SCORE): number {
  if (ageDays <= 0) return base;
  if (ageDays >= model.lifetimeDays) return 0;
  return base * (1 - (ageDays / model.lifetimeDays) ** (1 / model.decaySpeed));
}

/** Names set aside for documentation and testing (RFC 2606, RFC 6761): never a real indicator. */
const RESERVED_DOMAINS = /(?:^|\.)(?:example\.(?:com|net|org)|test|example|invalid|localhost|local)$/;

export interface VerdictContext {
  warningLists?: WarningListIndex;
  /** When the advisory says its indicators were seen (its publication date when it says no more). */
  observed?: Date;
  now?: Date;
}

export function judgeIndicator(indicator: ExtractedIndicator, context: VerdictContext): Verdict {
  const { type, value } = indicator;
  if (type === 'ipv4' || type === 'ipv6') {
    const range = addressRange(value);
    if (range && range !== 'unicast') {
      return {
        actionable: false,
        reason: `${RANGE_TEXT[range] ?? range} address, not routable on the internet`,
      };
    }
  }
  const host =
    type === 'domain'
      ? value
      : type === 'email'
        ? value.split('@').pop()!
        : type === 'url'
          ? urlHost(value)
          : undefined;
  if (host && RESERVED_DOMAINS.test(host))
    return { actionable: false, reason: `${host} is reserved for documentation and tests` };
  if (host && (ipaddr.isValid(host) ? addressRange(host) !== 'unicast' : false)) {
    return { actionable: false, reason: `${host} is not a public address` };
  }
  const hit = context.warningLists?.match(type, value);
  if (hit) {
    return {
      actionable: false,
      reason: `known good or too common: on the MISP warning list "${hit.list}" (${hit.entry})`,
    };
  }
  const model = DECAY_MODELS[type];
  if (context.observed && model) {
    const now = context.now ?? new Date();
    const ageDays = Math.max(0, (now.getTime() - context.observed.getTime()) / 86_400_000);
    const score = Math.round(decayScore(ageDays, model) * 10) / 10;
    const age = ageDays >= 365 ? `${(ageDays / 365).toFixed(1)} years` : `${Math.round(ageDays)} days`;
    if (score < DECAY_THRESHOLD) {
      return {
        actionable: false,
        score,
        reason: `stale: reported ${context.observed.toISOString().slice(0, 10)}, ${age} ago; decay score ${score} below ${DECAY_THRESHOLD} (${type} lifetime ${model.lifetimeDays} days)`,
      };
    }
    return {
      actionable: true,
      score,
      reason: `reported ${age} ago; decay score ${score}; on no warning list`,
    };
  }
  return { actionable: true, reason: 'on no warning list; public value' };
}

const RANGE_TEXT: Record<string, string> = {
  private: 'private (RFC 1918)',
  loopback: 'loopback',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  reserved: 'reserved',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  uniqueLocal: 'unique local',
  ipv4Mapped: 'IPv4-mapped',
  rfc6145: 'translated',
  rfc6052: 'translated',
  '6to4': '6to4',
  teredo: 'Teredo',
  benchmarking: 'benchmarking',
  amt: 'AMT',
  as112: 'AS112',
  deprecated: 'deprecated',
  orchid2: 'ORCHIDv2',
};

function addressRange(value: string): string | undefined {
  try {
    const address = ipaddr.parse(value.replace(/\/\d+$/, ''));
    if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
      return (address as ipaddr.IPv6).toIPv4Address().range();
    }
    return address.range();
  } catch {
    return undefined;
  }
}
