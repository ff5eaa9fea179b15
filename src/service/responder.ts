import { describeError, VigilError } from '../core/index.js';
import {
  ACTIONS,
  type AlertFacts,
  type Connector,
  checkFacts,
  describeFacts,
  type Enricher,
  type EnrichStep,
  type Facts,
  type Mode,
  type PlannedStep,
  type Playbook,
  PlaybookRun,
  revert,
  type StepOutcome,
  settleStep,
  triggerProblem,
  triggers,
} from '../respond/index.js';
import { alertFacts } from './response-facts.js';
import type { AlertDetail, ResponseChange, ResponseRecord, ServiceStore } from './store.js';

export interface ResponderOptions {
  playbooks: readonly Playbook[];
  connectors: ReadonlyMap<string, Connector>;
  log: (line: string) => void;
  /** How often lapsed approvals and ended containments are looked for. */
  tickMs?: number;
  /** Retries of a failing action, and the first wait between them (doubled each time). */
  attempts?: number;
  backoffMs?: number;
  /** Carries out the lookups of enrich steps (the service's stores); without it they fail. */
  enricher?: Enricher;
  /**
   * Whether this node keeps a tenant's time-driven work (expiries, reverts, steps left running):
   * in a cluster, the node that detects for the tenant; alone, every tenant.
   */
  owns?: (tenant: string) => boolean;
}

/** What a hand run asks for: one playbook, or all those meant for the alert; a ceiling on modes. */
export interface RunRequest {
  playbook?: string;
  ceiling?: Mode;
}

export class ResponseConflict extends VigilError {}

/** A playbook an analyst may run on an alert by hand, and whether (or why not) it is meant for it. */
export interface PlaybookChoice {
  name: string;
  description: string | null;
  mode: Mode;
  applies: boolean;
  reason: string | null;
}

/**
 * The playbooks that may run on an alert by hand: all but those meant for other tenants only (a
 * tenant never sees another's playbooks), those whose trigger holds first.
 */
export function playbookChoices(playbooks: readonly Playbook[], alert: AlertDetail): PlaybookChoice[] {
  const facts = alertFacts(alert);
  return playbooks
    .filter((p) => p.trigger.tenants.length === 0 || p.trigger.tenants.includes(alert.tenant))
    .map((p) => {
      const reason = triggerProblem(p, facts) ?? null;
      return {
        name: p.name,
        description: p.description ?? null,
        mode: p.mode,
        applies: reason === null,
        reason,
      };
    })
    .sort((a, b) => Number(b.applies) - Number(a.applies) || a.name.localeCompare(b.name));
}

/**
 * Runs playbooks on alerts and keeps every step in the store under its key: the service calls it
 * for each alert detection opens, analysts (API, console, `vigil respond`) approve, reject and
 * release through it, and a timer lets lapsed approvals expire and ends containments on time. A
 * step's record is written before it acts and after, with its audit entry in the same transaction,
 * so a crash leaves it `running`: it is carried out again at the next start (actions are idempotent
 * by key), never lost and never silently done twice.
 */
