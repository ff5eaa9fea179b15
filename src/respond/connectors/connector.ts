/**
 * A connector carries out the actions of one capability (`firewall`, `notify`, ...) against one
 * product. It is given validated parameters only; what it sends is described for dry runs without
 * secrets, and it says what it did in words fit for the audit log.
 */
export interface Connector {
  readonly capability: string;
  /** Which product, for people: "nftables set inet vigil blocked_v4". */
  readonly target: string;
  /** The request an action would send, without secrets. */
  describe(action: string, params: Readonly<Record<string, string>>, ttlMs?: number): string;
  run(action: string, params: Readonly<Record<string, string>>, options: RunOptions): Promise<ActionResult>;
  /**
   * Undoes a revertible action, given what its run kept; undoing what is already undone is not an
   * error, and what was so before the action (an account already disabled) stays so.
   */
  revert?(
    action: string,
    params: Readonly<Record<string, string>>,
    kept: Readonly<Record<string, string>>,
    options: RunOptions,
  ): Promise<string>;
}

export interface ActionResult {
  /** What was done, in words fit for the audit log. */
  result: string;
  /** What the revert needs to know of the state before (kept with the step's outcome). */
  kept?: Record<string, string>;
}

export interface RunOptions {
  signal: AbortSignal;
  ttlMs?: number;
  /** The step's key (tenant, alert, playbook, step): the same on every attempt and on its revert. */
  key: string;
}

/** A failure worth retrying (a timeout, a refused connection), as opposed to a refusal that will repeat. */
export class TransientFailure extends Error {}
