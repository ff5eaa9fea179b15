import { readFileSync } from 'node:fs';
import { collectFiles, describeError, VigilError } from '../core/index.js';
import { SigmaError } from './errors.js';
import { applyFilter, filterApplies } from './filters.js';
import {
  type AnyRule,
  type CorrelationRule,
  type DetectionRule,
  type FilterRule,
  parseRuleDocument,
} from './rule.js';
import { RuleCache } from './rule-cache.js';
import { parseSigmaYaml, resolveCollectionActions } from './yaml.js';

export interface LoadOptions {
  /** Values for `%name%` placeholders of `|expand`. */
  placeholders?: ReadonlyMap<string, readonly string[]>;
  /** Extra filters to apply (e.g. from `--filters`), on top of filter documents among the rules. */
  filters?: readonly FilterRule[];
  /** Folder to keep parsed rules in between runs (see RuleCache). */
  cacheDir?: string;
}

export interface RuleSet {
  /** Rule files read. */
  files: number;
  /** Detection rules, with the filters that apply to them already added. */
  rules: DetectionRule[];
  correlations: CorrelationRule[];
  filters: FilterRule[];
  /** Everything that could not be loaded, each with its file and line; the rest loaded fine. */
  errors: VigilError[];
  /** Things that load but deserve a look (duplicate ids, references to unknown rules). */
  warnings: VigilError[];
}

const RULE_EXTENSIONS = ['.yml', '.yaml'];

/** Reads rule files and folders (recursively). One broken rule never stops the others. */
export async function loadRules(paths: readonly string[], options: LoadOptions = {}): Promise<RuleSet> {
  const { parsed, files, errors } = await readRuleFiles(paths, options);
  return assembleRuleSet(parsed, files, errors, options);
}

/**
 * The rules of files and folders, parsed but not yet linked (see assembleRuleSet): the service
 * links a tenant's own rules with the global ones, which its filters and correlations may name.
 */
export async function readRuleFiles(
  paths: readonly string[],
  options: LoadOptions = {},
): Promise<{ parsed: AnyRule[]; files: number; errors: VigilError[] }> {
  const { files, errors, emptyFolders } = await collectFiles(paths, RULE_EXTENSIONS);
  for (const folder of emptyFolders)
    errors.push(new VigilError('NO_RULE_FILES', 'no .yml or .yaml files in this folder', { file: folder }));
  const parsed: AnyRule[] = [];
  const cache = options.cacheDir
    ? new RuleCache(options.cacheDir, JSON.stringify([...(options.placeholders ?? new Map())]))
    : undefined;
  const fresh: string[] = [];
  for (const file of files) {
    const kept = cache?.get(file);
    if (kept?.length) parsed.push(...kept);
    else fresh.push(file);
  }
  for (const [file, text] of readAll(fresh, errors)) {
    const result = parseRuleText(text, file, options);
    parsed.push(...result.rules);
    errors.push(...result.errors);
    // A file without a rule is a mistake worth telling (an empty file, a rule commented out).
    if (result.rules.length === 0 && result.errors.length === 0) {
      errors.push(
        new VigilError('RULE_EMPTY', text.trim() ? 'the file holds no rule' : 'the file is empty', { file }),
      );
    } else if (result.errors.length === 0) cache?.set(file, result.rules);
  }
  cache?.save();
  // Files in the order found, whichever way their rules came: rule order decides output order.
  const order = new Map(files.map((file, i) => [file, i]));
  parsed.sort(
    (a, b) => order.get(a.origin.file)! - order.get(b.origin.file)! || a.origin.document - b.origin.document,
  );
  return { parsed, files: files.length, errors };
}

/**
 * The text of every rule file. Read synchronously: thousands of small files read five times
 * faster so than through the thread pool, and loading rules is a start-up step, not a server loop.
 */
function readAll(files: string[], errors: VigilError[]): [string, string][] {
  const out: [string, string][] = [];
  for (const file of files) {
    try {
      out.push([file, readFileSync(file, 'utf8')]);
    } catch (error) {
      errors.push(
        new VigilError('FILE_UNREADABLE', `cannot read rule file: ${(error as Error).message}`, { file }),
      );
    }
  }
  return out;
}

/** Parses the YAML text of one rule file into rules; every failure is located and returned. */
export function parseRuleText(
  text: string,
  file: string,
  options: LoadOptions = {},
): { rules: AnyRule[]; errors: SigmaError[] } {
  const { documents, errors } = parseSigmaYaml(text, file);
  const rules: AnyRule[] = [];
  const placeholders = options.placeholders ?? new Map();
  for (const doc of resolveCollectionActions(documents)) {
    const origin = { file, line: doc.line, document: doc.index };
    try {
      rules.push(parseRuleDocument(doc.data, origin, { placeholders }));
    } catch (error) {
      if (!(error instanceof SigmaError)) {
        errors.push(new SigmaError('SIGMA_SCHEMA', describeError(error), { file, line: doc.line }));
        continue;
      }
      const line = error.path ? doc.lineOf(error.path) : doc.line;
      errors.push(error.at({ file, line }));
    }
  }
  return { rules, errors };
}

