import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describeError, type FetchOptions, type VigilError } from '../core/index.js';
import { type IndicatorTable, indicatorTable } from '../detect/index.js';
import {
  type Indicator,
  type IndicatorInput,
  IndicatorStore,
  type IocSink,
  readIndicatorList,
  readIndicatorSource,
  readIndicatorText,
  type WarningListIndex,
} from '../intel/index.js';

/** The indicators detection threads match: every tenant's, and each tenant's own. Plain data. */
export interface IndicatorSets {
  global: IndicatorTable;
  tenants: Record<string, IndicatorTable>;
}

export interface ServiceIndicatorOptions {
  /** `<data>/indicators`: what the API was given, one file per request, under `_global` or the tenant. */
  dir: string;
  config: { global: string[]; tenants: Map<string, string[]> };
  fetch: FetchOptions;
  warningLists?: WarningListIndex;
  log: (line: string) => void;
}

const GLOBAL = '_global';

/**
 * The service's indicators: the sources config.yml names and what the API was given (kept as
 * files in the data folder, so they outlive a restart). Loaded and judged (decay, warning lists)
 * whenever the detection threads start; an entry or a source that cannot be used is logged and
 * left out, never stopping the service.
 */
export class ServiceIndicators {
  constructor(private readonly options: ServiceIndicatorOptions) {}

  async load(now = Date.now()): Promise<IndicatorSets> {
    const { config } = this.options;
    const global = indicatorTable(await this.judge(null, [...config.global, ...this.posted(GLOBAL)], now));
    const tenants: Record<string, IndicatorTable> = {};
    const names = new Set([...config.tenants.keys(), ...this.postedTenants()]);
    for (const tenant of names) {
      const own = await this.judge(
        tenant,
        [...(config.tenants.get(tenant) ?? []), ...this.posted(tenant)],
        now,
      );
      if (own.length) tenants[tenant] = indicatorTable(own);
    }
    return { global, tenants };
  }

  private async judge(tenant: string | null, sources: string[], now: number): Promise<Indicator[]> {
    const store = new IndicatorStore({ now, warningLists: this.options.warningLists });
    const sink: IocSink = {
      add: (indicator) => store.add(indicator),
      problem: (error) => this.options.log(`indicator skipped: ${describeError(error)}`),
    };
    for (const source of sources) {
      try {
        await readIndicatorSource(source, sink, {
          fetch: this.options.fetch,
          now,
          warningLists: this.options.warningLists,
        });
      } catch (error) {
        this.options.log(`indicators not loaded: ${describeError(error)}`);
      }
    }
    const { indicators, counts } = store.judge();
    if (sources.length)
      this.options.log(
        `indicators loaded for ${tenant === null ? 'every tenant' : `tenant ${tenant}`}: ${counts.kept} from ${sources.length} sources${counts.expired ? `, ${counts.expired} expired` : ''}`,
      );
    return indicators;
  }

  private posted(scope: string): string[] {
    const dir = join(this.options.dir, scope);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => join(dir, name));
  }

  private postedTenants(): string[] {
    if (!existsSync(this.options.dir)) return [];
    return readdirSync(this.options.dir).filter((name) => name !== GLOBAL);
  }

  /**
   * Reads indicators given to the API (a JSON list of `{type, value, …}`, or a text in any format
   * a file may have) and keeps the usable ones in the data folder, durably, before answering.
   * Returns them judged as of now, and the entries that could not be used with their place.
   */
  add(
    tenant: string | null,
    payload: { indicators?: unknown[]; text?: string },
    origin: string,
    now = Date.now(),
  ): { indicators: Indicator[]; problems: VigilError[] } {
    const inputs: IndicatorInput[] = [];
    const problems: VigilError[] = [];
    const sink: IocSink = {
      add: (indicator) => inputs.push(indicator),
      problem: (error) => problems.push(error),
    };
    if (payload.indicators) readIndicatorList(payload.indicators, origin, sink);
    if (payload.text !== undefined) readIndicatorText(payload.text, origin, sink);
    if (inputs.length === 0) return { indicators: [], problems };
    const dir = join(this.options.dir, tenant ?? GLOBAL);
    mkdirSync(dir, { recursive: true });
    const name = `${new Date(now).toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.json`;
    writeDurably(join(dir, name), JSON.stringify(inputs.map(listEntry)));
    const store = new IndicatorStore({ now, warningLists: this.options.warningLists });
    for (const input of inputs) store.add(input);
    return { indicators: store.judge().indicators, problems };
  }
}

/** An indicator in the JSON list form the API takes and the data folder keeps. */
function listEntry(input: IndicatorInput) {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    type: input.type,
    value: input.value,
    source: input.source,
    first_seen: iso(input.firstSeen),
    last_seen: iso(input.lastSeen),
    valid_until: iso(input.validUntil),
    confidence: input.confidence,
    note: input.note,
  };
}

/** Written under a temporary name, flushed to disk, then renamed: a crash leaves the whole file or none. */
function writeDurably(file: string, text: string): void {
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
