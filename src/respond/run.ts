import { cidrContains, type FieldValue, parseCidr } from '../core/index.js';
import { ACTIONS } from './actions.js';
import { conditionNames, evaluateCondition, type FactValue, MissingValue, showFact } from './condition.js';
import { type Facts, LOOKUPS } from './lookups.js';
import type { AlertFacts, Condition, DecideStep, EnrichStep, Mode, Playbook, Step } from './model.js';
import { type Plan, type PlannedStep, typeProblem } from './plan.js';
import { fillTemplate, templateNames } from './template.js';

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

/** What a decision came to: it holds, it does not, or it could not be made (and why). */
export interface Verdict {
  holds?: boolean;
  error?: string;
  /** The decision and the values it read, as a person reads it. */
  explanation: string;
}

/**
 * One run of a playbook on an alert, step by step in order: the inputs are taken from the alert
 * once; each step is planned when the run reaches it, with what the enrich steps before it found and
 * what the decisions before it said. The caller carries the steps out: it hands each lookup's facts
 * back (`learn`) and has each decision made (`decide`) before it reaches the next step, so a
 * decision reads the facts of its own run, never a plan's guess.
 */
export class PlaybookRun {
  readonly inputs: Plan['inputs'] = {};
  /** Template values: inputs, alert values, facts as text. */
  private readonly values = new Map<string, string>();
  /** Condition values: inputs and alert values as text, facts as they are. */
  private readonly facts = new Map<string, FactValue>();
  /** Why a name has no value (an input the alert lacks, a lookup that failed or was skipped). */
  private readonly missing = new Map<string, string>();
  /** Steps a decision (or a skipped decision) ruled out, with the reason. */
  private readonly ruledOut = new Map<string, string>();

  constructor(
    readonly playbook: Playbook,
    readonly alert: AlertFacts,
    readonly ceiling: Mode = 'auto',
  ) {
    const own: [string, string][] = [
      ['alert.id', String(alert.id)],
      ['alert.tenant', alert.tenant],
      ['alert.host', alert.host],
      ['alert.rule', alert.rule.title],
      ['alert.level', alert.rule.level],
      ['alert.techniques', alert.techniques.join(', ')],
    ];
    for (const [name, value] of own) this.set(name, value);
    this.facts.set('alert.techniques', alert.techniques);
    for (const [name, spec] of Object.entries(playbook.inputs)) {
      const found = spec.from
        .map((source) => alertValue(alert, source))
        .find((v) => v !== undefined && v !== null);
      if (found === undefined) {
        this.inputs[name] = { problem: `the alert has none of ${spec.from.join(', ')}` };
        this.missing.set(name, this.inputs[name].problem!);
        continue;
      }
      const text = String(found).trim();
      const problem = typeProblem(spec.type, text);
      this.inputs[name] = problem ? { problem } : { value: text };
      if (problem) this.missing.set(name, problem);
      else this.set(name, text);
    }
  }

  private set(name: string, value: FactValue): void {
    this.facts.set(name, value);
    this.values.set(name, Array.isArray(value) ? value.join(', ') : String(value));
  }

  get alertSummary(): Plan['alert'] {
    const { alert } = this;
    return {
      id: alert.id,
      tenant: alert.tenant,
      rule: alert.rule.title,
      level: alert.rule.level,
      host: alert.host,
    };
  }

  keyOf(step: Step): string {
    return `${this.alert.tenant}:${this.alert.id}:${this.playbook.name}:${step.name}`;
  }

  /**
   * The run reaches a step: its plan, with why it is skipped when it is (a decision ruled it out,
   * a value it needs is missing or not of its type, a `when` condition fails). A skipped lookup
   * leaves its facts without value, and a skipped decision rules out what it governs.
   */
  reach(step: Step): PlannedStep {
    const planned = this.planOf(step);
    if (planned.skipped) this.skip(step, planned.skipped);
    return planned;
  }

