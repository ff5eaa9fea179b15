import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describeError, VigilError } from '../core/index.js';
import { type EventScope, type IndicatorTable, type SetupOptions, workerScript } from '../detect/index.js';
import { parseRuleText } from '../sigma/index.js';
import type { EventLogPlace } from './open-event-log.js';
import type { RetroHuntMessage, RetroHuntTask } from './retro-hunt-worker.js';
import type { RetroHunt, ServiceStore } from './store.js';

/** Detections a retro-hunt keeps to show (all are counted). */
export const HUNT_DETECTIONS_KEPT = 10_000;

export interface RetroHuntRequest {
  tenant: string;
  /** Rule files' texts to hunt with; none: the tenant's rules as deployed (unless indicators are given). */
  rules?: string[];
  /**
   * Indicators to look for. Given without rules, the hunt is a sweep for them alone (new
   * indicators against the events already stored).
   */
  indicators?: IndicatorTable;
  since?: number;
  until?: number;
  /** Only the newest this many stored events (a console backtest's bound). */
  newest?: number;
}

/** What a hunt ran with, as its record says it. */
function huntLabel(request: RetroHuntRequest): string {
  const rules = request.rules ? `${request.rules.length} given` : request.indicators ? '' : 'current';
  const indicators = request.indicators ? `${request.indicators.count} indicators` : '';
  return [rules, indicators].filter(Boolean).join(' and ');
}

/**
 * Retro-hunts of a service: each on a thread of its own, over a tenant's stored events, with new
 * rules or the deployed ones, apart from live state (their detections are kept with the hunt and
 * join no alert).
 */
export class RetroHunts {
  private readonly running = new Map<number, Worker>();

  constructor(
    private readonly store: ServiceStore,
    private readonly dataDir: string,
    /** The service's event log, which each hunt's thread opens for reading. */
    private readonly events: EventLogPlace,
    /** The setup the tenant's deployed rules load with. */
    private readonly deployed: (tenant: string) => SetupOptions,
    private readonly log: (line: string) => void,
    /** The geolocation database the service places addresses with, for the hunts to do the same. */
    private readonly geoip?: string,
  ) {}

  /** Checks the rules, records the hunt and starts it; answers at once with the hunt as it begins. */
  async start(request: RetroHuntRequest, actor: string): Promise<RetroHunt> {
    for (const [i, text] of (request.rules ?? []).entries()) {
      const { errors } = parseRuleText(text, `rules[${i}]`);
      if (errors.length) throw new VigilError('INVALID_RULE', errors.map((e) => e.describe()).join('; '));
    }
    const hunt = await this.store.startHunt(
      {
        tenant: request.tenant,
        rules: huntLabel(request),
        since: request.since ?? null,
        until: request.until ?? null,
      },
      actor,
    );
    let setup = this.deployed(request.tenant);
    const folder = join(this.dataDir, 'hunts', String(hunt.id));
    if (request.rules) {
      mkdirSync(folder, { recursive: true });
      for (const [i, text] of request.rules.entries()) writeFileSync(join(folder, `rule-${i + 1}.yml`), text);
      setup = { ...setup, rules: [folder] };
    }
    if (request.indicators && !request.rules) setup = { ...setup, rules: [] };
    const scope: EventScope = { from: request.since, to: request.until };
    const task: RetroHuntTask = {
      events: this.events,
      tenant: request.tenant,
      setup,
      scope,
      ...(request.indicators ? { indicators: request.indicators } : {}),
      newest: request.newest,
      ...(this.geoip ? { geoip: this.geoip } : {}),
      // The deployed rules as the tenant's live detection runs them: without those it turned off.
      skipRules: request.rules ? [] : (await this.store.disabledRules(request.tenant)).map((d) => d.rule),
    };
    const worker = new Worker(workerScript(import.meta.url, 'service/retro-hunt-worker.js'), {
      workerData: task,
    });
    this.running.set(hunt.id, worker);
    let writes = Promise.resolve();
    let ended = false;
    const end = (outcome: { events: number; error?: string }) => {
      if (ended) return;
      ended = true;
      this.running.delete(hunt.id);
      writes = writes.then(async () => {
        await this.store.finishHunt(hunt.id, outcome);
        if (request.rules) rmSync(folder, { recursive: true, force: true });
        this.log(
          `hunt ${hunt.id} of tenant ${request.tenant} ${outcome.error ? `failed: ${outcome.error}` : `done: ${outcome.events} events`}`,
        );
      });
    };
    worker.on('message', (message: RetroHuntMessage) => {
      if (message.type === 'detections') {
        writes = writes.then(() =>
          this.store.addHuntDetections(hunt.id, message.detections, HUNT_DETECTIONS_KEPT),
        );
      } else if (message.type === 'done') end({ events: message.events });
      else end({ events: 0, error: message.message });
    });
    worker.on('error', (error) => end({ events: 0, error: describeError(error) }));
    worker.on('exit', (code) => end({ events: 0, error: `the hunt's thread stopped (${code})` }));
    this.log(`hunt ${hunt.id} of tenant ${request.tenant} started by ${actor}`);
    return hunt;
  }

  /** Stops every hunt under way (the service is stopping); they are recorded as failed. */
  async close(): Promise<void> {
    await Promise.all([...this.running.values()].map((worker) => worker.terminate()));
    await this.store.failRunningHunts('the service stopped during the hunt');
  }
}
