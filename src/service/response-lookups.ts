import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../core/index.js';
import {
  type FieldRole,
  IndicatorIndex,
  type IndicatorTable,
  IocMatcher,
  indicatorLevel,
} from '../detect/index.js';
import { type IocType, inferIocType } from '../intel/index.js';
import type { Enricher, Facts, LookupName, LookupRequest } from '../respond/index.js';
import { AssetIndex, type PrioritizeOptions, prioritizeStored, VulnStore } from '../vuln/index.js';
import type { IndicatorSets } from './indicators.js';
import type { ServiceStore } from './store.js';

/** Where a tenant's vulnerability database lives in the data folder: `vulns/TENANT.db`. */
export function tenantVulnDb(dataDir: string, tenant: string): string {
  return join(dataDir, 'vulns', `${tenant}.db`);
}

/**
 * A match's confidence from which an indicator is worth acting on (a block, say): a `medium` or
 * `high` match. Below it are the values the warning lists call nobody's, known good, among the most
 * visited sites or an internet scanner's, and those decayed with age.
 */
export const ACTIONABLE_CONFIDENCE = 40;

/** How many of a host's other alerts are counted (the newest). */
const ALERTS_COUNTED = 1000;
/** How many CVEs a lookup lists (the most urgent first). */
const CVES_LISTED = 50;

export interface LookupSources {
  store: ServiceStore;
  dataDir: string;
  /** The indicators matched now (every tenant's, and each tenant's own). */
  indicators: () => Promise<IndicatorSets>;
  /** SSVC tables, KEV and EPSS from the content folder, for deciding findings; throws when absent. */
  vulnDecisions: () => PrioritizeOptions;
}

const ROLES_BY_TYPE: Record<IocType, FieldRole[]> = {
  ipv4: ['address'],
  ipv6: ['address'],
  domain: ['host', 'file'],
  url: ['url'],
  email: ['email', 'account'],
  md5: ['hash'],
  sha1: ['hash'],
  sha256: ['hash'],
  sha512: ['hash'],
  account: ['account'],
  filename: ['file'],
};

/**
 * The service's answers to enrich steps, from what it keeps per tenant: the asset inventory and
 * scans of `vulns/TENANT.db` (the console's and `vigil vulns import --db`'s), the alert store, and
 * the indicators it matches. A lookup only ever reads the alert's own tenant (and, for indicators,
 * those given for every tenant).
 */
export class ServiceEnricher implements Enricher {
  private decisions: PrioritizeOptions | undefined;
  private readonly indexes = new WeakMap<IndicatorTable, IndicatorIndex>();

  constructor(private readonly sources: LookupSources) {}

  async lookup(name: LookupName, request: LookupRequest): Promise<Facts> {
    const { tenant, params } = request;
    switch (name) {
      case 'asset':
        return this.asset(tenant, params.host!);
      case 'vulnerabilities':
        return this.vulnerabilities(tenant, params.host!);
      case 'alerts':
        return this.alerts(tenant, params.host!, Number(request.alertId));
      case 'indicator':
        return this.indicator(tenant, params.value!);
    }
  }

  /** The tenant's vulnerability database, when it has one (none is made by asking). */
  private withVulnStore<T>(tenant: string, read: (store: VulnStore) => T): T | undefined {
    const path = tenantVulnDb(this.sources.dataDir, tenant);
    if (!existsSync(path)) return undefined;
    const store = VulnStore.open(path);
    try {
      return read(store);
    } finally {
      store.close();
    }
  }

  private asset(tenant: string, host: string): Facts {
    const match = this.withVulnStore(tenant, (store) => new AssetIndex(store.assets()).find(host));
    if (match?.ambiguous)
      throw new VigilError(
        'LOOKUP_AMBIGUOUS',
        `several assets of the inventory answer to ${host}: ${match.ambiguous.map((a) => a.hostname).join(', ')}`,
      );
    const asset = match?.asset;
    return {
      found: asset !== undefined,
      criticality: asset?.criticality ?? 'unknown',
      public_facing: asset?.publicFacing ?? false,
      owner: asset?.owner ?? '',
      tags: asset?.tags ?? [],
      addresses: asset?.addresses ?? [],
    };
  }

