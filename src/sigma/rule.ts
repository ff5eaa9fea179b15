import { z } from 'zod/v3';
import { type Detection, type DetectionOptions, parseDetection } from './detection.js';
import { atPath, SigmaError, type YamlPath } from './errors.js';
import { isPlainMap } from './yaml.js';

export const STATUSES = ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] as const;
export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Status = (typeof STATUSES)[number];
export type Level = (typeof LEVELS)[number];

export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
  'value_median',
] as const;
/**
 * Vigil's extensions to Sigma correlations, for what Sigma cannot say: judged match by match against
 * what the group did before (where it was, which values and hours it had, when it was last seen).
 */
export const BASELINE_CORRELATION_TYPES = ['velocity', 'rare_value', 'rare_hour', 'dormant'] as const;
export type BaselineCorrelationType = (typeof BASELINE_CORRELATION_TYPES)[number];
export type CorrelationType = (typeof CORRELATION_TYPES)[number] | BaselineCorrelationType;

export function isBaselineType(type: CorrelationType): type is BaselineCorrelationType {
  return (BASELINE_CORRELATION_TYPES as readonly string[]).includes(type);
}

export interface RuleOrigin {
  file: string;
  /** Line where the rule's YAML document starts. */
  line: number;
  /** 1-based index of the document in a multi-document file. */
  document: number;
}

export interface LogSource {
  category?: string;
  product?: string;
  service?: string;
  definition?: string;
}

export interface RuleMeta {
  id?: string;
  name?: string;
  title: string;
  status?: Status;
  level?: Level;
  description?: string;
  author?: string;
  date?: string;
  modified?: string;
  tags: string[];
  references: string[];
  falsepositives: string[];
  fields: string[];
  related: { id: string; type: string }[];
  /** SigmaHQ's pointer to the rule's regression test descriptor. */
  regressionTestsPath?: string;
  origin: RuleOrigin;
}

export interface DetectionRule extends RuleMeta {
  kind: 'detection';
  logsource: LogSource;
  detection: Detection;
}

export interface CorrelationCondition {
  /** All must hold: `gt: 100` and `lte: 200` is a range. */
  comparisons: { op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq'; value: number }[];
  /** The field(s) aggregated by value_* types. */
  fields: string[];
  /** For value_percentile: which percentile (0-100). */
  percentile?: number;
  /** rare_value: the fields written `FIELD|country`, whose address counts by its country. */
  countryFields?: string[];
  /** rare_value, rare_hour: how many earlier matches a group needs before it is judged. */
  history?: number;
  /** velocity: places closer than this (km) never count as travel. */
  minDistanceKm?: number;
  /** velocity by coordinates: fields that name the place (city, country), for the detail. */
  placeNameFields?: string[];
}

export interface Correlation {
  type: CorrelationType;
  /** References to rules or correlations, by id or name, as written. */
  rules: string[];
  groupBy: string[];
  timespanMs: number;
  timespan: string;
  condition: CorrelationCondition;
  /** alias -> rule reference -> field in that rule's events. */
  aliases: Record<string, Record<string, string>>;
}

export interface CorrelationRule extends RuleMeta {
  kind: 'correlation';
  correlation: Correlation;
  /** Whether the referenced rules also report their own matches. */
  generate: boolean;
}

export interface FilterRule {
  kind: 'filter';
  id?: string;
  title: string;
  description?: string;
  logsource: LogSource;
  /** Rules the filter applies to; 'all' applies it to every rule of a matching log source. */
  rules: string[] | 'all';
  detection: Detection;
  origin: RuleOrigin;
}

export type AnyRule = DetectionRule | CorrelationRule | FilterRule;

const optionalText = z.string().nullish();
const textList = z
  .union([z.string(), z.array(z.union([z.string(), z.number()]))])
  .nullish()
  .transform((value) => (value == null ? [] : Array.isArray(value) ? value.map(String) : [value]));

const metaSchema = z.object({
  title: z.string().min(1).max(256),
  id: z.union([z.string(), z.number()]).nullish(),
  name: optionalText,
  status: z.enum(STATUSES).nullish(),
  level: z.enum(LEVELS).nullish(),
  description: optionalText,
  author: optionalText,
  license: optionalText,
  taxonomy: optionalText,
  date: z.union([z.string(), z.number()]).nullish(),
  modified: z.union([z.string(), z.number()]).nullish(),
  tags: textList,
  references: textList,
  falsepositives: textList,
  fields: textList,
  scope: textList,
  related: z
    .array(z.object({ id: z.union([z.string(), z.number()]), type: z.string() }))
    .nullish()
    .transform((value) => value ?? []),
  regression_tests_path: optionalText,
});

const logsourceSchema = z.object({
  category: optionalText,
  product: optionalText,
  service: optionalText,
  definition: z.unknown().optional(),
});

function check<T extends z.ZodTypeAny>(schema: T, data: unknown, path: YamlPath = []): z.output<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const issuePath = [...path, ...(issue.path as (string | number)[])];
  const where = issuePath.length ? issuePath.join('.') : 'document';
  throw new SigmaError('SIGMA_SCHEMA', issueMessage(issue), { field: where }, issuePath);
}

