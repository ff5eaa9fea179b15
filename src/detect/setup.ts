import { VigilError } from '../core/index.js';
import {
  builtinPipelines,
  combinePipelines,
  type DetectionRule,
  loadPipeline,
  loadPlaceholders,
  loadRules,
  type Pipeline,
  type PipelineSet,
  type RuleSet,
} from '../sigma/index.js';
import { referenceResolver } from './collector.js';
import { DetectionEngine } from './engine.js';
import { type ReportScope, reportsRule } from './scope.js';

export interface SetupOptions {
  /** Rule files and folders. Filter and correlation documents among them apply too. */
  rules: readonly string[];
  /** Extra filter files (Sigma meta filters) to apply to the rules. */
  filters?: readonly string[];
  /** Extra pipeline files; they take precedence over the built-in pipelines. */
  pipelines?: readonly string[];
  /** Leave out the built-in pipelines (default: include them). */
  builtinPipeline?: boolean;
  /** Placeholder file for `|expand`. */
  placeholders?: string;
  /** Folder to keep parsed rules in between runs: start-up in a fraction of the time. */
  ruleCache?: string;
  /**
   * Compile only the rules whose detections this scope reports, and those correlations read:
   * the others would run for nothing. Plain data, as the whole of these options: workers load
   * the same rules from it.
   */
  report?: ReportScope;
}

/** Rules and pipelines, loaded but not compiled: enough to know what rules say (tags, log sources). */
export interface RuleSetup {
  ruleSet: RuleSet;
  pipelines: PipelineSet;
  /** Rules that could not be loaded (the others are ready). */
  errors: VigilError[];
}

export interface DetectionSetup extends RuleSetup {
  engine: DetectionEngine;
  /** Detection rules the engine runs: all of them, or those the report scope needs. */
  running: number;
  /** Rules that could not be loaded or compiled (the others are ready). */
  errors: VigilError[];
}

/** Rules, pipelines and placeholders loaded and compiled: what `hunt` and friends run with. */
export async function loadDetectionSetup(options: SetupOptions): Promise<DetectionSetup> {
  const { ruleSet, pipelines } = await loadRuleSetup(options);
  const rules = options.report ? rulesToRun(ruleSet, options.report) : ruleSet.rules;
  const engine = new DetectionEngine(rules, pipelines);
  return { ruleSet, pipelines, engine, running: rules.length, errors: [...ruleSet.errors, ...engine.errors] };
}

/** The detection rules a report scope needs: those it reports, and those any correlation reads. */
function rulesToRun(ruleSet: RuleSet, report: ReportScope): DetectionRule[] {
  const resolve = referenceResolver(ruleSet);
  const read = new Set(ruleSet.correlations.flatMap((c) => c.correlation.rules.map(resolve)));
  const reports = reportsRule(report);
  return ruleSet.rules.filter((rule) => read.has(rule) || reports(rule));
}

/** The pipelines of a setup: its files over the built-in ones (unless left out). */
export async function loadSetupPipelines(
  options: Pick<SetupOptions, 'pipelines' | 'builtinPipeline'>,
): Promise<PipelineSet> {
  const pipelineList: Pipeline[] = options.builtinPipeline === false ? [] : await builtinPipelines();
  for (const file of options.pipelines ?? []) pipelineList.push(await loadPipeline(file));
  return combinePipelines(pipelineList);
}

/** Rules, pipelines and placeholders loaded, without the cost of compiling an engine. */
export async function loadRuleSetup(options: SetupOptions): Promise<RuleSetup> {
  const pipelines = await loadSetupPipelines(options);
  const placeholders = new Map(pipelines.placeholders);
  if (options.placeholders)
    for (const [k, v] of await loadPlaceholders(options.placeholders)) placeholders.set(k, v);
  const filterSet = options.filters?.length ? await loadRules(options.filters, { placeholders }) : undefined;
  const ruleSet = await loadRules(options.rules, {
    placeholders,
    filters: filterSet?.filters ?? [],
    cacheDir: options.ruleCache,
  });
  if (filterSet) {
    // A filter file that does not load is a rule that does not load: the user counts on it.
    ruleSet.errors.push(...filterSet.errors);
    ruleSet.warnings.push(...filterSet.warnings);
    for (const rule of [...filterSet.rules, ...filterSet.correlations]) {
      ruleSet.warnings.push(
        new VigilError(
          'NOT_A_FILTER',
          `'${rule.title}' is not a filter; --filters only takes filter documents`,
          {
            file: rule.origin.file,
            line: rule.origin.line,
          },
        ),
      );
    }
  }
  return { ruleSet, pipelines, errors: ruleSet.errors };
}

/**
 * A short digest of which rules a set holds, in order. Worker threads load the rules themselves
 * and refer to them by position: equal digests mean the positions mean the same rules (the
 * files did not change between two loads).
 */
export function ruleSetDigest(ruleSet: Pick<RuleSet, 'rules' | 'correlations'>): string {
  let hash = 0x811c9dc5;
  const add = (text: string) => {
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  };
  for (const rule of [...ruleSet.rules, ...ruleSet.correlations])
    add(`${rule.origin.file}:${rule.origin.document}:${rule.id ?? ''}:${rule.title}\n`);
  return `${ruleSet.rules.length}/${ruleSet.correlations.length}/${(hash >>> 0).toString(16)}`;
}
