import { type FactType, type FactValue, showFact } from './condition.js';
import type { InputType } from './model.js';

/** What an enrichment found, by fact name (`kev`, `tags` ...); later steps read it as `STEP.FACT`. */
export type Facts = Record<string, FactValue>;

/**
 * The lookups an `enrich` step can name. Each says what it takes and which facts it gives, with
 * their types, so that `vigil playbooks check` can tell a condition or a template that reads a fact
 * no earlier step provides. Where the facts come from (the tenant's vulnerability database, the
 * indicator store, the alert store) is the service's business.
 */
export interface LookupSpec {
  params: Record<string, { type: InputType; required: boolean }>;
  facts: Record<string, FactType>;
  description: string;
}

export const LOOKUPS = {
  asset: {
    params: { host: { type: 'host', required: true } },
    facts: {
      found: 'boolean',
      criticality: 'text',
      public_facing: 'boolean',
      owner: 'text',
      tags: 'list',
      addresses: 'list',
    },
    description:
      "the host's record in the tenant's asset inventory (criticality low, medium, high or unknown)",
  },
  vulnerabilities: {
    params: { host: { type: 'host', required: true } },
    facts: {
      open: 'number',
      kev: 'number',
      act: 'number',
      overdue: 'number',
      max_cvss: 'number',
      max_epss: 'number',
      cves: 'list',
      kev_cves: 'list',
    },
    description:
      "the host's open vulnerabilities in the tenant's database: how many, how many in CISA KEV, how many SSVC says to act on, how many overdue",
  },
  alerts: {
    params: { host: { type: 'host', required: true } },
    facts: { count: 'number', open: 'number', high: 'number', rules: 'list', techniques: 'list' },
    description:
      "the host's other alerts in the store: how many, how many not closed, how many high or critical, their rules and techniques",
  },
  indicator: {
    params: { value: { type: 'text', required: true } },
    facts: {
      known: 'boolean',
      type: 'text',
      confidence: 'number',
      level: 'text',
      actionable: 'boolean',
      source: 'text',
    },
    description:
      "whether a value (address, domain, URL, hash, e-mail address, account, file name) is a known indicator of the tenant's or every tenant's, and whether it is worth acting on",
  },
} as const satisfies Record<string, LookupSpec>;

export type LookupName = keyof typeof LOOKUPS;

export function isLookup(name: string): name is LookupName {
  return Object.hasOwn(LOOKUPS, name);
}

/** What a lookup is asked: for which alert of which tenant, with its parameters filled in. */
export interface LookupRequest {
  tenant: string;
  alertId: number | string;
  params: Record<string, string>;
}

/** Carries lookups out (the service's stores); a lookup that cannot be made throws. */
export interface Enricher {
  lookup(name: LookupName, request: LookupRequest): Promise<Facts>;
}

/**
 * The facts of a lookup, checked against what it promises: a missing fact or one of another type
 * is the enricher's fault, and is refused rather than handed to a decision.
 */
export function checkFacts(name: LookupName, facts: Facts): Facts {
  const out: Facts = {};
  for (const [fact, type] of Object.entries(LOOKUPS[name].facts)) {
    const value = facts[fact];
    const actual = Array.isArray(value) ? 'list' : typeof value === 'string' ? 'text' : typeof value;
    if (actual !== type) throw new Error(`the ${name} lookup gave no ${type} '${fact}'`);
    out[fact] = value!;
  }
  return out;
}

/** Facts as a line a person reads: `found: yes, criticality: high, tags: [server]`. */
export function describeFacts(facts: Facts): string {
  return Object.entries(facts)
    .map(([name, value]) => `${name}: ${showFact(value)}`)
    .join(', ');
}