function issueMessage(issue: z.ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return 'is required';
  return issue.message;
}

function meta(data: Record<string, unknown>, origin: RuleOrigin): RuleMeta {
  const m = check(metaSchema, data);
  const defined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;
  return {
    id: m.id == null ? undefined : String(m.id),
    name: defined(m.name),
    title: m.title,
    status: defined(m.status),
    level: defined(m.level),
    description: defined(m.description),
    author: defined(m.author),
    date: m.date == null ? undefined : String(m.date),
    modified: m.modified == null ? undefined : String(m.modified),
    tags: m.tags,
    references: m.references,
    falsepositives: m.falsepositives,
    fields: m.fields,
    related: m.related.map((r) => ({ id: String(r.id), type: r.type })),
    regressionTestsPath: defined(m.regression_tests_path),
    origin,
  };
}

function logsource(data: unknown, path: YamlPath): LogSource {
  if (!isPlainMap(data)) throw new SigmaError('SIGMA_SCHEMA', `${path.join('.')}: must be a map`, {}, path);
  const ls = check(logsourceSchema, data, path);
  const out: LogSource = {};
  if (ls.category) out.category = ls.category;
  if (ls.product) out.product = ls.product;
  if (ls.service) out.service = ls.service;
  if (typeof ls.definition === 'string') out.definition = ls.definition;
  return out;
}

/** Turns one YAML document into a rule, correlation or filter; throws SigmaError with the path at fault. */
export function parseRuleDocument(data: unknown, origin: RuleOrigin, options: DetectionOptions): AnyRule {
  if (!isPlainMap(data)) throw new SigmaError('SIGMA_SCHEMA', 'a rule document must be a map', {}, []);
  if ('action' in data) {
    throw new SigmaError('SIGMA_SCHEMA', `action: unknown collection action '${String(data.action)}'`, {}, [
      'action',
    ]);
  }
  if ('correlation' in data) return parseCorrelationRule(data, origin);
  if ('filter' in data) return parseFilterRule(data, origin, options);
  if (!('detection' in data)) {
    throw new SigmaError(
      'SIGMA_SCHEMA',
      "the document has no 'detection', 'correlation' or 'filter' section",
      {},
      [],
    );
  }
  const m = meta(data, origin);
  if (!('logsource' in data)) throw new SigmaError('SIGMA_SCHEMA', 'logsource: is required', {}, []);
  return {
    ...m,
    kind: 'detection',
    logsource: logsource(data.logsource, ['logsource']),
    detection: parseDetection(data.detection, options),
  };
}

const TIMESPAN = /^(\d+)([smhdwMy])$/;
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

