import type { FieldValue } from '../core/index.js';
import type { Predicate } from './condition.js';
import type { LookupName } from './lookups.js';

/**
 * How far a playbook or a step may go on its own: `dry-run` writes the plan and every request it
 * would send, `approval` waits for an analyst, `auto` acts at once.
 */
export const MODES = ['dry-run', 'approval', 'auto'] as const;
export type Mode = (typeof MODES)[number];

/** What an input must look like before any action is taken on it. */
export const INPUT_TYPES = ['ip', 'domain', 'account', 'host', 'hash', 'text'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

/** What a playbook knows of an alert: the alert, and the fields its detections matched on. */
export interface AlertFacts {
  id: number | string;
  tenant: string;
  rule: { id: string | null; title: string; level: string };
  host: string;
  techniques: string[];
  tactics: string[];
  /** Fields of the alert's detections (matched, grouped on, or of the event), first value by name. */
  fields: Readonly<Record<string, FieldValue>>;
}

export interface Trigger {
  /** Rule ids or titles; empty: any rule. */
  rules: string[];
  /** Sigma-style tags (`attack.t1110.001`, `attack.credential-access`) the alert's techniques or tactics carry. */
  tags: string[];
  /** ATT&CK technique ids; a technique also matches its sub-techniques. */
  techniques: string[];
  levels: string[];
  tenants: string[];
}

export interface InputSpec {
  type: InputType;
  /** Where the value comes from, first present wins: `host`, `rule.title`, `fields.NAME`, ... */
  from: string[];
}

/** A test on an input or on the alert (`alert.level`, `alert.host`, `alert.rule`). */
export interface Condition {
  subject: string;
  equals?: string;
  in?: string[];
  notIn?: string[];
  inNetworks?: string[];
  notInNetworks?: string[];
}

interface StepCommon {
  name: string;
  /** The step runs only when every condition holds. */
  when: Condition[];
  line: number;
}

/** Acts or tells through a connector. */
export interface ActionStep extends StepCommon {
  kind: 'action';
  /** `capability.action`, e.g. `firewall.block_address` (see ACTIONS). */
  action: string;
  /** Parameters of the action, each a template over the inputs, the alert and earlier facts. */
  with: Record<string, string>;
  mode?: Mode;
  /** A containment's time to live: reverted when it ends. */
  ttlMs?: number;
}

/** Looks something up (see LOOKUPS); later steps read what it found as `STEP.FACT`. */
export interface EnrichStep extends StepCommon {
  kind: 'enrich';
  lookup: LookupName;
  with: Record<string, string>;
}

/**
 * Decides, when the run reaches it, whether later steps go on: `then` steps run only when the
 * condition holds, `else` steps only when it does not; when it cannot be decided, neither runs.
 */
export interface DecideStep extends StepCommon {
  kind: 'decide';
  condition: Predicate;
  /** The condition as written. */
  source: string;
  /** Steps that run only when the condition holds (the playbook's `then`). */
  ifHolds: string[];
  /** Steps that run only when it does not (the playbook's `else`). */
  ifNot: string[];
}

export type Step = ActionStep | EnrichStep | DecideStep;

export interface Playbook {
  name: string;
  description?: string;
  mode: Mode;
  trigger: Trigger;
  inputs: Record<string, InputSpec>;
  steps: Step[];
  /** How long an approval request stays open. */
  approvalTimeoutMs: number;
  origin: { file: string; line: number };
}
