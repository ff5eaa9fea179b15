import { Worker } from 'node:worker_threads';
import { describeError } from '../core/index.js';
import { workerScript } from '../detect/index.js';
import { type DetectionService, dataPaths } from '../service/index.js';
import type { CoverageMessage, CoverageSnapshot, CoverageTask } from './coverage-worker.js';
import type { StoredEvents } from './tenant-inventory.js';

/** What a tenant collects can change without a rule reload: looked at again after this long. */
const FRESH_MS = 10 * 60_000;

/** Where the tenant's stored events are, for a thread that reads what they show it collects. */
export function storedEvents(service: DetectionService, tenant: string): StoredEvents {
  return {
    eventsDir: dataPaths(service.options.dataDir).events,
    tenant,
    setup: service.deployedSetup(tenant),
  };
}

/**
 * The ATT&CK coverage of each tenant from the rules deployed for it (the global packs, its own
 * folder, less the rules it turned off) and what its stored events show it collects. Computed on
 * first use and kept until the rules reload (or a while passes, for new log sources).
 */
export class CoverageCache {
  private readonly cached = new Map<string, { loadedAt: string; value: Promise<CoverageSnapshot> }>();

  constructor(
    private readonly service: DetectionService,
    private readonly content: string | undefined,
  ) {}

  get(tenant: string): Promise<CoverageSnapshot> {
    const loadedAt = this.service.rulesStatus().loadedAt;
    const kept = this.cached.get(tenant);
    if (kept && kept.loadedAt === loadedAt) return kept.value;
    const value = this.compute(tenant);
    this.cached.set(tenant, { loadedAt, value });
    // A failure is not kept: the next visit tries again.
    value.catch(() => {
      if (this.cached.get(tenant)?.value === value) this.cached.delete(tenant);
    });
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

  private async compute(tenant: string): Promise<CoverageSnapshot> {
    const task: CoverageTask = {
      rules: [...this.service.deployedSetup(tenant).rules],
      events: storedEvents(this.service, tenant),
      content: this.content,
      disabled: (await this.service.store.disabledRules(tenant)).map((d) => d.rule),
    };
    const message = await new Promise<CoverageMessage>((resolve) => {
      const worker = new Worker(workerScript(import.meta.url, 'console/coverage-worker.js'), {
        workerData: task,
      });
      const end = (outcome: CoverageMessage) => {
        resolve(outcome);
        void worker.terminate();
      };
      worker.once('message', end);
      worker.once('error', (error) => end({ type: 'failed', message: describeError(error) }));
      worker.once('exit', (code) =>
        end({ type: 'failed', message: `the coverage thread stopped (${code})` }),
      );
    });
    if (message.type === 'failed') throw new Error(message.message);
    return message.snapshot;
  }
}