export function parseTimespan(text: string): number | undefined {
  const match = TIMESPAN.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

const COMPARISON_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

const correlationSchema = z.object({
  type: z.enum([...CORRELATION_TYPES, ...BASELINE_CORRELATION_TYPES]),
  rules: z.union([z.string(), z.array(z.string()).min(1)]),
  'group-by': z.union([z.string(), z.array(z.string())]).nullish(),
  timespan: z.string(),
  condition: z.record(z.string(), z.unknown()).nullish(),
  aliases: z.record(z.string(), z.record(z.string(), z.string())).nullish(),
  generate: z.boolean().nullish(),
});

function parseCorrelationRule(data: Record<string, unknown>, origin: RuleOrigin): CorrelationRule {
  const m = meta(data, origin);
  const c = check(correlationSchema, data.correlation, ['correlation']);
  const generate = check(z.boolean().nullish(), data.generate, ['generate']) ?? c.generate ?? false;
  const timespanMs = parseTimespan(c.timespan);
  if (timespanMs === undefined || timespanMs === 0) {
    throw new SigmaError(
      'SIGMA_CORRELATION',
      `timespan '${c.timespan}' is not a number followed by s, m, h, d, w, M or y`,
      {},
      ['correlation', 'timespan'],
    );
  }
  const rules = typeof c.rules === 'string' ? [c.rules] : c.rules;
  const condition = atPath(['correlation', 'condition'], () =>
    correlationCondition(c.type, c.condition, rules.length),
  );
  return {
    ...m,
    kind: 'correlation',
    generate,
    correlation: {
      type: c.type,
      rules,
      groupBy:
        c['group-by'] == null ? [] : typeof c['group-by'] === 'string' ? [c['group-by']] : c['group-by'],
      timespanMs,
      timespan: c.timespan,
      condition,
      aliases: c.aliases ?? {},
    },
  };
}

/** Defaults of the Vigil condition keys (see BASELINE_CORRELATION_TYPES). */
const DEFAULT_HISTORY = { rare_value: 5, rare_hour: 20 } as const;
const DEFAULT_MIN_DISTANCE_KM = 100;

function correlationCondition(
  type: CorrelationType,
  raw: Record<string, unknown> | null | undefined,
  ruleCount: number,
): CorrelationCondition {
  const temporal = type === 'temporal' || type === 'temporal_ordered';
  if (raw == null) {
    if (temporal) return { comparisons: [{ op: 'gte', value: ruleCount }], fields: [] };
    throw new SigmaError('SIGMA_CORRELATION', `a ${type} correlation needs a condition`);
  }
  const comparisons: CorrelationCondition['comparisons'] = [];
  let fields: string[] = [];
  let percentile: number | undefined;
  let history: number | undefined;
  let minDistanceKm: number | undefined;
  let placeNameFields: string[] | undefined;
  for (const [key, value] of Object.entries(raw)) {
    if ((COMPARISON_OPS as readonly string[]).includes(key)) {
      if (typeof value !== 'number')
        throw new SigmaError('SIGMA_CORRELATION', `condition ${key} needs a number`);
      comparisons.push({ op: key as CorrelationCondition['comparisons'][number]['op'], value });
    } else if (key === 'field') {
      if (typeof value === 'string') fields = [value];
      else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) fields = value;
      else
        throw new SigmaError('SIGMA_CORRELATION', 'condition field must be a field name or a list of them');
    } else if (key === 'percentile') {
      if (typeof value !== 'number' || value < 0 || value > 100) {
        throw new SigmaError('SIGMA_CORRELATION', 'condition percentile must be a number from 0 to 100');
      }
      percentile = value;
    } else if (key === 'history' && (type === 'rare_value' || type === 'rare_hour')) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
        throw new SigmaError(
          'SIGMA_CORRELATION',
          'condition history must be a whole number of matches, 1 or more',
        );
      history = value;
    } else if (key === 'min_distance' && type === 'velocity') {
      if (typeof value !== 'number' || !(value >= 0))
        throw new SigmaError('SIGMA_CORRELATION', 'condition min_distance must be a number of kilometres');
      minDistanceKm = value;
    } else if (key === 'place_name' && type === 'velocity') {
      if (typeof value === 'string') placeNameFields = [value];
      else if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'string'))
        placeNameFields = value;
      else
        throw new SigmaError(
          'SIGMA_CORRELATION',
          'condition place_name must be a field name or a list of them (city, then country)',
        );
    } else {
      throw new SigmaError(
        'SIGMA_CORRELATION',
        `unknown condition key '${key}' (expected gt, gte, lt, lte, eq, neq, field${conditionExtras(type)})`,
      );
    }
  }
  if (comparisons.length === 0)
    throw new SigmaError('SIGMA_CORRELATION', 'the condition has no comparison (gt, gte, lt, lte, eq, neq)');
  if (isBaselineType(type))
    return baselineCondition(type, comparisons, fields, { history, minDistanceKm, placeNameFields });
  const needsField = type === 'value_count' || type.startsWith('value_');
  if (needsField && fields.length === 0) {
    throw new SigmaError('SIGMA_CORRELATION', `a ${type} correlation needs 'field' in its condition`);
  }
  if (type.startsWith('value_') && type !== 'value_count' && fields.length > 1) {
    throw new SigmaError('SIGMA_CORRELATION', `a ${type} correlation aggregates one field`);
  }
  if (fields.some((field) => field.includes('|')))
    throw new SigmaError(
      'SIGMA_CORRELATION',
      "a field modifier ('|country') is for rare_value correlations only",
    );
  return { comparisons, fields, percentile };
}

