import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type FetchOptions, safeFetch, VigilError } from '../core/index.js';
import { readAdvisoryIndicators, readMispCsv, readMispEvent, readPlainList } from './ioc-formats.js';
import { type IocSink, stixIndicators } from './ioc-stix.js';
import { type Indicator, type IndicatorInput, IndicatorStore, type StoreCounts } from './ioc-store.js';
import { readTaxii } from './ioc-taxii.js';
import { IOC_TYPES, isIocType, normalizeIoc } from './ioc-values.js';
import type { WarningListIndex } from './warninglists.js';

export interface IocSourceOptions {
  /** Limits and allowed hosts for URLs (TAXII servers, feeds). */
  fetch?: FetchOptions;
  /** The `authorization` header sent to TAXII servers (a URL's user and password say it too). */
  taxiiAuthorization?: string;
  /** Ask TAXII servers only for objects added after this time (RFC 3339). */
  addedAfter?: string;
  warningLists?: WarningListIndex;
  /** The time indicators are judged at (default: now). */
  now?: number;
  /** Entries that could not be used; the rest of their source is still read. */
  onProblem?: (error: VigilError) => void;
}

export interface SourceCount {
  source: string;
  indicators: number;
}

export interface LoadedIndicators {
  indicators: Indicator[];
  counts: StoreCounts;
  sources: SourceCount[];
}

/** Feeds and bundles are larger than advisories; a TAXII page or a MISP event is far smaller. */
const FEED_FETCH_LIMITS: FetchOptions = { maxBytes: 1024 ** 3, timeoutMs: 10 * 60_000 };

/**
 * Reads every source into one store and judges the indicators: files (plain list, STIX bundle,
 * MISP event JSON or CSV, advisory parse JSON, Vigil's JSON list), folders (a MISP JSON feed:
 * manifest.json and its events), `http(s)://` URLs of such files (a MISP feed by its
 * manifest.json), and `taxii+https://` (or `taxii+http://`) URLs of TAXII 2.1 servers. A source
 * that cannot be read at all fails the load: hunting without indicators asked for is not a hunt.
 */
export async function loadIndicators(
  specs: readonly string[],
  options: IocSourceOptions = {},
): Promise<LoadedIndicators> {
  const store = new IndicatorStore({ now: options.now, warningLists: options.warningLists });
  const sources: SourceCount[] = [];
  for (const spec of specs) {
    let added = 0;
    const sink: IocSink = {
      add: (indicator) => {
        added++;
        store.add(indicator);
      },
      problem: (error) => options.onProblem?.(error),
    };
    await readIndicatorSource(spec, sink, options);
    sources.push({ source: spec, indicators: added });
  }
  const { indicators, counts } = store.judge();
  return { indicators, counts, sources };
}

