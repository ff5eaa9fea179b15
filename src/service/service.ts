import { randomBytes } from 'node:crypto';
import { existsSync, type FSWatcher, mkdirSync, watch } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describeError, type Locate, openGeoDatabase, VigilError } from '../core/index.js';
import {
  indicatorTable,
  type RuleSetup,
  type SetupOptions,
  WorkerPool,
  workerScript,
} from '../detect/index.js';
import type { Indicator, WarningListIndex } from '../intel/index.js';
import { loadConnectors, loadPlaybooks } from '../respond/index.js';
import { type CorrelationRule, type DetectionRule, needsGeolocation } from '../sigma/index.js';
import type { PrioritizeOptions } from '../vuln/index.js';
import type { ServiceConfig } from './config.js';
import type { BatchTask, EvaluatedBatch } from './evaluate.js';
import type { EventLog, NewRecord } from './event-log.js';
import { type IndicatorSets, ServiceIndicators } from './indicators.js';
import { lockDataDir } from './lock.js';
import { describeEventLogPlace, eventLogPlace, openEventLog } from './open-event-log.js';
import { EveryTenant, type TenantOwnership } from './ownership.js';
import type { PostgresServiceStore } from './postgres-store.js';
import { Processor, type ProcessorNote, type ProcessorTimes } from './processor.js';
import { Responder } from './responder.js';
import { ServiceEnricher } from './response-lookups.js';
import { RetroHunts } from './retro-hunts.js';
import {
  globalOnly,
  loadServiceRules,
  type ServiceRuleOptions,
  type ServiceRules,
  type TenantRules,
  tenantRulesPath,
} from './rules.js';
import type { RetroHunt, ServiceStore } from './store.js';
import { openServiceStore, storeChoice } from './store-choice.js';
import { checkRuleText, RULE_FILE, writeRuleFile } from './tenant-rule-files.js';

export interface ServiceOptions {
  dataDir: string;
  config: ServiceConfig;
  /** The global rules, pipelines and placeholders. */
  rules: SetupOptions;
  /** Detection threads (default: the configuration's). */
  threads?: number;
  /** One line per event of note. */
  log: (line: string) => void;
  /** The MISP warning lists that lower indicators' confidence (from the content folder). */
  warningLists?: WarningListIndex;
  /**
   * SSVC tables, KEV and EPSS from the content folder, read when an enrich step first looks up a
   * host's vulnerabilities; throws when the content is not there.
   */
  vulnDecisions?: () => PrioritizeOptions;
  /** The cluster store, a postgres:// URL (default: the configuration's, else SQLite in the data folder). */
  store?: string;
  /** This node's name in a cluster (default: the configuration's, else the host name). */
  node?: string;
  /**
   * A geolocation database (MaxMind DB format) for the correlations that place addresses
   * (impossible travel, new country): opened at start, and by each retro-hunt's thread.
   */
  geoip?: string;
}

/** What adding indicators did: those kept (judged now), the entries refused, the sweeps started. */
export interface IndicatorsAdded {
  indicators: Indicator[];
  problems: VigilError[];
  hunts: RetroHunt[];
}

/**
 * An event on its way in: JSON text as sent (HTTP: its bytes, for NDJSON), or fields a listener
 * parsed, with the event's time when no field of it holds the time (OTLP's `timeUnixNano`).
 */
export type IncomingEvent = string | Uint8Array | { event: string; time?: number };

/** An alert detection just opened. */
export interface OpenedAlert {
  tenant: string;
  id: number;
}

/** Too many events wait for detection: the sender should come back later. */
export class Backpressure extends Error {
  constructor(
    readonly backlog: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`${backlog} events are waiting for detection; try again in ${retryAfterSeconds} s`);
  }
}

export interface RulesStatus {
  loadedAt: string;
  global: { rules: number; correlations: number; errors: VigilError[] };
  tenants: Map<string, { rules: number; correlations: number; errors: VigilError[]; warnings: VigilError[] }>;
}

const RETENTION_EVERY_MS = 10 * 60_000;
const RELOAD_DEBOUNCE_MS = 1000;