export class Responder {
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ServiceStore,
    private readonly options: ResponderOptions,
  ) {}

  get playbooks(): readonly Playbook[] {
    return this.options.playbooks;
  }

  /** Finishes steps a stopped service left running, then looks for due work now and then. */
  async start(): Promise<void> {
    for (const record of await this.dueResponses(Date.now()))
      if (record.state === 'running') await this.act(this.contextOf(record, 'service'), record.decidedBy);
    await this.tick();
    this.timer = setInterval(() => void this.serial(() => this.tick()), this.options.tickMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.queue.catch(() => undefined);
  }

  /** One thing at a time: steps of one alert in order, and never two hands on one record. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch((error) => this.options.log(`response failed: ${describeError(error)}`));
    return next;
  }

  /** An alert was opened: the playbooks meant for it run, in the background. */
  alertOpened(tenant: string, id: number): void {
    if (this.options.playbooks.length === 0) return;
    // run() takes its turn in the queue itself: queueing it here too would wait on itself.
    this.run(tenant, id, 'service', {}).catch(() => undefined);
  }

  /**
   * Runs the playbooks meant for an alert (or the one named, which must not be meant for other
   * tenants only). Action steps carried out already are not repeated; lookups and decisions are
   * made again, on what is known now, and the steps they skipped before are reconsidered.
   */
  run(tenant: string | null, id: number, actor: string, request: RunRequest): Promise<ResponseRecord[]> {
    return this.serial(async () => {
      const alert = await this.store.alert(tenant, id);
      if (!alert) throw new VigilError('ALERT_NOT_FOUND', `no alert ${id}`);
      const facts = alertFacts(alert);
      let chosen: Playbook[];
      if (request.playbook) {
        const named = this.options.playbooks.find((p) => p.name === request.playbook);
        if (!named) throw new VigilError('PLAYBOOK_NOT_FOUND', `no playbook named '${request.playbook}'`);
        const meantFor = named.trigger.tenants;
        if (meantFor.length && !meantFor.includes(alert.tenant))
          throw new VigilError(
            'PLAYBOOK_NOT_FOUND',
            `playbook '${named.name}' is for tenants ${meantFor.join(', ')}, not ${alert.tenant}`,
          );
        chosen = [named];
      } else chosen = this.options.playbooks.filter((p) => triggers(p, facts));
      if (actor !== 'service' && chosen.length)
        await this.store.audit({
          actor,
          action: 'response.run',
          tenant: alert.tenant,
          target: String(id),
          details: { playbooks: chosen.map((p) => p.name), mode: request.ceiling ?? 'auto' },
        });
      const out: ResponseRecord[] = [];
      for (const playbook of chosen)
        out.push(...(await this.runPlaybook(playbook, facts, actor, request.ceiling ?? 'auto')));
      return out;
    });
  }

  /** One playbook, step by step: each lookup and decision made when the run reaches it. */
  private async runPlaybook(
    playbook: Playbook,
    alert: AlertFacts,
    actor: string,
    ceiling: Mode,
  ): Promise<ResponseRecord[]> {
    const run = new PlaybookRun(playbook, alert, ceiling);
    const out: ResponseRecord[] = [];
    for (const step of playbook.steps) {
      const planned = run.reach(step);
      const base: StepContext = {
        playbook: playbook.name,
        tenant: alert.tenant,
        alertId: Number(alert.id),
        step: planned,
        actor,
      };
      if (step.kind === 'action') {
        const known = await this.store.responseByKey(planned.key);
        if (known && known.state !== 'planned' && known.state !== 'skipped') out.push(known);
        else out.push(await this.settle(playbook, base));
        continue;
      }
      const fresh = { mode: planned.mode, params: planned.params, request: null, kept: null, attempts: 0 };
      if (planned.skipped) {
        out.push(
          await this.save(base, {
            ...fresh,
            state: 'skipped',
            result: planned.skipped,
            error: null,
            facts: null,
          }),
        );
      } else if (step.kind === 'enrich') {
        const found = await this.enrich(step, base);
        run.learn(step, found);
        out.push(
          await this.save(
            base,
            {
              ...fresh,
              attempts: 1,
              state: found.facts ? 'done' : 'failed',
              result: found.facts ? describeFacts(found.facts) : null,
              error: found.error ?? null,
              facts: found.facts ?? null,
            },
            'response.enrich',
          ),
        );
      } else {
        const verdict = run.decide(step);
        // A decision that cannot be made (a fact it reads has no value) skips what it governs.
        out.push(
          await this.save(
            base,
            {
              ...fresh,
              state: verdict.holds === undefined ? 'skipped' : 'done',
              result: verdict.explanation,
              error: null,
              facts: verdict.holds === undefined ? null : { holds: verdict.holds },
            },
            'response.decide',
          ),
        );
      }
    }
    return out;
  }

  private async enrich(step: EnrichStep, base: StepContext): Promise<{ facts?: Facts; error?: string }> {
    const enricher = this.options.enricher;
    if (!enricher) return { error: 'no lookups can be made here' };
    try {
      const facts = await enricher.lookup(step.lookup, {
        tenant: base.tenant,
        alertId: base.alertId,
        params: base.step.params,
      });
      return { facts: checkFacts(step.lookup, facts) };
    } catch (error) {
      return { error: describeError(error) };
    }
  }

  private async settle(playbook: Playbook, base: StepContext): Promise<ResponseRecord> {
    const { step } = base;
    if (step.mode === 'auto' && !step.skipped) {
      await this.save(base, { ...this.pending(step), state: 'running' }, 'response.start');
      return this.act(base);
    }
    const outcome = await settleStep(step, { connectors: this.options.connectors });
    return this.save(base, {
      ...this.fromOutcome(outcome),
      expiresAt: outcome.state === 'awaiting-approval' ? Date.now() + playbook.approvalTimeoutMs : null,
    });
  }

  /** Carries out a step now (auto, or approved), recording what came of it. */
  private async act(base: StepContext, decidedBy: string | null = null): Promise<ResponseRecord> {
    const outcome = await settleStep(
      { ...base.step, mode: 'auto' },
      {
        connectors: this.options.connectors,
        attempts: this.options.attempts,
        backoffMs: this.options.backoffMs,
      },
    );
    const record = await this.save(base, { ...this.fromOutcome(outcome), decidedBy });
    if (outcome.state === 'failed')
      this.options.log(
        `response step failed: alert ${base.alertId}, ${base.playbook}/${base.step.name}: ${outcome.error}`,
      );
    return record;
  }

  private pending(step: PlannedStep): Partial<ResponseChange> {
    const connector = this.options.connectors.get(step.action.slice(0, step.action.indexOf('.')));
    return {
      mode: step.mode,
      params: step.params,
      request:
        connector?.describe(step.action.slice(step.action.indexOf('.') + 1), step.params, step.ttlMs) ?? null,
      ttlMs: step.ttlMs ?? null,
    };
  }

  private fromOutcome(outcome: StepOutcome): Partial<ResponseChange> {
    return {
      mode: outcome.mode,
      state: outcome.state,
      params: outcome.params,
      request: outcome.request ?? null,
      result: outcome.result ?? null,
      error: outcome.error ?? null,
      attempts: outcome.attempts,
      kept: outcome.kept ?? null,
      facts: null,
      revertAt: outcome.revertAt ? Date.parse(outcome.revertAt) : null,
    };
  }

  private async save(
    base: StepContext,
    change: Partial<ResponseChange>,
    action = 'response.step',
  ): Promise<ResponseRecord> {
    const known = await this.store.responseByKey(base.step.key);
    const full: ResponseChange = {
      key: base.step.key,
      tenant: base.tenant,
      alertId: base.alertId,
      playbook: base.playbook,
      step: base.step.name,
      action: base.step.action,
      mode: base.step.mode,
      state: 'planned',
      params: base.step.params,
      request: null,
      result: null,
      error: null,
      attempts: 0,
      kept: null,
      facts: null,
      ttlMs: base.step.ttlMs ?? null,
      revertAt: null,
      expiresAt: null,
      decidedBy: null,
      ...(known && stripRecord(known)),
      ...change,
    };
    return this.store.saveResponse(full, {
      actor: base.actor,
      action,
      tenant: base.tenant,
      target: String(base.alertId),
      details: {
        playbook: full.playbook,
        step: full.step,
        key: full.key,
        action: full.action,
        state: full.state,
        ...(full.request && { request: full.request }),
        ...(full.result && { result: full.result }),
        ...(full.error && { error: full.error }),
        ...(full.facts && { facts: full.facts }),
      },
    });
  }

  /** What a stored step needs to be carried out or undone: it stands on its own, its playbook may be gone. */
  private contextOf(record: ResponseRecord, actor: string): StepContext {
    return {
      playbook: record.playbook,
      tenant: record.tenant,
      alertId: record.alertId,
      actor,
      step: {
        name: record.step,
        kind: 'action',
        action: record.action,
        mode: record.mode as Mode,
        params: record.params,
        ttlMs: record.ttlMs ?? undefined,
        key: record.key,
      },
    };
  }

  /** An analyst's answer to a step waiting for approval: carried out now, or recorded as rejected. */
  decide(
    tenant: string | null,
    id: number,
    approve: boolean,
    actor: string,
  ): Promise<ResponseRecord | undefined> {
    return this.serial(async () => {
      const record = await this.store.response(tenant, id);
      if (!record) return undefined;
      if (record.state !== 'awaiting-approval')
        throw new ResponseConflict(
          'RESPONSE_STATE',
          `response ${id} is ${record.state}, not awaiting approval`,
        );
      if (record.expiresAt !== null && record.expiresAt <= Date.now())
        throw new ResponseConflict('RESPONSE_STATE', `the approval request of response ${id} has expired`);
      const base = this.contextOf(record, actor);
      if (!approve) return this.save(base, { state: 'rejected', decidedBy: actor }, 'response.reject');
      await this.save(base, { state: 'running', decidedBy: actor }, 'response.approve');
      return this.act(base, actor);
    });
  }

  /** Undoes a containment before its time (an analyst releases it), or when its time is up. */
  release(tenant: string | null, id: number, actor: string): Promise<ResponseRecord | undefined> {
    return this.serial(async () => {
      const record = await this.store.response(tenant, id);
      if (!record) return undefined;
      return this.undo(record, actor);
    });
  }

  private async undo(record: ResponseRecord, actor: string): Promise<ResponseRecord> {
    if (record.state !== 'done' || !ACTIONS[record.action]?.revertible)
      throw new ResponseConflict(
        'RESPONSE_STATE',
        `response ${record.id} (${record.action}, ${record.state}) cannot be reverted`,
      );
    const undone = await revert(
      { action: record.action, params: record.params, kept: record.kept ?? undefined, key: record.key },
      {
        connectors: this.options.connectors,
        attempts: this.options.attempts,
        backoffMs: this.options.backoffMs,
      },
    );
    const base = this.contextOf(record, actor);
    if (undone.error !== undefined) {
      this.options.log(`revert failed: response ${record.id}: ${undone.error}`);
      // Still standing: the timer tries again, and the record says why it is not undone yet.
      return this.save(base, { error: `revert failed: ${undone.error}` }, 'response.revert-failed');
    }
    return this.save(
      base,
      { state: 'reverted', result: undone.result ?? null, error: null, revertAt: null },
      'response.revert',
    );
  }

  private async dueResponses(now: number): Promise<ResponseRecord[]> {
    const owns = this.options.owns;
    const due = await this.store.dueResponses(now);
    return owns ? due.filter((record) => owns(record.tenant)) : due;
  }

  /** Lapsed approvals expire; containments whose time is up are reverted. */
  private async tick(): Promise<void> {
    const now = Date.now();
    for (const record of await this.dueResponses(now)) {
      try {
        if (record.state === 'awaiting-approval')
          await this.save(this.contextOf(record, 'service'), { state: 'expired' }, 'response.expire');
        // A step running now is another process's (vigil respond) or this one's at start.
        else if (record.state === 'done') await this.undo(record, 'service');
      } catch (error) {
        this.options.log(`response ${record.id}: ${describeError(error)}`);
      }
    }
  }
}

interface StepContext {
  playbook: string;
  tenant: string;
  alertId: number;
  step: PlannedStep;
  actor: string;
}

function stripRecord(record: ResponseRecord): Partial<ResponseChange> {
  const { id: _id, createdAt: _created, updatedAt: _updated, ...rest } = record;
  return rest;
}
