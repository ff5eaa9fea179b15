import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod/v3';
import { VigilError } from '../core/index.js';
import { compileSelection, type FieldMap, type Predicate } from './compile.js';
import { parseSelectionMap, type SearchNode } from './detection.js';
import { SigmaError } from './errors.js';
import type { LogSource } from './rule.js';
import { globIsPlain, globText } from './values.js';
import { parseSigmaYaml } from './yaml.js';

/**
 * Processing pipelines as data: which events a Sigma log source stands for, and how the rules'
 * field names map onto those events. Users read, copy and extend them as YAML files.
 */
export interface PipelineSource {
  /** The events of this source, as a selection; undefined when the index keys say it all. */
  residual?: Predicate;
  /** Channels (lower case) and event ids (as text) the source is indexed by; undefined = any. */
  channels?: string[];
  /** The channels as the pipeline writes them, for people to read. */
  channelNames?: string[];
  eventIds?: string[];
  /** Rule field -> event field for this source (on top of the pipeline-wide renames). */
  fieldmap: FieldMap;
  /**
   * The product whose events this source is, when the pipeline that maps it identifies that
   * product itself: the source is then tried only on that product's events.
   */
  product?: string;
  /** What to turn on to have these events, as a user would find it (`Zeek's rdp.log`). */
  collect?: string;
}

export interface PipelineEntry {
  logsource: LogSource;
  sources: PipelineSource[];
}

export interface Pipeline {
  name: string;
  file: string;
  /** Lower runs first; the first pipeline that maps a log source decides its sources. */
  priority: number;
  products: Map<string, Predicate>;
  entries: PipelineEntry[];
  fieldmap: Map<string, string>;
  placeholders: Map<string, string[]>;
}

const stringMap = z.record(z.string(), z.string());

const pipelineSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  priority: z.number().optional(),
  products: z
    .record(
      z.string(),
      z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]),
    )
    .optional(),
  logsources: z
    .array(
      z.object({
        logsource: z.object({
          category: z.string().optional(),
          product: z.string().optional(),
          service: z.string().optional(),
        }),
        collect: z.string().optional(),
        sources: z
          .array(z.object({ when: z.record(z.string(), z.unknown()), fieldmap: stringMap.optional() }))
          .min(1),
      }),
    )
    .optional(),
  fieldmap: stringMap.optional(),
  placeholders: z
    .record(z.string(), z.union([z.string(), z.array(z.union([z.string(), z.number()]))]))
    .optional(),
});

/** Parses a pipeline file's text; throws SigmaError('SIGMA_PIPELINE') naming the file and line. */
export function parsePipeline(text: string, file: string, defaultPriority = 50): Pipeline {
  const { documents, errors } = parseSigmaYaml(text, file);
  if (errors.length) throw new SigmaError('SIGMA_PIPELINE', errors[0]!.message, errors[0]!.location);
  const doc = documents[0];
  if (!doc) throw new SigmaError('SIGMA_PIPELINE', 'the pipeline file is empty', { file });
  const result = pipelineSchema.safeParse(doc.data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path as (string | number)[];
    throw new SigmaError('SIGMA_PIPELINE', `${path.join('.') || 'pipeline'}: ${issue.message}`, {
      file,
      line: doc.lineOf(path),
    });
  }
  const data = result.data;
  const noPlaceholders = new Map<string, string[]>();
  const selection = (map: Record<string, unknown>, path: (string | number)[]): SearchNode => {
    try {
      return parseSelectionMap(map, { placeholders: noPlaceholders }, path);
    } catch (error) {
      if (error instanceof SigmaError) {
        throw new SigmaError('SIGMA_PIPELINE', error.message, { file, line: doc.lineOf(error.path ?? path) });
      }
      throw error;
    }
  };
  const products = new Map<string, Predicate>();
  for (const [product, when] of Object.entries(data.products ?? {})) {
    // A list of selections is any of them, as in a Sigma detection.
    const node: SearchNode = Array.isArray(when)
      ? { kind: 'any', children: when.map((map, i) => selection(map, ['products', product, i])) }
      : selection(when, ['products', product]);
    products.set(product, compileSelection(node));
  }
  const entries = (data.logsources ?? []).map((entry, i) => ({
    logsource: entry.logsource,
    sources: entry.sources.map((source, j) =>
      indexSource(
        selection(source.when, ['logsources', i, 'sources', j, 'when']),
        new Map(Object.entries(source.fieldmap ?? {})),
        entry.logsource.product !== undefined && products.has(entry.logsource.product)
          ? entry.logsource.product
          : undefined,
        entry.collect,
      ),
    ),
  }));
  const placeholders = new Map<string, string[]>();
  for (const [name, values] of Object.entries(data.placeholders ?? {})) {
    placeholders.set(name, (Array.isArray(values) ? values : [values]).map(String));
  }
  return {
    name: data.name,
    file,
    priority: data.priority ?? defaultPriority,
    products,
    entries,
    fieldmap: new Map(Object.entries(data.fieldmap ?? {})),
    placeholders,
  };
}