/**
 * The responder of a data folder: the playbooks of `response.playbooks` (a playbook that cannot be
 * used is told and left out, as a rule is) and the connectors of `response.connectors` (a broken
 * connectors file stops the start, as a broken config.yml does: it holds no optional part).
 */
async function openResponder(
  options: ServiceOptions,
  store: ServiceStore,
  indicators: () => Promise<IndicatorSets>,
  owns: (tenant: string) => boolean,
): Promise<Responder> {
  const { response } = options.config;
  const inData = (path: string) => (isAbsolute(path) ? path : join(options.dataDir, path));
  const paths = response.playbooks.map(inData).filter((path) => existsSync(path));
  const set = paths.length ? await loadPlaybooks(paths) : { playbooks: [], errors: [] };
  for (const error of set.errors) options.log(`playbook skipped: ${describeError(error)}`);
  const connectors = loadConnectors(inData(response.connectors));
  if (set.playbooks.length)
    options.log(
      `response: ${set.playbooks.length} playbooks; connectors: ${[...connectors.values()].map((c) => c.target).join(', ') || 'none (every step stays a plan)'}`,
    );
  return new Responder(store, {
    playbooks: set.playbooks,
    connectors,
    log: options.log,
    tickMs: response.tickMs,
    owns,
    enricher: new ServiceEnricher({
      store,
      dataDir: options.dataDir,
      indicators,
      vulnDecisions: options.vulnDecisions ?? noVulnDecisions,
    }),
  });
}

/** Without content, a host's vulnerabilities cannot be decided (KEV, SSVC): the lookup says so. */
export function noVulnDecisions(): never {
  throw new VigilError(
    'SSVC_MISSING',
    'no SSVC decision tables and KEV at hand. Get them with: vigil content update --only ssvc,kev',
  );
}

/** A store nodes share (PostgreSQL), told apart without loading its driver for the embedded one. */
function isClusterStore(store: ServiceStore): store is PostgresServiceStore {
  return typeof (store as Partial<PostgresServiceStore>).tenantLeases === 'function';
}

/**
 * Makes this process a node of a cluster (events on JetStream, the store in PostgreSQL): it takes
 * its share of tenants to detect for, and hands them over as nodes come and go.
 */
async function joinCluster(
  options: ServiceOptions,
  store: PostgresServiceStore,
  events: EventLog,
): Promise<TenantOwnership> {
  const { cluster } = options.config;
  // A restarted node is a new one: the old process's leases lapse rather than being taken over
  // by a process that cannot know what the old one left half-done.
  const node = `${options.node ?? cluster.node}#${randomBytes(3).toString('hex')}`;
  const leases = store.tenantLeases({
    node,
    ttlMs: cluster.leaseTtlMs,
    heartbeatMs: cluster.heartbeatMs,
    tenants: () => events.tenants(),
    info: () => ({ pid: process.pid, listen: options.config.listen }),
    onError: (error) => options.log(`cluster: ${describeError(error)}`),
  });
  await leases.start();
  options.log(
    `cluster: node ${node} joined; lease ${cluster.leaseTtlMs} ms, heartbeat ${cluster.heartbeatMs} ms`,
  );
  return leases;
}

/** Where the service keeps things in its data folder. */
export function dataPaths(dataDir: string) {
  return {
    database: join(dataDir, 'vigil.db'),
    events: join(dataDir, 'events'),
    tenantRules: join(dataDir, 'rules'),
    indicators: join(dataDir, 'indicators'),
    /** The console's advisory assessments, a folder per tenant. */
    assessments: join(dataDir, 'assessments'),
  };
}

const OWNERSHIP_CHANGES = {
  gained: 'detection taken on by this node',
  'handed-over': 'detection handed over to another node',
  lost: 'lease lost to another node; its detection is theirs now',
} as const;

/**
 * The detection service of one data folder: takes events in (durably), detects on them in the
 * background, and keeps detections and alerts. The HTTP server, syslog and folder listeners are
 * its faces and inputs; nothing here knows about them.
 */
