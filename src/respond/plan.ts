import { parseAddress } from '../core/index.js';
import type { AlertFacts, InputType, Mode, Playbook, Step } from './model.js';

/** One step of a plan: what would be done, with what, how far on its own, or why not at all. */
export interface PlannedStep {
  name: string;
  kind: Step['kind'];
  /** The connector action; `enrich.LOOKUP` for a lookup, `decide` for a decision. */
  action: string;
  mode: Mode;
  params: Record<string, string>;
  ttlMs?: number;
  /** Alert, playbook and step: carrying a step out twice under one key does it once. */
  key: string;
  /** Why the step does not run (a condition, an input that is missing or not of its type). */
  skipped?: string;
}

export interface Plan {
  playbook: string;
  alert: { id: number | string; tenant: string; rule: string; level: string; host: string };
  /** Each input's value, or why it has none. */
  inputs: Record<string, { value?: string; problem?: string }>;
  steps: PlannedStep[];
}

/** Why a playbook is not meant for an alert (the first part of its trigger that fails), or undefined. */
export function triggerProblem(playbook: Playbook, alert: AlertFacts): string | undefined {
  const t = playbook.trigger;
  if (t.tenants.length && !t.tenants.includes(alert.tenant))
    return `it is for tenants ${t.tenants.join(', ')}, not ${alert.tenant}`;
  if (t.levels.length && !t.levels.includes(alert.rule.level))
    return `it is for levels ${t.levels.join(', ')}, and the alert is ${alert.rule.level}`;
  if (
    t.rules.length &&
    !t.rules.some((r) => r === alert.rule.id || r.toLowerCase() === alert.rule.title.toLowerCase())
  )
    return `it is for the rules ${t.rules.join(', ')}`;
  if (
    t.techniques.length &&
    !t.techniques.some((wanted) =>
      alert.techniques.some((id) => id === wanted || id.startsWith(`${wanted}.`)),
    )
  )
    return `it is for techniques ${t.techniques.join(', ')}, and the alert has ${alert.techniques.join(', ') || 'none'}`;
  if (t.tags.length) {
    const carried = new Set([
      ...alert.techniques.map((id) => `attack.${id.toLowerCase()}`),
      ...alert.tactics.map((tactic) => `attack.${tactic.toLowerCase()}`),
    ]);
    const parentOf = (tag: string) => tag.replace(/\.\d{3}$/, '');
    if (!t.tags.some((tag) => carried.has(tag) || [...carried].some((c) => parentOf(c) === tag)))
      return `it is for tags ${t.tags.join(', ')}`;
  }
  return undefined;
}

/** Whether a playbook is meant for an alert: every part of its trigger that is given holds. */
export function triggers(playbook: Playbook, alert: AlertFacts): boolean {
  return triggerProblem(playbook, alert) === undefined;
}

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a value is not of a type, or undefined when it is: no action is taken on a malformed value. */
export function typeProblem(type: InputType, value: string): string | undefined {
  switch (type) {
    case 'ip':
      return parseAddress(value) ? undefined : `'${value}' is not an IP address`;
    case 'domain':
      return HOSTNAME.test(value) && value.includes('.') ? undefined : `'${value}' is not a domain name`;
    case 'host':
      return HOSTNAME.test(value) ? undefined : `'${value}' is not a host name`;
    case 'hash':
      return /^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i.test(value)
        ? undefined
        : `'${value}' is not an MD5, SHA-1 or SHA-256`;
    case 'account':
      return value !== '' && value !== '-' && value.length <= 256 && !CONTROL.test(value)
        ? undefined
        : `'${value}' is not an account name`;
    case 'text':
      return value.length <= 16_384 ? undefined : 'the text is longer than 16 KiB';
  }
}