  private planOf(step: Step): PlannedStep {
    const mode =
      step.kind === 'action'
        ? stricter(stricter(this.playbook.mode, step.mode), this.ceiling)
        : stricter(this.playbook.mode, this.ceiling);
    const templates = step.kind === 'decide' ? {} : step.with;
    const params: Record<string, string> = {};
    for (const [param, template] of Object.entries(templates))
      params[param] = fillTemplate(template, this.values);
    if (step.kind === 'decide') params.condition = step.source;
    const planned: PlannedStep = {
      name: step.name,
      kind: step.kind,
      action:
        step.kind === 'action' ? step.action : step.kind === 'enrich' ? `enrich.${step.lookup}` : 'decide',
      mode,
      params,
      ...(step.kind === 'action' && step.ttlMs !== undefined && { ttlMs: step.ttlMs }),
      key: this.keyOf(step),
    };
    const ruledOut = this.ruledOut.get(step.name);
    if (ruledOut) return { ...planned, skipped: ruledOut };
    const missing = [
      ...new Set(Object.values(templates).flatMap((template) => templateNames(template))),
    ].filter((name) => !this.values.has(name));
    if (missing.length)
      return {
        ...planned,
        skipped: `no usable value for ${missing.map((name) => `${name} (${this.missing.get(name) ?? 'unknown'})`).join(', ')}`,
      };
    const specs =
      step.kind === 'action'
        ? ACTIONS[step.action]!.params
        : step.kind === 'enrich'
          ? LOOKUPS[step.lookup].params
          : {};
    for (const [param, { type }] of Object.entries(specs)) {
      const problem = params[param] === undefined ? undefined : typeProblem(type, params[param]!);
      if (problem) return { ...planned, skipped: `${param}: ${problem}` };
    }
    const failed = step.when.find((condition) => !holds(condition, this.values.get(condition.subject)));
    if (failed)
      return {
        ...planned,
        skipped: `condition on ${failed.subject} does not hold (${this.values.get(failed.subject) ?? 'no value'})`,
      };
    return planned;
  }

  private skip(step: Step, reason: string): void {
    if (step.kind === 'enrich') this.forget(step, `${step.name} was skipped: ${reason}`);
    if (step.kind === 'decide')
      for (const target of [...step.ifHolds, ...step.ifNot])
        this.ruleOut(target, `decision ${step.name} was not made (${reason})`);
  }

  private forget(step: EnrichStep, why: string): void {
    for (const fact of Object.keys(LOOKUPS[step.lookup].facts)) this.missing.set(`${step.name}.${fact}`, why);
  }

  private ruleOut(target: string, reason: string): void {
    if (!this.ruledOut.has(target)) this.ruledOut.set(target, reason);
  }

  /** What a lookup found (its facts, checked), or why it found nothing. */
  learn(step: EnrichStep, outcome: { facts?: Facts; error?: string }): void {
    if (!outcome.facts) {
      this.forget(step, `${step.name} failed: ${outcome.error ?? 'no facts'}`);
      return;
    }
    for (const [fact, value] of Object.entries(outcome.facts)) this.set(`${step.name}.${fact}`, value);
  }

  /** Makes a decision on what the run knows now, and rules out the steps it says do not go on. */
  decide(step: DecideStep): Verdict {
    const read = conditionNames(step.condition)
      .map((name) => `${name} = ${showFact(this.facts.get(name))}`)
      .join(', ');
    let holds: boolean;
    try {
      holds = evaluateCondition(
        step.condition,
        (name) => this.facts.get(name),
        (name) => this.missing.get(name) ?? 'unknown',
      );
    } catch (error) {
      if (!(error instanceof MissingValue)) throw error;
      const reason = `decision ${step.name} could not be made: ${error.message}`;
      for (const target of [...step.ifHolds, ...step.ifNot]) this.ruleOut(target, reason);
      return { error: error.message, explanation: `${step.source}: not decided (${error.message})` };
    }
    const explanation = `${step.source}: ${holds ? 'holds' : 'does not hold'}${read && ` (${read})`}`;
    for (const target of holds ? step.ifNot : step.ifHolds)
      this.ruleOut(target, `decision ${step.name}: ${explanation}`);
    return { holds, explanation };
  }
}

/**
 * What a playbook would do for an alert, planned at once without looking anything up: the steps
 * that read facts see none, so the decisions on them are not made and what they govern is
 * skipped. A run (the service's, `vigil respond`) goes step by step with a PlaybookRun instead.
 * `ceiling` caps every mode (a hand run in dry-run plans without acting, whatever the playbook says).
 */
export function planFor(playbook: Playbook, alert: AlertFacts, ceiling: Mode = 'auto'): Plan {
  const run = new PlaybookRun(playbook, alert, ceiling);
  const steps = playbook.steps.map((step) => {
    const planned = run.reach(step);
    if (!planned.skipped && step.kind === 'enrich')
      run.learn(step, { error: 'nothing is looked up in a plan made at once' });
    if (!planned.skipped && step.kind === 'decide') run.decide(step);
    return planned;
  });
  return { playbook: playbook.name, alert: run.alertSummary, inputs: run.inputs, steps };
}