export class DetectionService {
  private pool!: WorkerPool<BatchTask, EvaluatedBatch>;
  private processor!: Processor;
  private rules!: ServiceRules;
  private loadedAt = new Date();
  private readonly watchers: FSWatcher[] = [];
  private retentionTimer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<RulesStatus> | undefined;
  /** Retro-hunts over the stored events, each on a thread of its own. */
  hunts!: RetroHunts;
  private indicators!: ServiceIndicators;
  /** The indicators the detection threads match now. */
  private indicatorSets: IndicatorSets | undefined;
  /** Playbooks run on the alerts detection opens. */
  responder!: Responder;
  /** The tenants this process detects for: all of them, unless it is a node of a cluster. */
  private ownership: TenantOwnership = new EveryTenant();
  private readonly alertListeners = new Set<(opened: OpenedAlert) => void>();
  private stopHearingGrowth: (() => void) | undefined;
  private stopHearingAlerts: (() => void) | undefined;
  /** In a cluster, the store that shares the tenants' rule files, and the last version written here. */
  private clusterStore: PostgresServiceStore | undefined;
  private ruleVersion = 0;
  private ruleSyncTimer: NodeJS.Timeout | undefined;
  /** Events accepted per tenant and input, since start (for metrics). */
  readonly accepted = new Map<string, number>();
  readonly rejected = new Map<string, number>();
  /** Seconds spent appending accepted events to the event log (the bus, in a cluster), summed over requests. */
  private logAppendSeconds = 0;
  /** Places addresses for the correlations that need it (impossible travel, new country). */
  private readonly locate: Locate | undefined;

  private constructor(
    readonly options: ServiceOptions,
    readonly store: ServiceStore,
    readonly events: EventLog,
    private readonly unlock: () => void,
  ) {
    this.locate = options.geoip === undefined ? undefined : openGeoDatabase(options.geoip);
  }

  static async open(options: ServiceOptions): Promise<DetectionService> {
    mkdirSync(options.dataDir, { recursive: true });
    const unlock = lockDataDir(options.dataDir);
    const paths = dataPaths(options.dataDir);
    mkdirSync(paths.tenantRules, { recursive: true });
    let store: ServiceStore | undefined;
    let events: EventLog | undefined;
    let service: DetectionService | undefined;
    try {
      store = await openServiceStore(storeChoice(options.store ?? options.config.store, paths.database));
      const place = eventLogPlace(paths.events, options.config.bus);
      events = await openEventLog(place, { name: `vigil serve ${options.dataDir}` });
      options.log(`event log: ${describeEventLogPlace(place)}`);
      const opened = new DetectionService(options, store, events, unlock);
      service = opened;
      if (place.kind === 'files' && isClusterStore(store) && !(await store.claimSoleNode()))
        throw new VigilError(
          'STORE_IN_USE',
          `another vigil serve keeps its events in files and its state in this store (${store.location.shown}): nodes sharing a store must share the event log too (--bus nats://HOST:PORT)`,
          {},
        );
      if (place.kind === 'jetstream' && isClusterStore(store)) {
        opened.ownership = await joinCluster(options, store, events);
        opened.clusterStore = store;
        // The tenants' own rules as the cluster has them, before the first rules are loaded.
        await opened.syncTenantRules();
      }
      const { fetch } = options.config;
      opened.indicators = new ServiceIndicators({
        dir: paths.indicators,
        config: options.config.indicators,
        fetch: { allowHosts: fetch.allowHosts, maxBytes: fetch.maxBytes, timeoutMs: fetch.timeoutMs },
        warningLists: options.warningLists,
        log: options.log,
      });
      // A hunt runs on the node it was asked of; another node's may be running right now.
      if (!isClusterStore(store) || place.kind !== 'jetstream')
        await store.failRunningHunts('the service stopped during the hunt');
      opened.hunts = new RetroHunts(
        store,
        options.dataDir,
        place,
        (tenant) => opened.deployedSetup(tenant),
        options.log,
        options.geoip,
      );
      opened.responder = await openResponder(
        options,
        store,
        async () => opened.indicatorSets ?? (await opened.indicators.load()),
        (tenant) => opened.ownership.owns(tenant),
      );
      await opened.startDetection();
      await opened.responder.start();
      opened.watchRules();
      if (opened.clusterStore) {
        opened.ruleSyncTimer = setInterval(
          () =>
            opened
              .syncTenantRules()
              .catch((error) => options.log(`rule sync failed: ${describeError(error)}`)),
          options.config.cluster.heartbeatMs,
        );
        opened.ruleSyncTimer.unref();
      }
      opened.retentionTimer = setInterval(
        () =>
          opened.applyRetention().catch((error) => options.log(`retention failed: ${describeError(error)}`)),
        RETENTION_EVERY_MS,
      );
      opened.retentionTimer.unref();
      return opened;
    } catch (error) {
      await service?.ownership.stop();
      await events?.close();
      await store?.close();
      unlock();
      throw error;
    }
  }