function conditionExtras(type: CorrelationType): string {
  if (type === 'rare_value' || type === 'rare_hour') return ' or history';
  if (type === 'velocity') return ', min_distance or place_name';
  return type.startsWith('value_') ? ' or percentile' : '';
}

function baselineCondition(
  type: BaselineCorrelationType,
  comparisons: CorrelationCondition['comparisons'],
  fields: string[],
  extras: Pick<CorrelationCondition, 'history' | 'minDistanceKm' | 'placeNameFields'>,
): CorrelationCondition {
  const { history, minDistanceKm, placeNameFields } = extras;
  switch (type) {
    case 'velocity':
      if (fields.length !== 1 && fields.length !== 2)
        throw new SigmaError(
          'SIGMA_CORRELATION',
          "a velocity correlation needs 'field': an address field (placed with the geolocation database) or [latitude, longitude]",
        );
      if (fields.some((field) => field.includes('|')))
        throw new SigmaError('SIGMA_CORRELATION', 'velocity fields take no modifier');
      if (placeNameFields && fields.length === 1)
        throw new SigmaError(
          'SIGMA_CORRELATION',
          'place_name is for places given as [latitude, longitude]: the geolocation database names its own',
        );
      return {
        comparisons,
        fields,
        minDistanceKm: minDistanceKm ?? DEFAULT_MIN_DISTANCE_KM,
        ...(placeNameFields && { placeNameFields }),
      };
    case 'rare_value': {
      if (fields.length === 0)
        throw new SigmaError('SIGMA_CORRELATION', "a rare_value correlation needs 'field' in its condition");
      const plain: string[] = [];
      const countryFields: string[] = [];
      for (const field of fields) {
        const [name, modifier, ...more] = field.split('|');
        if (more.length || (modifier !== undefined && modifier !== 'country') || !name)
          throw new SigmaError(
            'SIGMA_CORRELATION',
            `condition field '${field}': the only modifier is '|country' (the country of an address)`,
          );
        plain.push(name);
        if (modifier) countryFields.push(name);
      }
      return { comparisons, fields: plain, countryFields, history: history ?? DEFAULT_HISTORY.rare_value };
    }
    case 'rare_hour':
    case 'dormant':
      if (fields.length)
        throw new SigmaError('SIGMA_CORRELATION', `a ${type} correlation reads no field: remove 'field'`);
      return type === 'rare_hour'
        ? { comparisons, fields, history: history ?? DEFAULT_HISTORY.rare_hour }
        : { comparisons, fields };
  }
}

function parseFilterRule(
  data: Record<string, unknown>,
  origin: RuleOrigin,
  options: DetectionOptions,
): FilterRule {
  const title = check(z.string().min(1).max(256), data.title, ['title']);
  const id = data.id == null ? undefined : String(data.id);
  if (!('logsource' in data)) throw new SigmaError('SIGMA_SCHEMA', 'logsource: is required', {}, []);
  const section = data.filter;
  if (!isPlainMap(section)) throw new SigmaError('SIGMA_FILTER', 'filter must be a map', {}, ['filter']);
  const { rules: rawRules, ...detectionPart } = section;
  let rules: string[] | 'all';
  if (rawRules == null || rawRules === 'any' || (Array.isArray(rawRules) && rawRules.length === 0))
    rules = 'all';
  else if (typeof rawRules === 'string') rules = [rawRules];
  else if (Array.isArray(rawRules) && rawRules.every((r) => typeof r === 'string' || typeof r === 'number')) {
    rules = rawRules.map(String);
  } else {
    throw new SigmaError('SIGMA_FILTER', 'filter.rules must be a list of rule ids or names', {}, [
      'filter',
      'rules',
    ]);
  }
  return {
    kind: 'filter',
    id,
    title,
    description: typeof data.description === 'string' ? data.description : undefined,
    logsource: logsource(data.logsource, ['logsource']),
    rules,
    detection: parseDetection(detectionPart, options, ['filter']),
    origin,
  };
}

/** ATT&CK references in a rule's tags: technique ids (T1059.001), and tactics by short name. */
export function attackTags(tags: readonly string[]): { techniques: string[]; tactics: string[] } {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const tag of tags) {
    const lower = tag.toLowerCase();
    if (!lower.startsWith('attack.')) continue;
    const rest = lower.slice(7);
    if (/^t\d{4}(\.\d{3})?$/.test(rest)) techniques.push(rest.toUpperCase());
    else if (/^[gs]\d{4}$/.test(rest))
      continue; // groups and software
    else tactics.push(rest.replace(/_/g, '-'));
  }
  return { techniques, tactics };
}
