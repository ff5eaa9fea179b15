import { cidrContains, type FieldValue, parseAddress, parseCidr } from '../core/index.js';
import { ACTIONS } from './actions.js';
import type { AlertFacts, Condition, InputType, Mode, Playbook } from './model.js';
import { fillTemplate, templateNames } from './template.js';

/** One step of a plan: what would be done, with what, how far on its own, or why not at all. */
export interface PlannedStep {
  name: string;
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

/** Whether a playbook is meant for an alert: every part of its trigger that is given holds. */
export function triggers(playbook: Playbook, alert: AlertFacts): boolean {
  const t = playbook.trigger;
  if (t.tenants.length && !t.tenants.includes(alert.tenant)) return false;
  if (t.levels.length && !t.levels.includes(alert.rule.level)) return false;
  if (
    t.rules.length &&
    !t.rules.some((r) => r === alert.rule.id || r.toLowerCase() === alert.rule.title.toLowerCase())
  )
    return false;
  if (
    t.techniques.length &&
    !t.techniques.some((wanted) =>
      alert.techniques.some((id) => id === wanted || id.startsWith(`${wanted}.`)),
    )
  )
    return false;
  if (t.tags.length) {
    const carried = new Set([
      ...alert.techniques.map((id) => `attack.${id.toLowerCase()}`),
      ...alert.tactics.map((tactic) => `attack.${tactic.toLowerCase()}`),
    ]);
    const parentOf = (tag: string) => tag.replace(/\.\d{3}$/, '');
    if (!t.tags.some((tag) => carried.has(tag) || [...carried].some((c) => parentOf(c) === tag)))
      return false;
  }
  return true;
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

function alertValue(alert: AlertFacts, source: string): FieldValue | undefined {
  if (source === 'host') return alert.host;
  if (source === 'tenant') return alert.tenant;
  if (source === 'rule.id') return alert.rule.id;
  if (source === 'rule.title') return alert.rule.title;
  if (source === 'rule.level') return alert.rule.level;
  if (source.startsWith('fields.')) return alert.fields[source.slice('fields.'.length)];
  return undefined;
}

function holds(condition: Condition, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (condition.equals !== undefined && value.toLowerCase() !== condition.equals.toLowerCase()) return false;
  if (condition.in && !condition.in.some((v) => v.toLowerCase() === value.toLowerCase())) return false;
  if (condition.notIn?.some((v) => v.toLowerCase() === value.toLowerCase())) return false;
  const inAny = (networks: string[]) =>
    networks.some((network) => {
      const cidr = parseCidr(network);
      return cidr !== undefined && cidrContains(cidr, value);
    });
  if (condition.inNetworks && !inAny(condition.inNetworks)) return false;
  if (condition.notInNetworks && inAny(condition.notInNetworks)) return false;
  return true;
}

/** A stricter mode wins: a step may ask for approval in an auto playbook, not skip it in one that asks. */
function stricter(a: Mode, b: Mode | undefined): Mode {
  if (b === undefined) return a;
  const order: Mode[] = ['dry-run', 'approval', 'auto'];
  return order[Math.min(order.indexOf(a), order.indexOf(b))]!;
}

/**
 * What a playbook would do for an alert: its inputs taken from the alert and checked against their
 * types, each step's parameters filled in, its mode, and the steps that will not run and why.
 * `ceiling` caps every mode (a hand run in dry-run plans without acting, whatever the playbook says).
 */
export function planFor(playbook: Playbook, alert: AlertFacts, ceiling: Mode = 'auto'): Plan {
  const values = new Map<string, string>([
    ['alert.id', String(alert.id)],
    ['alert.tenant', alert.tenant],
    ['alert.host', alert.host],
    ['alert.rule', alert.rule.title],
    ['alert.level', alert.rule.level],
    ['alert.techniques', alert.techniques.join(', ')],
  ]);
  const inputs: Plan['inputs'] = {};
  for (const [name, spec] of Object.entries(playbook.inputs)) {
    const found = spec.from
      .map((source) => alertValue(alert, source))
      .find((v) => v !== undefined && v !== null);
    if (found === undefined) {
      inputs[name] = { problem: `the alert has none of ${spec.from.join(', ')}` };
      continue;
    }
    const text = String(found).trim();
    const problem = typeProblem(spec.type, text);
    inputs[name] = problem ? { problem } : { value: text };
    if (!problem) values.set(name, text);
  }
  const steps = playbook.steps.map((step): PlannedStep => {
    const mode = stricter(stricter(playbook.mode, step.mode), ceiling);
    const params: Record<string, string> = {};
    for (const [param, template] of Object.entries(step.with)) params[param] = fillTemplate(template, values);
    const planned: PlannedStep = {
      name: step.name,
      action: step.action,
      mode,
      params,
      ttlMs: step.ttlMs,
      key: `${alert.tenant}:${alert.id}:${playbook.name}:${step.name}`,
    };
    const missing = Object.entries(step.with)
      .flatMap(([, template]) => templateNames(template))
      .filter((name) => !values.has(name));
    if (missing.length) {
      planned.skipped = `no usable value for ${[...new Set(missing)]
        .map((name) => `${name} (${inputs[name]?.problem ?? 'unknown'})`)
        .join(', ')}`;
      return planned;
    }
    const spec = ACTIONS[step.action]!;
    for (const [param, { type }] of Object.entries(spec.params)) {
      const problem = params[param] === undefined ? undefined : typeProblem(type, params[param]!);
      if (problem) {
        planned.skipped = `${param}: ${problem}`;
        return planned;
      }
    }
    const failed = step.when.find((condition) => !holds(condition, values.get(condition.subject)));
    if (failed)
      planned.skipped = `condition on ${failed.subject} does not hold (${values.get(failed.subject) ?? 'no value'})`;
    return planned;
  });
  return {
    playbook: playbook.name,
    alert: {
      id: alert.id,
      tenant: alert.tenant,
      rule: alert.rule.title,
      level: alert.rule.level,
      host: alert.host,
    },
    inputs,
    steps,
  };
}