  /**
   * Deploys a tenant's own rule file: checked as the loader checks it (a VigilError listing every
   * problem with its line and field when it cannot be used), then deployed (deployTenantRule).
   */
  async saveTenantRule(
    tenant: string,
    file: string,
    text: string,
    actor: string,
  ): Promise<{ titles: string[] }> {
    if (!RULE_FILE.test(file))
      throw new VigilError(
        'RULE_FILE_NAME',
        `'${file}' is not a rule file name: letters, digits, dots, dashes and underscores, ending in .yml or .yaml`,
        { field: 'file' },
      );
    const { problems, titles } = checkRuleText(text, file);
    if (problems.length > 0 || titles.length === 0)
      throw new VigilError('RULE_INVALID', problems.length ? problems.join('\n') : 'the text holds no rule', {
        file,
      });
    await this.deployTenantRule(tenant, file, text, titles, actor);
    return { titles };
  }

  /**
   * Writes a rule file its caller has checked (name and text, holding the rules `titles`) whole into
   * the tenant's folder, audits it, shares it with the other nodes of a cluster, and loads it.
   */
  async deployTenantRule(
    tenant: string,
    file: string,
    text: string,
    titles: string[],
    actor: string,
  ): Promise<void> {
    writeRuleFile(tenantRulesPath(dataPaths(this.options.dataDir).tenantRules, tenant), file, text);
    await this.store.audit({ actor, action: 'rule.save', tenant, target: file, details: { rules: titles } });
    await this.clusterStore?.shareTenantRule({ tenant, file, text }, actor);
    this.reloadRules(actor).catch((error) => this.options.log(`reload failed: ${describeError(error)}`));
  }

  /** Writes the tenants' rule files other nodes deployed since the last look; the folder watch reloads. */
  private async syncTenantRules(): Promise<void> {
    if (!this.clusterStore) return;
    const folder = dataPaths(this.options.dataDir).tenantRules;
    for (const shared of await this.clusterStore.sharedRuleFiles(this.ruleVersion)) {
      if (writeRuleFile(tenantRulesPath(folder, shared.tenant), shared.file, shared.text))
        this.options.log(`tenant ${shared.tenant}: rule file ${shared.file} deployed from the cluster`);
      this.ruleVersion = shared.version;
    }
  }

  /** The rules a tenant's events meet, as files: the global ones and the tenant's folder. */
  deployedSetup(tenant: string): SetupOptions {
    const own = tenantRulesPath(dataPaths(this.options.dataDir).tenantRules, tenant);
    return { ...this.options.rules, rules: [...this.options.rules.rules, ...(existsSync(own) ? [own] : [])] };
  }

  private async ruleOptions(): Promise<ServiceRuleOptions> {
    const disabled: Record<string, string[]> = {};
    for (const off of await this.store.disabledRules(null)) {
      disabled[off.tenant] = [...(disabled[off.tenant] ?? []), off.rule];
    }
    return {
      global: this.options.rules,
      tenantRulesDir: dataPaths(this.options.dataDir).tenantRules,
      tenants: (await this.store.tenants()).map((t) => t.name),
      disabled,
    };
  }