  private vulnerabilities(tenant: string, host: string): Facts {
    const facts = this.withVulnStore(tenant, (store) => {
      const assets = new AssetIndex(store.assets());
      const isHost = sameHost(host, assets);
      // Open findings of a host no scan looked at would be a guess: zero is said only of a scanned host.
      const scanned = [...store.assetScans().keys()].some(isHost);
      if (!scanned) return undefined;
      const decide = this.vulnDecisionsNow();
      const mine = prioritizeStored(store, decide, { assets }).filter(
        (f) => f.status === 'open' && !f.accepted && isHost(f.asset),
      );
      const kev = mine.filter((f) => f.kev);
      const cves = (list: typeof mine) => [...new Set(list.map((f) => f.cve))].slice(0, CVES_LISTED);
      return {
        open: mine.length,
        kev: kev.length,
        act: mine.filter((f) => f.decision === 'act').length,
        overdue: mine.filter((f) => f.overdue).length,
        max_cvss: Math.max(0, ...mine.map((f) => f.cvss ?? 0)),
        max_epss: Math.max(0, ...mine.map((f) => f.epss ?? 0)),
        cves: cves(mine),
        kev_cves: cves(kev),
      } satisfies Facts;
    });
    if (!facts)
      throw new VigilError(
        'LOOKUP_UNKNOWN',
        `no scan of ${host} is in tenant ${tenant}'s vulnerability database: its vulnerabilities are not known`,
      );
    return facts;
  }

  private vulnDecisionsNow(): PrioritizeOptions {
    this.decisions ??= this.sources.vulnDecisions();
    return { ...this.decisions, today: new Date().toISOString().slice(0, 10) };
  }

  private async alerts(tenant: string, host: string, alertId: number): Promise<Facts> {
    const page = await this.sources.store.alerts({ tenant, host, limit: ALERTS_COUNTED });
    const others = page.items.filter((a) => a.id !== alertId);
    return {
      count: others.length,
      open: others.filter((a) => a.status !== 'closed').length,
      high: others.filter((a) => a.rule.level === 'high' || a.rule.level === 'critical').length,
      rules: [...new Set(others.map((a) => a.rule.title))],
      techniques: [...new Set(others.flatMap((a) => a.techniques))].sort(),
    };
  }

  private async indicator(tenant: string, value: string): Promise<Facts> {
    const sets = await this.sources.indicators();
    const tables = [sets.global, sets.tenants[tenant]].filter((t): t is IndicatorTable => t !== undefined);
    const matcher = new IocMatcher(tables.map((table) => this.indexOf(table)));
    const type = inferIocType(value);
    const roles = type ? ROLES_BY_TYPE[type] : (['account', 'file'] as FieldRole[]);
    const hits = roles.flatMap((role) => matcher.matchValue(role, value.trim()));
    const best = hits.sort((a, b) => b.indicator.confidence - a.indicator.confidence)[0]?.indicator;
    if (!best)
      return {
        known: false,
        type: type ?? 'unknown',
        confidence: 0,
        level: 'none',
        actionable: false,
        source: '',
      };
    return {
      known: true,
      type: best.type,
      confidence: best.confidence,
      level: indicatorLevel(best.confidence),
      actionable: best.confidence >= ACTIONABLE_CONFIDENCE,
      source: best.source,
    };
  }

  /** An index per table, built once: the tables change only when the indicators are reloaded. */
  private indexOf(table: IndicatorTable): IndicatorIndex {
    let index = this.indexes.get(table);
    if (!index) {
      index = new IndicatorIndex(table);
      this.indexes.set(table, index);
    }
    return index;
  }
}

/**
 * Whether a scanner's asset name is the alert's host: the same name without case, one the short
 * name of the other (`dc1` and `dc1.corp.example`), or both the same asset of the inventory.
 */
function sameHost(host: string, assets: AssetIndex): (name: string) => boolean {
  const lower = host.toLowerCase().replace(/\.$/, '');
  const short = (name: string) => (name.includes('.') && !/^[\d.]+$/.test(name) ? name.split('.')[0]! : name);
  const target = assets.find(host).asset;
  return (name) => {
    const other = name.toLowerCase().replace(/\.$/, '');
    if (other === lower) return true;
    if ((!other.includes('.') || !lower.includes('.')) && short(other) === short(lower)) return true;
    return target !== undefined && assets.find(name).asset === target;
  };
}
