import type { Connector } from './connectors/connector.js';
import { TransientFailure } from './connectors/connector.js';
import type { Mode } from './model.js';
import type { Plan, PlannedStep } from './plan.js';

/** What became of a step: planned only, waiting for an analyst, skipped, done, or failed. */
export type StepState = 'planned' | 'awaiting-approval' | 'rejected' | 'skipped' | 'done' | 'failed';

export interface StepOutcome {
  step: string;
  action: string;
  key: string;
  mode: Mode;
  state: StepState;
  /** The request the step sends (or would send), without secrets. */
  request?: string;
  attempts: number;
  result?: string;
  error?: string;
  /** When a containment with a time to live is to be reverted (ISO 8601). */
  revertAt?: string;
  /** What the revert needs of the state before the action. */
  kept?: Record<string, string>;
  params: Record<string, string>;
}

export interface ExecuteOptions {
  connectors: ReadonlyMap<string, Connector>;
  /** Steps in approval mode are carried out (an analyst approved), or refused (`false`), or wait (undefined). */
  approval?: boolean;
  /** Attempts per step for failures that may pass (time-outs, refused connections). */
  attempts?: number;
  /** First wait between attempts, doubled each time. */
  backoffMs?: number;
  timeoutMs?: number;
  /** Steps already carried out, by key: not done twice. */
  alreadyDone?: (key: string) => boolean;
  /** Told of each outcome as it is settled, to record it before going on. */
  onOutcome?: (outcome: StepOutcome) => Promise<void> | void;
}

const capabilityOf = (action: string) => action.slice(0, action.indexOf('.'));
const verbOf = (action: string) => action.slice(action.indexOf('.') + 1);

async function attempt<T>(
  run: (signal: AbortSignal) => Promise<T>,
  options: Pick<ExecuteOptions, 'attempts' | 'backoffMs' | 'timeoutMs'>,
): Promise<{ value?: T; error?: string; attempts: number }> {
  const attempts = options.attempts ?? 3;
  let wait = options.backoffMs ?? 1000;
  for (let n = 1; ; n++) {
    try {
      return { value: await run(AbortSignal.timeout(options.timeoutMs ?? 30_000)), attempts: n };
    } catch (error) {
      const retry = error instanceof TransientFailure || (error as Error).name === 'TimeoutError';
      if (!retry || n >= attempts) return { error: (error as Error).message, attempts: n };
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait *= 2;
    }
  }
}

/**
 * Carries a plan out step by step, in order: dry-run steps are written as plans, approval steps
 * wait for (or take) an analyst's answer, auto steps act. Each step's outcome is recorded before
 * the next starts, so a crash leaves nothing done without a record; a failed step does not stop
 * the ones after it, since a notification should still go out when a block failed.
 */
export async function carryOut(plan: Plan, options: ExecuteOptions): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const step of plan.steps) {
    const outcome = await settleStep(step, options);
    await options.onOutcome?.(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

/** Settles one step as `carryOut` does (for a step decided later: an approval given, say). */
export async function settleStep(step: PlannedStep, options: ExecuteOptions): Promise<StepOutcome> {
  const connector = options.connectors.get(capabilityOf(step.action));
  const base: StepOutcome = {
    step: step.name,
    action: step.action,
    key: step.key,
    mode: step.mode,
    state: 'planned',
    attempts: 0,
    params: step.params,
    request: connector?.describe(verbOf(step.action), step.params, step.ttlMs),
  };
  if (step.skipped) return { ...base, state: 'skipped', result: step.skipped };
  if (step.mode === 'dry-run') return base;
  if (step.mode === 'approval' && options.approval === undefined)
    return { ...base, state: 'awaiting-approval' };
  if (step.mode === 'approval' && options.approval === false) return { ...base, state: 'rejected' };
  if (!connector)
    return { ...base, state: 'failed', error: `no connector is configured for ${capabilityOf(step.action)}` };
  if (options.alreadyDone?.(step.key))
    return { ...base, state: 'done', result: 'already carried out under this key' };
  const ran = await attempt(
    (signal) => connector.run(verbOf(step.action), step.params, { signal, ttlMs: step.ttlMs, key: step.key }),
    options,
  );
  if (ran.error !== undefined) return { ...base, state: 'failed', attempts: ran.attempts, error: ran.error };
  return {
    ...base,
    state: 'done',
    attempts: ran.attempts,
    result: ran.value!.result,
    ...(ran.value!.kept && { kept: ran.value!.kept }),
    ...(step.ttlMs !== undefined && { revertAt: new Date(Date.now() + step.ttlMs).toISOString() }),
  };
}

/** Undoes a step that was carried out (its time to live ended, or an analyst released it). */
export async function revert(
  outcome: Pick<StepOutcome, 'action' | 'params' | 'kept' | 'key'>,
  options: Pick<ExecuteOptions, 'connectors' | 'attempts' | 'backoffMs' | 'timeoutMs'>,
): Promise<{ result?: string; error?: string; attempts: number }> {
  const connector = options.connectors.get(capabilityOf(outcome.action));
  if (!connector?.revert) return { error: `nothing can undo ${outcome.action} here`, attempts: 0 };
  const undone = await attempt(
    (signal) =>
      connector.revert!(verbOf(outcome.action), outcome.params, outcome.kept ?? {}, {
        signal,
        key: outcome.key,
      }),
    options,
  );
  return { result: undone.value, error: undone.error, attempts: undone.attempts };
}