  private async loadRules(): Promise<{ rules: ServiceRules; pool: WorkerPool<BatchTask, EvaluatedBatch> }> {
    this.indicatorSets = await this.indicators.load();
    const options = { ...(await this.ruleOptions()), indicators: this.indicatorSets };
    // The threads load and compile their own copies while this one loads what correlations need.
    const [rules, pool] = await Promise.all([
      loadServiceRules(options),
      WorkerPool.start<BatchTask, EvaluatedBatch>(
        this.options.threads ?? this.options.config.threads,
        options,
        workerScript(import.meta.url, 'service/detect-worker.js'),
      ),
    ]);
    return { rules, pool };
  }

  private async startDetection(): Promise<void> {
    const { rules, pool } = await this.loadRules();
    this.rules = rules;
    this.pool = pool;
    this.report(this.rulesStatus());
    const config = this.options.config;
    this.processor = new Processor(this.events, this.store, pool, {
      alertWindowMs: (rule) => (rule.id && config.alerts.rules.get(rule.id)) || config.alerts.windowMs,
      latenessMs: config.latenessMs,
      locate: this.locate,
      rulesOf: (tenant) => this.rules.tenants.get(tenant) ?? globalOnly(this.rules.global),
      onNote: (note) => this.note(note),
      ownership: this.ownership,
    });
    // Growth from this node's inputs and, in a cluster, from other nodes': detection takes it up.
    this.stopHearingGrowth = this.events.onGrowth((tenant) => this.processor.notify(tenant));
    this.stopHearingAlerts = this.events.onAlertElsewhere?.((opened) => {
      for (const listener of this.alertListeners) listener(opened);
    });
    await this.processor.start();
  }

