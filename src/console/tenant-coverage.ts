import {
  type CoverageInputs,
  type CoverageRun,
  computeCoverage,
  loadCoverageInputs,
  type Notice,
} from '../assess/index.js';
import { CollectedLogs, type Inventory } from '../coverage/index.js';
import { toLogEvent } from '../logs/index.js';
import type { DetectionService } from '../service/index.js';

/** The newest stored events read to learn what a tenant collects: enough for every source it sends. */
const EVENTS_SAMPLED = 50_000;
const READ_BATCH = 2000;
/** What a tenant collects can change without a rule reload: looked at again after this long. */
const FRESH_MS = 10 * 60_000;

/** What the tenant's stored events show it collects (Windows channels and event IDs). */
export async function tenantInventory(service: DetectionService, tenant: string): Promise<Inventory> {
  const log = service.events;
  const collected = new CollectedLogs();
  const head = log.head(tenant);
  let from = Math.max(log.tail(tenant), head - EVENTS_SAMPLED + 1);
  let seen = 0;
  while (from <= head) {
    const records = await log.read(tenant, from, READ_BATCH);
    if (records.length === 0) break;
    for (const record of records) {
      try {
        collected.add(toLogEvent(JSON.parse(record.event), record.source, record.seq));
        seen++;
      } catch {
        // An event detection could not read either: it shows nothing collected.
      }
    }
    from = records.at(-1)!.seq + 1;
  }
  return collected.inventory(`the ${seen.toLocaleString('en')} newest stored events of ${tenant}`);
}

export interface TenantCoverage {
  run: CoverageRun;
  notices: Notice[];
  computedAt: number;
}

/**
 * The ATT&CK coverage of each tenant from the rules deployed for it (the global packs, its own
 * folder, less the rules it turned off) and what its stored events show it collects. Computed on
 * first use and kept until the rules reload (or a while passes, for new log sources).
 */
export class CoverageCache {
  private readonly cached = new Map<string, { loadedAt: string; value: Promise<TenantCoverage> }>();

  constructor(
    private readonly service: DetectionService,
    private readonly content: string | undefined,
  ) {}

  get(tenant: string): Promise<TenantCoverage> {
    const loadedAt = this.service.rulesStatus().loadedAt;
    const kept = this.cached.get(tenant);
    if (kept && kept.loadedAt === loadedAt) return kept.value;
    const value = this.compute(tenant);
    this.cached.set(tenant, { loadedAt, value });
    // A failure is not kept: the next visit tries again.
    value.catch(() => this.cached.delete(tenant));
    value.then(
      (done) => {
        const timer = setTimeout(
          () => {
            if (this.cached.get(tenant)?.value === value) this.cached.delete(tenant);
          },
          FRESH_MS - (Date.now() - done.computedAt),
        );
        timer.unref();
      },
      () => undefined,
    );
    return value;
  }

  private async compute(tenant: string): Promise<TenantCoverage> {
    const notices: Notice[] = [];
    const [inputs, inventory] = await Promise.all([
      loadCoverageInputs(
        { rules: [...this.service.deployedSetup(tenant).rules], content: this.content },
        (notice) => notices.push(notice),
      ),
      tenantInventory(this.service, tenant),
    ]);
    const off = new Set((await this.service.store.disabledRules(tenant)).map((d) => d.rule));
    const deployed: CoverageInputs['deployed'] = inputs.deployed.filter(
      (rule) => !off.has(rule.id) && !off.has(`${rule.file}#${rule.title}`),
    );
    return { run: computeCoverage({ ...inputs, deployed }, inventory), notices, computedAt: Date.now() };
  }
}
