import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod/v3';
import { VigilError } from '../core/index.js';
import { type PipelineSet, routeFor } from './pipeline.js';
import type { LogSource } from './rule.js';

/** How the log source of some rules reaches events, for `vigil rules check`. */
export interface LogSourceMapping {
  logsource: LogSource;
  rules: number;
  /**
   * `mapped`: a pipeline names its events; `product`: its rules name only a product and see all of
   * its events; `product-wide`: a pipeline knows the product but not this category or service, so
   * its rules see all the product's events; `unmapped`: no pipeline knows the product, its rules
   * see only events no pipeline recognizes; `any`: the rules name no log source.
   */
  state: 'mapped' | 'product' | 'product-wide' | 'unmapped' | 'any';
  /** The pipelines that map it (several of one priority may: Zeek's and Suricata's DNS). */
  pipelines?: string[];
  /** Why it is not mapped, when it is not. */
  reason?: string;
}

const gapsSchema = z.array(
  z.object({
    logsource: z.object({
      product: z.string().optional(),
      service: z.string().optional(),
      category: z.string().optional(),
    }),
    reason: z.string(),
  }),
);

export interface LogSourceGap {
  logsource: LogSource;
  reason: string;
}

/** Where Vigil keeps the reasons log sources are left unmapped (the same place from src/ and dist/). */
const GAPS_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'mappings',
  'unmapped-log-sources.yml',
);

/** Why Vigil maps no events to some log sources (no public format, a product it does not read yet). */
export async function loadLogSourceGaps(file = GAPS_FILE): Promise<LogSourceGap[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new VigilError(
      'FILE_UNREADABLE',
      `cannot read the unmapped log sources: ${(error as Error).message}`,
      {
        file,
      },
    );
  }
  const result = gapsSchema.safeParse(parse(text));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new VigilError('MAPPING_INVALID', `${issue.path.join('.')}: ${issue.message}`, { file });
  }
  return result.data;
}

const KEYS = ['product', 'category', 'service'] as const;

function sameLogsource(a: LogSource, b: LogSource): boolean {
  return KEYS.every((key) => a[key] === b[key]);
}

/** A gap that names this log source, or its product alone. */
function gapFor(gaps: readonly LogSourceGap[], logsource: LogSource): string | undefined {
  return (
    gaps.find((gap) => sameLogsource(gap.logsource, logsource))?.reason ??
    gaps.find(
      (gap) =>
        gap.logsource.product !== undefined &&
        gap.logsource.product === logsource.product &&
        gap.logsource.service === undefined &&
        gap.logsource.category === undefined,
    )?.reason
  );
}

/** Each log source the rules use, how many rules use it, and whether and how it reaches events. */
export function logSourceMappings(
  logsources: readonly LogSource[],
  pipelines: PipelineSet,
  gaps: readonly LogSourceGap[] = [],
): LogSourceMapping[] {
  const counted = new Map<string, { logsource: LogSource; rules: number }>();
  for (const logsource of logsources) {
    const own: LogSource = {};
    for (const key of KEYS) if (logsource[key] !== undefined) own[key] = logsource[key];
    const key = JSON.stringify(KEYS.map((k) => own[k] ?? null));
    const entry = counted.get(key);
    if (entry) entry.rules++;
    else counted.set(key, { logsource: own, rules: 1 });
  }
  return [...counted.values()]
    .map(({ logsource, rules }): LogSourceMapping => {
      const route = routeFor(pipelines, logsource);
      if (route.kind === 'sources') return { logsource, rules, state: 'mapped', pipelines: route.pipelines };
      if (route.kind === 'any') return { logsource, rules, state: 'any' };
      if (route.kind === 'product' && route.mapped) return { logsource, rules, state: 'product' };
      if (route.kind === 'product') {
        return {
          logsource,
          rules,
          state: 'product-wide',
          reason:
            gapFor(gaps, logsource) ??
            `no pipeline names the events of this ${logsource.service ? 'service' : 'category'}; its rules see every ${logsource.product} event`,
        };
      }
      return {
        logsource,
        rules,
        state: 'unmapped',
        reason:
          gapFor(gaps, logsource) ??
          (logsource.product
            ? `no pipeline recognizes ${logsource.product} events`
            : `no pipeline maps this ${logsource.category ? 'category' : 'service'}`),
      };
    })
    .sort(
      (a, b) => b.rules - a.rules || JSON.stringify(a.logsource).localeCompare(JSON.stringify(b.logsource)),
    );
}
