import { stat } from 'node:fs/promises';
import type { VigilError } from '../core/index.js';
import type { Level, RuleSet } from '../sigma/index.js';
import { HuntCollector, UnitEvaluator, type UnitResult } from './collector.js';
import type { Detection } from './detection.js';
import type { DetectionEngine } from './engine.js';
import { runOrdered } from './parallel.js';
import type { HuntSummary } from './summary.js';
import { workUnits } from './units.js';

export interface HuntProgress {
  bytes: number;
  totalBytes: number;
  events: number;
  detections: number;
}

export interface HuntOptions {
  engine: DetectionEngine;
  ruleSet: RuleSet;
  /** Detections below this level are not reported (correlations still see their rules' matches). */
  minLevel?: Level;
  onDetection: (detection: Detection) => void;
  /** Unreadable files and records: reported, skipped, and the hunt goes on. */
  onError?: (error: VigilError) => void;
  onProgress?: (progress: HuntProgress) => void;
  /**
   * Worker threads that parse and detect (default 1: all on this thread). Each builds its own
   * engine from the rule set, with these pipelines.
   */
  threads?: number;
  pipelines?: { files: string[]; builtin: boolean };
}

/**
 * Reads every file, runs every event through the rules (on this thread or on workers, results
 * kept in file and record order), then runs the correlations over the matches that feed them, in
 * time order since files are not. Returns the run's summary.
 */
export async function hunt(files: readonly string[], options: HuntOptions): Promise<HuntSummary> {
  const started = performance.now();
  const { engine, ruleSet } = options;
  const collector = new HuntCollector(ruleSet, options);
  const sizes = await Promise.all(
    files.map((file) =>
      stat(file)
        .then((s) => s.size)
        .catch(() => 0),
    ),
  );
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const units = workUnits(files, sizes, {
    onError: (error) => collector.problem(error),
    onProgress: (bytes) =>
      options.onProgress?.({ bytes, totalBytes, events: collector.events, detections: collector.detections }),
  });
  const minLevel = options.minLevel ?? 'informational';
  await runOrdered<UnitResult>(
    units,
    options.threads ?? 1,
    {
      kind: 'hunt',
      ruleSet: { rules: ruleSet.rules, correlations: ruleSet.correlations },
      pipelines: options.pipelines?.files ?? [],
      builtinPipeline: options.pipelines?.builtin ?? true,
      minLevel,
    },
    () => {
      const evaluator = new UnitEvaluator(engine, ruleSet, minLevel);
      return (unit) => evaluator.evaluate(unit);
    },
    (result) => collector.add(result),
  );
  return collector.finish({
    files: files.length,
    bytes: totalBytes,
    durationMs: performance.now() - started,
  });
}
