import ipaddr from 'ipaddr.js';
import { getDomain } from 'tldts';
import type { ExtractedIndicator, IndicatorType } from './indicators.js';
import { ASIDE_TEXT, type AsideLabel } from './sections.js';
import { urlHost, type WarningHit, type WarningListIndex } from './warninglists.js';

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

/**
 * How sure Vigil is of a verdict. For an actionable value: how much a hit on it says about the
 * actors (high: the advisory names it and nothing says it is anyone else's; medium: shared or
 * ageing; low: a service or scanner that many others use). For a value set aside: how sure it is
 * not worth acting on.
 */
export type Confidence = 'high' | 'medium' | 'low';

export interface Verdict {
  actionable: boolean;
  confidence: Confidence;
  reason: string;
  /** MISP decay-model score (0-100) when the indicators' date is known. */
  score?: number;
}

export interface VerdictContext {
  warningLists?: WarningListIndex;
  /** When the advisory says its indicators were seen (its publication date when it says no more). */
  observed?: Date;
  now?: Date;
  /**
   * Registrable domains of the advisory's publisher and of the mailboxes it asks reports to: its
   * own addresses, never the actors'.
   */
  publisherDomains?: ReadonlySet<string>;
  /** Where the advisory names the value only in an aside (references, how to report, marketing). */
  aside?: AsideLabel;
}

const HOST_TYPES = new Set<IndicatorType>(['domain', 'url', 'email']);

export function judgeIndicator(indicator: ExtractedIndicator, context: VerdictContext): Verdict {
  const { type, value } = indicator;
  if (type === 'ipv4' || type === 'ipv6') {
    const range = addressRange(value);
    if (range && range !== 'unicast') {
      return {
        actionable: false,
        confidence: 'high',
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
    return {
      actionable: false,
      confidence: 'high',
      reason: `${host} is reserved for documentation and tests`,
    };
  if (host && (ipaddr.isValid(host) ? addressRange(host) !== 'unicast' : false)) {
    return { actionable: false, confidence: 'high', reason: `${host} is not a public address` };
  }
  const publisher = host ? registrableDomain(host) : undefined;
  if (publisher && context.publisherDomains?.has(publisher)) {
    return {
      actionable: false,
      confidence: 'high',
      reason: `the advisory's own publisher or reporting address (${publisher}), not the actors'`,
    };
  }
  if (context.aside && HOST_TYPES.has(type)) {
    return {
      actionable: false,
      confidence: 'medium',
      reason: `named only in the advisory's ${ASIDE_TEXT[context.aside]}, not in its account of the intrusion`,
    };
  }
  const hit = context.warningLists?.match(type, value);
  if (hit && hit.kind !== 'shared' && hit.kind !== 'scanner') {
    return {
      actionable: false,
      // A top site may still be one the actors used (an exfiltration service): the analyst can tell.
      confidence: hit.kind === 'popular' ? 'medium' : 'high',
      reason: `${SET_ASIDE_BY[hit.kind]}: on the MISP warning list "${hit.list}" (${hit.entry})`,
    };
  }
  // Shared or rented infrastructure stays actionable when an advisory names it: attackers rent
  // VPN and cloud addresses and live off trusted sites. The list lowers the confidence and says why.
  const shared = hit ? sharedNote(type, value, hit) : undefined;
  const model = DECAY_MODELS[type];
  if (context.observed && model) {
    const now = context.now ?? new Date();
    const ageDays = Math.max(0, (now.getTime() - context.observed.getTime()) / 86_400_000);
    const score = Math.round(decayScore(ageDays, model) * 10) / 10;
    const age = ageDays >= 365 ? `${(ageDays / 365).toFixed(1)} years` : `${Math.round(ageDays)} days`;
    if (score < DECAY_THRESHOLD) {
      return {
        actionable: false,
        confidence: 'medium',
        score,
        reason: `stale: reported ${context.observed.toISOString().slice(0, 10)}, ${age} ago; decay score ${score} below ${DECAY_THRESHOLD} (${type} lifetime ${model.lifetimeDays} days)${shared ? `; ${shared.note}` : ''}`,
      };
    }
    return {
      actionable: true,
      confidence: lower(score >= FRESH_SCORE ? 'high' : 'medium', shared?.confidence),
      score,
      reason: `reported ${age} ago; decay score ${score}; ${shared?.note ?? 'on no warning list'}`,
    };
  }
  return {
    actionable: true,
    confidence: shared?.confidence ?? 'high',
    reason: shared ? shared.note : 'on no warning list; public value',
  };
}

const SET_ASIDE_BY: Record<'special' | 'benign' | 'popular', string> = {
  special: 'identifies nobody',
  benign: 'known good',
  popular: 'among the most visited sites, too common to point at the actors',
};

/** Above this decay score an indicator is fresh; between it and the threshold, ageing. */
const FRESH_SCORE = 50;

const CONFIDENCE_ORDER: Confidence[] = ['low', 'medium', 'high'];

function lower(a: Confidence, b: Confidence | undefined): Confidence {
  return b === undefined
    ? a
    : CONFIDENCE_ORDER[Math.min(CONFIDENCE_ORDER.indexOf(a), CONFIDENCE_ORDER.indexOf(b))]!;
}

/**
 * What a list of shared infrastructure means for a value the advisory names. A scanner's address
 * is mostly its scanning (low); a service itself ("mega.nz") is used by many (low); an address in
 * rented ranges, or a name or a page under a shared service ("evil.duckdns.org",
 * "https://raw.githubusercontent.com/actor/tool"), is likelier the actors' own (medium).
 */
function sharedNote(
  type: IndicatorType,
  value: string,
  hit: WarningHit,
): { confidence: Confidence; note: string } {
  const list = `MISP warning list "${hit.list}" (${hit.entry})`;
  if (hit.kind === 'scanner') {
    return {
      confidence: 'low',
      note: `an internet scanner's address, kept as the advisory names it, but a hit is likely its scanning (${list})`,
    };
  }
  const host = type === 'domain' ? value : type === 'url' ? urlHost(value) : undefined;
  const service =
    host !== undefined &&
    host.replace(/^www\./, '') === hit.entry.replace(/^\.+/, '') &&
    !(type === 'url' && /^[a-z]+:\/\/[^/]+\/[^/?#]/i.test(value));
  return {
    confidence: service ? 'low' : 'medium',
    note: `shared or rented infrastructure, kept as the advisory names it, but ${service ? 'a hit may be anyone using this service' : 'it may serve others too'} (${list})`,
  };
}

/** The name under a public suffix that a host belongs to ("www.cisa.gov" -> "cisa.gov"). */
export function registrableDomain(host: string): string | undefined {
  if (ipaddr.isValid(host)) return undefined;
  return getDomain(host) ?? undefined;
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