/** Pulls `Channel` and `EventID` equalities out of a selection, so events can be routed by table lookup. */
function indexSource(
  node: SearchNode,
  fieldmap: FieldMap,
  product: string | undefined,
  collect: string | undefined,
): PipelineSource {
  const items = node.kind === 'all' ? node.children : [node];
  const rest: SearchNode[] = [];
  const source: PipelineSource = { fieldmap, product, collect };
  for (const child of items) {
    const item = child.kind === 'item' ? child.item : undefined;
    const plain = item && item.modifiers.length === 0 && !item.negated && item.linking === 'any';
    if (
      plain &&
      item.field === 'Channel' &&
      item.values.every((v) => v.kind === 'string' && globIsPlain(v.glob))
    ) {
      source.channelNames = item.values.map((v) => (v.kind === 'string' ? globText(v.glob) : ''));
      source.channels = source.channelNames.map((name) => name.toLowerCase());
      continue;
    }
    if (
      plain &&
      item.field === 'EventID' &&
      item.values.every(
        (v) =>
          v.kind === 'number' ||
          (v.kind === 'string' && globIsPlain(v.glob) && /^\d+$/.test(globText(v.glob))),
      )
    ) {
      source.eventIds = item.values.map((v) =>
        v.kind === 'number' ? String(v.value) : v.kind === 'string' ? globText(v.glob) : '',
      );
      continue;
    }
    rest.push(child);
  }
  if (rest.length)
    source.residual = compileSelection(rest.length === 1 ? rest[0]! : { kind: 'all', children: rest });
  return source;
}

export async function loadPipeline(file: string): Promise<Pipeline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new VigilError('FILE_UNREADABLE', `cannot read pipeline: ${(error as Error).message}`, { file });
  }
  return parsePipeline(text, file);
}

/** Where the pipelines shipped with Vigil live (the same relative place from `src/` and `dist/`). */
export const BUILTIN_PIPELINE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'pipelines');

/**
 * The pipelines shipped with Vigil, one file per kind of source, all of one priority. Windows
 * comes last: its product (any event with a `Channel`) is the widest, so the others (Sysmon for
 * Linux has a `Channel` too) claim their events first.
 */
export async function builtinPipelines(): Promise<Pipeline[]> {
  const files = (await readdir(BUILTIN_PIPELINE_DIR)).filter((name) => name.endsWith('.yml')).sort();
  const ordered = [
    ...files.filter((name) => name !== 'windows.yml'),
    ...files.filter((name) => name === 'windows.yml'),
  ];
  const pipelines = await Promise.all(ordered.map((name) => loadPipeline(join(BUILTIN_PIPELINE_DIR, name))));
  return pipelines.map((pipeline) => ({ ...pipeline, priority: BUILTIN_PRIORITY }));
}

/** The priority of the built-in pipelines: user pipelines (50 unless they say) come before them. */
export const BUILTIN_PRIORITY = 100;

/** How a rule is routed: the sources of its log source, or the events of a product, or what no product claims. */
export type Route =
  | { kind: 'sources'; pipelines: string[]; sources: PipelineSource[] }
  | { kind: 'product'; product: string; mapped: boolean }
  | { kind: 'unclaimed' }
  | { kind: 'any' };

export interface PipelineSet {
  pipelines: Pipeline[];
  products: Map<string, Predicate>;
  fieldmap: Map<string, string>;
  placeholders: Map<string, string[]>;
}

/**
 * Orders pipelines and merges what they share; earlier (lower priority number, then given first)
 * wins. Products are tried in that order too: an event belongs to the first whose selection it meets.
 */
export function combinePipelines(pipelines: readonly Pipeline[]): PipelineSet {
  const ordered = [...pipelines].sort((a, b) => a.priority - b.priority);
  const products = new Map<string, Predicate>();
  const fieldmap = new Map<string, string>();
  const placeholders = new Map<string, string[]>();
  for (const pipeline of ordered) {
    for (const [k, v] of pipeline.products) if (!products.has(k)) products.set(k, v);
    for (const [k, v] of pipeline.fieldmap) if (!fieldmap.has(k)) fieldmap.set(k, v);
    for (const [k, v] of pipeline.placeholders) if (!placeholders.has(k)) placeholders.set(k, v);
  }
  return { pipelines: ordered, products, fieldmap, placeholders };
}

function entryServes(entry: LogSource, rule: LogSource): boolean {
  return (['category', 'product', 'service'] as const).every(
    (key) => rule[key] === undefined || entry[key] === rule[key],
  );
}

export function routeFor(set: PipelineSet, logsource: LogSource): Route {
  if (
    logsource.category === undefined &&
    logsource.service === undefined &&
    logsource.product === undefined
  ) {
    return { kind: 'any' };
  }
  const specific = logsource.category !== undefined || logsource.service !== undefined;
  if (specific) {
    // The first pipeline that maps the log source decides, with every pipeline of its priority:
    // the built-in ones share one (DNS is Zeek's and Suricata's), a user's replaces them.
    let priority: number | undefined;
    const names: string[] = [];
    const sources: PipelineSource[] = [];
    for (const pipeline of set.pipelines) {
      if (priority !== undefined && pipeline.priority !== priority) break;
      const served = pipeline.entries
        .filter((e) => entryServes(e.logsource, logsource))
        .flatMap((e) => e.sources);
      if (served.length === 0) continue;
      priority = pipeline.priority;
      names.push(pipeline.name);
      sources.push(...served);
    }
    if (names.length) return { kind: 'sources', pipelines: names, sources };
  }
  if (logsource.product !== undefined && set.products.has(logsource.product)) {
    return { kind: 'product', product: logsource.product, mapped: !specific };
  }
  return { kind: 'unclaimed' };
}