/**
 * Links what the files hold: correlations to the rules they name, filters onto their rules, and
 * warns about duplicate ids. Correlations whose references cannot be resolved are reported and dropped.
 */
export function assembleRuleSet(
  parsed: readonly AnyRule[],
  files: number,
  errors: VigilError[] = [],
  options: LoadOptions = {},
): RuleSet {
  const warnings: VigilError[] = [];
  const detections: DetectionRule[] = [];
  const correlations: CorrelationRule[] = [];
  const filters: FilterRule[] = [...(options.filters ?? [])];
  for (const rule of parsed) {
    if (rule.kind === 'detection') detections.push(rule);
    else if (rule.kind === 'correlation') correlations.push(rule);
    else filters.push(rule);
  }

  const byId = new Map<string, DetectionRule | CorrelationRule>();
  const byName = new Map<string, DetectionRule | CorrelationRule>();
  for (const rule of [...detections, ...correlations]) {
    for (const [key, index] of [
      [rule.id, byId],
      [rule.name, byName],
    ] as const) {
      if (key === undefined) continue;
      const existing = index.get(key);
      if (existing) {
        warnings.push(
          new SigmaError(
            'SIGMA_DUPLICATE',
            `${index === byId ? 'id' : 'name'} '${key}' is also used by ${existing.origin.file}:${existing.origin.line}; references resolve to that one`,
            { file: rule.origin.file, line: rule.origin.line },
          ),
        );
      } else {
        index.set(key, rule);
      }
    }
  }
  for (const rule of detections) {
    const missing = rule.detection.unresolvedPlaceholders;
    if (missing.length === 0) continue;
    warnings.push(
      new SigmaError(
        'SIGMA_PLACEHOLDER',
        `placeholder ${missing.map((p) => `%${p}%`).join(', ')} has no values, so the exclusion it belongs to excludes less; give them in a placeholder file (--placeholders FILE)`,
        { file: rule.origin.file, line: rule.origin.line },
      ),
    );
  }
  const resolve = (reference: string) => byId.get(reference) ?? byName.get(reference);

  const validCorrelations = correlations.filter((correlation) => {
    const missing = correlation.correlation.rules.filter((reference) => !resolve(reference));
    if (missing.length === 0) return true;
    errors.push(
      new SigmaError(
        'SIGMA_CORRELATION',
        `correlation.rules: no rule has the id or name ${missing.map((m) => `'${m}'`).join(', ')}`,
        {
          file: correlation.origin.file,
          line: correlation.origin.line,
          field: 'correlation.rules',
        },
      ),
    );
    return false;
  });
  const acyclic = withoutCycles(validCorrelations, resolve, errors);

  let rules = detections;
  filters.forEach((filter, ordinal) => {
    const targets = filter.rules === 'all' ? undefined : new Set(filter.rules.map((ref) => resolve(ref)));
    if (filter.rules !== 'all') {
      for (const reference of filter.rules) {
        if (!resolve(reference)) {
          warnings.push(
            new SigmaError('SIGMA_FILTER', `filter.rules: no rule has the id or name '${reference}'`, {
              file: filter.origin.file,
              line: filter.origin.line,
            }),
          );
        }
      }
    }
    rules = rules.map((rule) => {
      const original = byId.get(rule.id ?? '') ?? byName.get(rule.name ?? '');
      const named = targets === undefined || (original !== undefined && targets.has(original));
      return named && filterApplies(filter, rule) ? applyFilter(rule, filter, ordinal + 1) : rule;
    });
  });

  return { files, rules, correlations: acyclic, filters, errors, warnings };
}

/**
 * Correlations that name themselves, directly or through others, are reported and left out:
 * each would wait for its own results.
 */
function withoutCycles(
  correlations: readonly CorrelationRule[],
  resolve: (reference: string) => DetectionRule | CorrelationRule | undefined,
  errors: VigilError[],
): CorrelationRule[] {
  const inCycle = new Set<CorrelationRule>();
  const done = new Set<CorrelationRule>();
  const visit = (rule: CorrelationRule, path: CorrelationRule[]) => {
    const seenAt = path.indexOf(rule);
    if (seenAt >= 0) {
      for (const member of path.slice(seenAt)) inCycle.add(member);
      return;
    }
    if (done.has(rule)) return;
    path.push(rule);
    for (const reference of rule.correlation.rules) {
      const member = resolve(reference);
      if (member?.kind === 'correlation') visit(member, path);
    }
    path.pop();
    done.add(rule);
  };
  for (const rule of correlations) visit(rule, []);
  for (const rule of inCycle) {
    errors.push(
      new SigmaError(
        'SIGMA_CORRELATION',
        'correlation.rules: the correlation names itself, through the rules it names',
        {
          file: rule.origin.file,
          line: rule.origin.line,
          field: 'correlation.rules',
        },
      ),
    );
  }
  return correlations.filter((rule) => !inCycle.has(rule));
}
