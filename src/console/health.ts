import { statSync } from 'node:fs';
import type { DetectionService } from '../service/index.js';
import { dataPaths } from '../service/index.js';

/** How often the figures are taken, and how many are kept (an hour). */
export const SAMPLE_EVERY_MS = 10_000;
const SAMPLES_KEPT = 360;

/** The service's figures at one moment: events accepted so far per tenant and input, and each tenant's lag. */
interface Sample {
  time: number;
  /** `tenant\0source` -> events accepted since start. */
  accepted: Map<string, number>;
  /** Tenant -> events accepted and not yet processed. */
  lag: Map<string, number>;
}

export interface Series {
  tenant: string;
  label: string;
  /** [time (ms), value] from oldest to newest. */
  points: [number, number][];
  total?: number;
}

export interface HealthFigures {
  /** Events per second per tenant and input. */
  rates: Series[];
  /** Events waiting for detection, per tenant. */
  lag: Series[];
  /** Bytes of each tenant's event log. */
  storage: { tenant: string; bytes: number }[];
  /** The database file (service-wide principals only). */
  databaseBytes?: number;
  ruleErrors: { scope: string; count: number }[];
  /** Stored events detection could not read, since start (service-wide principals only: it counts every tenant's). */
  eventErrors?: number;
  detections: number;
  sampledEveryMs: number;
}

/**
 * The figures of the health screen, taken every ten seconds while the service runs (kept an hour,
 * in memory), plus one taken when a page asks, so a page always shows the latest.
 */
export class HealthSampler {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly service: DetectionService) {
    void this.take().then((s) => this.keep(s));
    this.timer = setInterval(() => void this.take().then((s) => this.keep(s)), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private keep(sample: Sample): void {
    this.samples.push(sample);
    if (this.samples.length > SAMPLES_KEPT) this.samples.shift();
  }

  private async take(): Promise<Sample> {
    const lag = new Map<string, number>();
    for (const tenant of this.service.events.tenants()) {
      const head = this.service.events.head(tenant);
      lag.set(tenant, Math.max(0, head - (await this.service.store.position(tenant))));
    }
    return { time: Date.now(), accepted: new Map(this.service.accepted), lag };
  }

  /** The figures a principal of `scope` may see (null: every tenant). */
  async figures(scope: string | null): Promise<HealthFigures> {
    // The page's own sample, unless the last one is too recent to give a rate (a second at least).
    const last = this.samples.at(-1);
    const samples =
      last && Date.now() - last.time < 1000 ? [...this.samples] : [...this.samples, await this.take()];
    const mine = (tenant: string) => scope === null || tenant === scope;
    const keys = new Set(samples.flatMap((s) => [...s.accepted.keys()]));
    const rates: Series[] = [];
    for (const key of [...keys].sort()) {
      const [tenant, source] = key.split('\0') as [string, string];
      if (!mine(tenant)) continue;
      const points: [number, number][] = [];
      for (let i = 1; i < samples.length; i++) {
        const before = samples[i - 1]!;
        const now = samples[i]!;
        const seconds = (now.time - before.time) / 1000;
        if (seconds <= 0) continue;
        const added = (now.accepted.get(key) ?? 0) - (before.accepted.get(key) ?? 0);
        points.push([now.time, Math.max(0, added) / seconds]);
      }
      rates.push({ tenant, label: source, points, total: samples.at(-1)!.accepted.get(key) ?? 0 });
    }
    const tenants = [...new Set(samples.flatMap((s) => [...s.lag.keys()]))].filter(mine).sort();
    const lag = tenants.map((tenant) => ({
      tenant,
      label: 'waiting',
      points: samples.map((s): [number, number] => [s.time, s.lag.get(tenant) ?? 0]),
    }));
    const status = this.service.rulesStatus();
    const ruleErrors = [
      { scope: 'global rules', count: status.global.errors.length },
      ...[...status.tenants]
        .filter(([tenant]) => mine(tenant))
        .map(([tenant, t]) => ({ scope: `rules of ${tenant}`, count: t.errors.length })),
    ];
    let databaseBytes: number | undefined;
    if (scope === null) {
      const database = dataPaths(this.service.options.dataDir).database;
      databaseBytes = [database, `${database}-wal`].reduce((sum, file) => {
        try {
          return sum + statSync(file).size;
        } catch {
          return sum;
        }
      }, 0);
    }
    const stats = await this.service.store.stats(scope);
    return {
      rates,
      lag,
      storage: tenants.map((tenant) => ({ tenant, bytes: this.service.events.size(tenant) })),
      databaseBytes,
      ruleErrors,
      eventErrors: scope === null ? this.service.counters.eventErrors : undefined,
      detections: stats.detections,
      sampledEveryMs: SAMPLE_EVERY_MS,
    };
  }
}
