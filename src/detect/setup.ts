import type { VigilError } from '../core/index.js';
import {
  builtinPipelines,
  combinePipelines,
  loadPipeline,
  loadPlaceholders,
  loadRules,
  type Pipeline,
  type PipelineSet,
  type RuleSet,
} from '../sigma/index.js';
import { DetectionEngine } from './engine.js';

export interface SetupOptions {
  /** Rule files and folders. Filter and correlation documents among them apply too. */
  rules: readonly string[];
  /** Extra filter files (Sigma meta filters) to apply to the rules. */
  filters?: readonly string[];
  /** Extra pipeline files; they take precedence over the built-in Windows pipeline. */
  pipelines?: readonly string[];
  /** Leave out the built-in Windows pipeline (default: include it). */
  builtinPipeline?: boolean;
  /** Placeholder file for `|expand`. */
  placeholders?: string;
}

export interface DetectionSetup {
  ruleSet: RuleSet;
  pipelines: PipelineSet;
  engine: DetectionEngine;
  /** Rules that could not be loaded or compiled (the others are ready). */
  errors: VigilError[];
}

/** Rules, pipelines and placeholders loaded and compiled: what `hunt` and friends run with. */
export async function loadDetectionSetup(options: SetupOptions): Promise<DetectionSetup> {
  const pipelineList: Pipeline[] = options.builtinPipeline === false ? [] : await builtinPipelines();
  for (const file of options.pipelines ?? []) pipelineList.push(await loadPipeline(file));
  const pipelines = combinePipelines(pipelineList);
  const placeholders = new Map(pipelines.placeholders);
  if (options.placeholders)
    for (const [k, v] of await loadPlaceholders(options.placeholders)) placeholders.set(k, v);
  const extraFilters = options.filters?.length
    ? (await loadRules(options.filters, { placeholders })).filters
    : [];
  const ruleSet = await loadRules(options.rules, { placeholders, filters: extraFilters });
  const engine = new DetectionEngine(ruleSet.rules, pipelines);
  return { ruleSet, pipelines, engine, errors: [...ruleSet.errors, ...engine.errors] };
}