  /**
   * Tells a listener of every alert detection opens from now on (the console's live queue);
   * returns how to stop. The listener filters by tenant itself.
   */
  onAlertOpened(listener: (opened: OpenedAlert) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  private note(note: ProcessorNote): void {
    const log = this.options.log;
    if (note.kind === 'alert') {
      log(
        `alert ${note.id} opened: tenant ${note.tenant}, ${note.rule} (${note.level}) on ${note.host || 'no host'}`,
      );
      for (const listener of this.alertListeners) listener({ tenant: note.tenant, id: note.id });
      this.events.announceAlert?.({ tenant: note.tenant, id: note.id });
      this.responder.alertOpened(note.tenant, note.id);
    } else if (note.kind === 'event-error')
      log(`event skipped: tenant ${note.tenant}: ${describeError(note.error)}`);
    else if (note.kind === 'log-unreadable')
      log(
        `detection waits: the event log of tenant ${note.tenant} cannot be read (${describeError(note.error)}); trying again every second`,
      );
    else if (note.kind === 'ownership') log(`tenant ${note.tenant}: ${OWNERSHIP_CHANGES[note.change]}`);
    else log(`detection stopped: ${describeError(note.error)}`);
  }

  private report(status: RulesStatus): void {
    const g = status.global;
    this.options.log(
      `rules loaded: ${g.rules} rules and ${g.correlations} correlations for every tenant${g.errors.length ? `, ${g.errors.length} could not be used` : ''}`,
    );
    for (const error of g.errors.slice(0, 20)) this.options.log(`rule skipped: ${describeError(error)}`);
    const placing = this.rules.global.ruleSet.correlations.filter(needsGeolocation);
    if (placing.length && !this.locate)
      this.options.log(
        `${placing.length} correlations place addresses (impossible travel, new country) and stay idle without a geolocation database: give --geoip or geoip: in config.yml`,
      );
    for (const [tenant, t] of status.tenants) {
      for (const error of t.errors)
        this.options.log(`rule skipped: tenant ${tenant}: ${describeError(error)}`);
    }
  }

  /** The rule a tenant's detections name (by id, or by file and title for a rule without one), as loaded now. */
  ruleOf(
    tenant: string,
    rule: { id?: string | null; title: string; file?: string },
  ): DetectionRule | CorrelationRule | undefined {
    const rules = this.rules.tenants.get(tenant) ?? globalOnly(this.rules.global);
    const all: (DetectionRule | CorrelationRule)[] = [...rules.rules, ...rules.correlations];
    if (rule.id) return all.find((r) => r.id === rule.id);
    return all.find(
      (r) => r.title === rule.title && (rule.file === undefined || r.origin.file === rule.file),
    );
  }

  /** The rules a tenant's events meet now, as loaded (its own, the global ones and those it turned off). */
  tenantRules(tenant: string): TenantRules {
    return this.rules.tenants.get(tenant) ?? globalOnly(this.rules.global);
  }

  /** The global rules as loaded now, with the files that could not be used. */
  get globalRules(): RuleSetup {
    return this.rules.global;
  }

  rulesStatus(): RulesStatus {
    const tenants: RulesStatus['tenants'] = new Map();
    for (const [name, t] of this.rules.tenants) {
      tenants.set(name, {
        rules: t.local.length,
        correlations: t.correlations.length - this.rules.global.ruleSet.correlations.length,
        errors: t.errors,
        warnings: t.warnings,
      });
    }
    const g = this.rules.global;
    return {
      loadedAt: this.loadedAt.toISOString(),
      global: {
        rules: g.ruleSet.rules.length,
        correlations: g.ruleSet.correlations.length,
        errors: g.errors,
      },
      tenants,
    };
  }

  /**
   * Loads the rules again (all tenants) and swaps the detection threads once the new ones are
   * ready; events keep being accepted meanwhile. A rule that does not load is reported and left
   * out, as at start: it never stops the service.
   */
  reloadRules(actor: string, action = 'rules.reload'): Promise<RulesStatus> {
    this.reloading ??= (async () => {
      try {
        const { rules, pool } = await this.loadRules();
        this.rules = rules;
        this.loadedAt = new Date();
        // Told as the new rules take effect, so the log and the API agree on what is loaded.
        const status = this.rulesStatus();
        this.report(status);
        const old = await this.processor.replacePool(pool);
        this.pool = pool;
        await old.close();
        await this.store.audit({
          actor,
          action,
          tenant: null,
          target: null,
          details: {
            rules: status.global.rules,
            errors: status.global.errors.length,
            indicators: this.indicatorCount(),
          },
        });
        return status;
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** Indicators matched now: every tenant's, and each tenant's own. */
  indicatorCounts(): { global: number; tenants: Map<string, number> } {
    const sets = this.indicatorSets;
    const tenants = new Map(Object.entries(sets?.tenants ?? {}).map(([name, table]) => [name, table.count]));
    return { global: sets?.global.count ?? 0, tenants };
  }

  private indicatorCount(): number {
    const counts = this.indicatorCounts();
    let total = counts.global;
    for (const count of counts.tenants.values()) total += count;
    return total;
  }

  /**
   * Adds indicators for one tenant (or, with null, for every tenant): kept in the data folder,
   * audited, matched on every event from then on (the detection threads are restarted with them),
   * and swept over the events already stored (a retro-hunt per tenant concerned, with the new
   * indicators alone), so that yesterday's connection to today's indicator is found.
   */
  async addIndicators(
    tenant: string | null,
    payload: { indicators?: unknown[]; text?: string },
    actor: string,
  ): Promise<IndicatorsAdded> {
    const { indicators, problems } = this.indicators.add(tenant, payload, `api ${actor}`);
    if (indicators.length === 0) return { indicators, problems, hunts: [] };
    await this.store.audit({
      actor,
      action: 'indicators.add',
      tenant,
      target: null,
      details: { indicators: indicators.length, refused: problems.length },
    });
    this.options.log(
      `indicators added by ${actor} for ${tenant === null ? 'every tenant' : `tenant ${tenant}`}: ${indicators.length}`,
    );
    await this.reloadRules(actor, 'indicators.reload');
    const tenants = tenant === null ? (await this.store.tenants()).map((t) => t.name) : [tenant];
    const hunts: RetroHunt[] = [];
    const table = indicatorTable(indicators);
    for (const name of tenants)
      hunts.push(await this.hunts.start({ tenant: name, indicators: table }, actor));
    return { indicators, problems, hunts };
  }

  /** Reloads when rule files change (debounced: an editor's save is several events). */
  private watchRules(): void {
    const paths = [dataPaths(this.options.dataDir).tenantRules, ...this.options.rules.rules];
    for (const path of paths) {
      try {
        const watcher = watch(path, { recursive: true }, () => {
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => {
            this.options.log('rule files changed: reloading');
            this.reloadRules('service').catch((error) =>
              this.options.log(`reload failed: ${describeError(error)}`),
            );
          }, RELOAD_DEBOUNCE_MS);
          this.reloadTimer.unref();
        });
        watcher.unref();
        this.watchers.push(watcher);
      } catch {
        // A path that cannot be watched (a single file gone): reload by hand still works.
      }
    }
  }

  /** Events accepted and not yet processed. */
  get backlog(): number {
    return this.processor.backlog;
  }

  get counters() {
    return this.processor.counters;
  }

  /** Where the service's time goes since start, in seconds per stage (see ProcessorTimes). */
  stageSeconds(): ProcessorTimes & { logAppend: number } {
    return { logAppend: this.logAppendSeconds, ...this.processor.times };
  }

  /** Per tenant, matches left out of correlation for coming later than the lateness allows. */
  lateMatches(): Map<string, number> {
    return this.processor.lateMatches();
  }

  /**
   * Appends events to a tenant's log; resolves once they are durable, which is when the sender
   * may be told they were accepted. Refused while too many events wait for detection.
   */
  async ingest(tenant: string, source: string, events: readonly IncomingEvent[], received = Date.now()) {
    const backlog = this.processor.backlog;
    if (backlog > this.options.config.limits.backlogEvents) throw new Backpressure(backlog, 5);
    if (events.length === 0) return;
    const records: NewRecord[] = events.map((e) =>
      typeof e === 'string' || e instanceof Uint8Array
        ? { received, source, event: e }
        : { received, source, event: e.event, time: e.time },
    );
    const started = performance.now();
    try {
      await this.events.append(tenant, records);
    } finally {
      this.logAppendSeconds += (performance.now() - started) / 1000;
    }
    const key = `${tenant}\0${source.split(':')[0]}`;
    this.accepted.set(key, (this.accepted.get(key) ?? 0) + events.length);
  }

  countRejected(tenant: string, source: string, n: number): void {
    const key = `${tenant}\0${source.split(':')[0]}`;
    this.rejected.set(key, (this.rejected.get(key) ?? 0) + n);
  }

  /**
   * Removes the oldest events of each tenant beyond its retention, never any that detection still
   * needs. A tenant whose log cannot be trimmed now (a bus away) is told and tried at the next round.
   */
  async applyRetention(now = Date.now()): Promise<void> {
    const retention = this.options.config.retention;
    for (const tenant of this.events.tenants()) {
      // The node detecting for a tenant knows what its detection still needs.
      if (!this.ownership.active(tenant)) continue;
      const policy = { ...retention.default, ...retention.tenants.get(tenant) };
      const snapshot = await this.store.snapshot(tenant);
      const keepFrom =
        Math.min(await this.store.position(tenant), snapshot?.seq ?? Number.POSITIVE_INFINITY) + 1;
      let result: Awaited<ReturnType<EventLog['applyRetention']>>;
      try {
        result = await this.events.applyRetention(tenant, policy, keepFrom, now);
      } catch (error) {
        this.options.log(`retention: tenant ${tenant}: not applied now: ${describeError(error)}`);
        continue;
      }
      if (result.removedEvents) {
        this.options.log(
          `retention: tenant ${tenant}: ${result.removedEvents} old events removed (${result.removedBytes} bytes); events kept from ${result.firstSeq}`,
        );
      }
    }
  }

  /** Finishes detection on everything accepted, then closes the log and the database. */
  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    clearInterval(this.ruleSyncTimer);
    clearTimeout(this.reloadTimer);
    for (const watcher of this.watchers) watcher.close();
    await this.reloading?.catch(() => undefined);
    await this.hunts.close();
    await this.processor.stop();
    this.stopHearingGrowth?.();
    this.stopHearingAlerts?.();
    await this.responder.stop();
    await this.pool.close();
    await this.events.close();
    await this.store.close();
    this.unlock();
  }
}