export async function readIndicatorSource(
  spec: string,
  sink: IocSink,
  options: IocSourceOptions = {},
): Promise<void> {
  const taxii = /^taxii\+(https?):\/\/(.*)$/i.exec(spec);
  if (taxii) return readTaxiiSource(`${taxii[1]!.toLowerCase()}://${taxii[2]!}`, sink, options);
  if (/^https?:\/\//i.test(spec)) {
    const text = await download(spec, options);
    if (/\/manifest\.json(?:[?#].*)?$/i.test(spec)) {
      return readManifest(text, spec, sink, (uuid) => download(new URL(`${uuid}.json`, spec).href, options));
    }
    return readIndicatorText(text, spec, sink);
  }
  if (!existsSync(spec)) throw new VigilError('IOC_SOURCE', 'no such file or folder', { file: spec });
  if (statSync(spec).isDirectory()) {
    const manifest = join(spec, 'manifest.json');
    if (!existsSync(manifest))
      throw new VigilError('IOC_SOURCE', 'a folder of indicators must be a MISP feed (with manifest.json)', {
        file: spec,
      });
    return readManifest(readFileSync(manifest, 'utf8'), manifest, sink, async (uuid) =>
      readFileSync(join(spec, `${uuid}.json`), 'utf8'),
    );
  }
  const text = readFileSync(spec, 'utf8');
  if (basename(spec) === 'manifest.json')
    return readManifest(text, spec, sink, async (uuid) =>
      readFileSync(join(dirname(spec), `${uuid}.json`), 'utf8'),
    );
  readIndicatorText(text, spec, sink);
}

async function download(url: string, options: IocSourceOptions): Promise<string> {
  const { bytes } = await safeFetch(url, { ...FEED_FETCH_LIMITS, ...options.fetch });
  return bytes.toString('utf8');
}

async function readTaxiiSource(url: string, sink: IocSink, options: IocSourceOptions): Promise<void> {
  const parsed = new URL(url);
  let authorization = options.taxiiAuthorization;
  if (parsed.username) {
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  const collections = await readTaxii(parsed.href, {
    fetch: options.fetch,
    authorization,
    addedAfter: options.addedAfter,
  });
  for (const collection of collections) {
    for (const { page, objects } of collection.pages) {
      stixIndicators(
        objects,
        {
          file: `TAXII collection "${collection.title}" (${collection.url})`,
          field: `page ${page}: objects`,
        },
        sink,
      );
    }
  }
}

/** A MISP JSON feed: its manifest lists the events, each in `<uuid>.json` beside it. */
async function readManifest(
  text: string,
  file: string,
  sink: IocSink,
  readEvent: (uuid: string) => Promise<string>,
): Promise<void> {
  const manifest = parseJson(text, file);
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest))
    throw new VigilError('IOC_SOURCE', 'a MISP manifest is an object of event uuids', { file });
  for (const uuid of Object.keys(manifest)) {
    if (!/^[0-9a-f-]{36}$/i.test(uuid)) {
      sink.problem(new VigilError('IOC_INVALID', `'${uuid}' is not an event uuid`, { file, field: uuid }));
      continue;
    }
    const eventFile = file.replace(/manifest\.json([?#].*)?$/i, `${uuid}.json`);
    let eventText: string;
    try {
      eventText = await readEvent(uuid);
    } catch (error) {
      sink.problem(
        new VigilError('IOC_INVALID', `event not read: ${(error as Error).message}`, { file: eventFile }),
      );
      continue;
    }
    try {
      readMispEvent(parseJson(eventText, eventFile), eventFile, sink);
    } catch (error) {
      if (!(error instanceof VigilError)) throw error;
      sink.problem(error);
    }
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VigilError('IOC_SOURCE', `not valid JSON: ${(error as Error).message}`, { file });
  }
}

/**
 * The indicators of one text, its format told by its content: JSON (a STIX bundle, a MISP event,
 * advisory parse output, or Vigil's list of `{type, value, …}`), a CSV with a type,value header
 * (MISP), else a plain list.
 */
export function readIndicatorText(text: string, file: string, sink: IocSink): void {
  const start = text.trimStart();
  if (start.startsWith('{') || start.startsWith('[')) {
    const data = parseJson(text, file);
    const first = Array.isArray(data) ? data[0] : data;
    const record = (typeof first === 'object' && first !== null ? first : {}) as Record<string, unknown>;
    if (!Array.isArray(data) && (record.type === 'bundle' || Array.isArray(record.objects))) {
      stixIndicators(Array.isArray(record.objects) ? record.objects : [], { file, field: 'objects' }, sink);
    } else if (!Array.isArray(data) && ('Event' in record || 'Attribute' in record)) {
      readMispEvent(data, file, sink);
    } else if ('indicators' in record) {
      readAdvisoryIndicators(data, file, sink);
    } else if (Array.isArray(data)) {
      readIndicatorList(data, file, sink);
    } else {
      throw new VigilError(
        'IOC_SOURCE',
        'JSON that is not a STIX bundle, a MISP event, advisory parse output or a list of indicators',
        { file },
      );
    }
    return;
  }
  const header = start.slice(0, start.search(/\r?\n|$/)).toLowerCase();
  const columns = header.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  if (columns.includes('type') && columns.includes('value')) readMispCsv(text, file, sink);
  else readPlainList(text, file, sink);
}

/**
 * Vigil's own JSON list of indicators (what the service's API takes): `[{type, value, source?,
 * first_seen?, last_seen?, valid_until?, confidence?, note?}]`, times in ISO 8601.
 */
export function readIndicatorList(data: unknown[], file: string, sink: IocSink): void {
  for (const [i, entry] of data.entries()) {
    const read = listEntry(entry, file);
    if ('problem' in read)
      sink.problem(new VigilError('IOC_INVALID', read.problem, { file, field: `[${i}]${read.at}` }));
    else sink.add(read.indicator);
  }
}

function listEntry(
  entry: unknown,
  file: string,
): { indicator: IndicatorInput } | { problem: string; at: string } {
  if (typeof entry !== 'object' || entry === null) return { problem: 'not an object', at: '' };
  const e = entry as Record<string, unknown>;
  if (typeof e.type !== 'string' || !isIocType(e.type))
    return { problem: `type must be one of ${IOC_TYPES.join(', ')}`, at: '.type' };
  if (typeof e.value !== 'string') return { problem: 'value must be a string', at: '.value' };
  const normal = normalizeIoc(e.type, e.value);
  if ('problem' in normal) return { problem: `'${e.value}': ${normal.problem}`, at: '.value' };
  const times: Record<string, number | undefined> = {};
  for (const name of ['first_seen', 'last_seen', 'valid_until']) {
    const value = e[name];
    if (value === undefined) continue;
    const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) return { problem: 'not an ISO 8601 time', at: `.${name}` };
    times[name] = ms;
  }
  if (
    e.confidence !== undefined &&
    (typeof e.confidence !== 'number' || e.confidence < 0 || e.confidence > 100)
  )
    return { problem: 'confidence must be a number from 0 to 100', at: '.confidence' };
  return {
    indicator: {
      type: e.type,
      value: normal.value,
      source: typeof e.source === 'string' && e.source ? e.source : file,
      firstSeen: times.first_seen,
      lastSeen: times.last_seen,
      validUntil: times.valid_until,
      confidence: e.confidence as number | undefined,
      ...(typeof e.note === 'string' ? { note: e.note } : {}),
    },
  };
}
