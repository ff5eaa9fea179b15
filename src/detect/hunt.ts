import { stat } from 'node:fs/promises';
import type { Locate, VigilError } from '../core/index.js';
import { type EventWatch, HuntCollector, UnitEvaluator, type UnitResult, type Watched } from './collector.js';
import type { Detection } from './detection.js';
import { runOrdered } from './parallel.js';
import type { EventScope, ReportScope } from './scope.js';
import { type DetectionSetup, loadDetectionSetup, ruleSetDigest, type SetupOptions } from './setup.js';
import type { HuntSummary } from './summary.js';
import { type WorkUnit, workUnits } from './units.js';

export interface HuntProgress {
  bytes: number;
  totalBytes: number;
  events: number;
  detections: number;
}

/** What to hunt with and how; the report scope says which rules' detections are reported. */
export interface HuntOptions extends ReportScope {
  /** The rules, pipelines and placeholders to hunt with; worker threads load them from there. */
  setup: SetupOptions;
  /** This thread's copy of them, when the caller has loaded it already (else it is loaded here). */
  loaded?: DetectionSetup;
  /** Told once this thread has its rules, before any event is read. */
  onRulesLoaded?: (setup: DetectionSetup) => void;
  /** The events to look at (time window, hosts); the others are left out before detection. */
  scope?: EventScope;
  onDetection: (detection: Detection) => void;
  /** Unreadable files and records: reported, skipped, and the hunt goes on. */
  onError?: (error: VigilError) => void;
  onProgress?: (progress: HuntProgress) => void;
  /** Called between units; a promise it returns (output not keeping up) holds the hunt back until it settles. */
  pace?: () => Promise<void> | undefined;
  /**
   * Threads that parse and detect (default 1: all on this thread). Each worker loads and
   * compiles its own copy of the rules, at the same time as this thread.
   */
  threads?: number;
  /** Other work on every event (indicators, channels), done where events are read. */
  watch?: EventWatch;
  /** What the watch saw, unit by unit in file and record order. */
  onWatched?: (watched: Watched) => void;
  /** Places addresses for the correlations that need it (velocity, `|country`). */
  locate?: Locate;
}

/**
 * Reads every file, runs every event through the rules (on this thread or on workers, results
 * kept in file and record order), then runs the correlations over the matches that feed them, in
 * time order since files are not. Returns the run's summary.
 */
export async function hunt(files: readonly string[], options: HuntOptions): Promise<HuntSummary> {
  const sizes = await Promise.all(
    files.map((file) =>
      stat(file)
        .then((s) => s.size)
        .catch(() => 0),
    ),
  );
  return huntUnits(
    (progress) =>
      workUnits(files, sizes, {
        onError: (error) => progress.problem(error),
        onProgress: (bytes) => progress.bytes(bytes),
      }),
    { files, totalBytes: sizes.reduce((a, b) => a + b, 0) },
    options,
  );
}

/** What a source of units tells the hunt as it reads. */
export interface UnitProgress {
  problem(error: VigilError): void;
  bytes(read: number): void;
}

/**
 * A hunt over units from anywhere (files, or the service's stored events): the units are read only
 * once this thread has its rules, from the source `units` makes.
 */
export async function huntUnits(
  units: (progress: UnitProgress) => AsyncIterable<WorkUnit>,
  input: { files: readonly string[]; totalBytes: number },
  options: HuntOptions,
): Promise<HuntSummary> {
  const started = performance.now();
  const report: ReportScope = {
    minLevel: options.minLevel,
    levels: options.levels,
    statuses: options.statuses,
    excludeStatuses: options.excludeStatuses,
  };
  // Made once this thread has its rules; units are read only after that.
  let collector: HuntCollector | undefined;
  let digest = '';
  const source = units({
    problem: (error) => collector!.problem(error),
    bytes: (bytes) =>
      options.onProgress?.({
        bytes,
        totalBytes: input.totalBytes,
        events: collector!.events,
        detections: collector!.detections,
      }),
  });
  await runOrdered<UnitResult>(
    source,
    options.threads ?? 1,
    { kind: 'hunt', setup: options.setup, report, scope: options.scope, watch: options.watch },
    async () => {
      const setup = options.loaded ?? (await loadDetectionSetup(options.setup));
      options.onRulesLoaded?.(setup);
      digest = ruleSetDigest(setup.ruleSet);
      collector = new HuntCollector(setup.ruleSet, options);
      const evaluator = new UnitEvaluator(setup.engine, setup.ruleSet, report, options.watch, options.scope);
      return (unit) => evaluator.evaluate(unit);
    },
    (result) => {
      collector!.add(result);
      return options.pace?.();
    },
    { acceptWorkers: (readiness) => readiness.every((info) => info === digest) },
  );
  return collector!.finish({
    files: input.files,
    bytes: input.totalBytes,
    durationMs: performance.now() - started,
  });
}
