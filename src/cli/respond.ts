import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { VigilError } from '../core/index.js';
import {
  carryOut,
  loadConnectors,
  loadPlaybooks,
  type Mode,
  type Plan,
  planFor,
  revert,
  type StepOutcome,
  triggers,
} from '../respond/index.js';
import { type AuditEntry, alertFacts, dataPaths, SqliteServiceStore } from '../service/index.js';
import { heading, problemLine, table, UsageError } from './terminal.js';

interface RespondFlags {
  data?: string;
  playbooks?: string[];
  playbook?: string;
  connectors?: string;
  approve?: boolean;
  reject?: boolean;
  dryRun?: boolean;
  revert?: boolean;
  json?: boolean;
}

function actor(): string {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No user entry (some containers).
  }
  return `respond-cli:${name}`;
}

/** Every audit entry, oldest first: what was already done for an alert is read from it. */
async function auditLog(store: SqliteServiceStore): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (;;) {
    const page = await store.auditEntries(out.at(-1)?.seq ?? 0, 1000);
    out.push(...page);
    if (page.length < 1000) return out;
  }
}

/** Steps carried out and not reverted yet, by key, from the audit log. */
function standing(entries: readonly AuditEntry[]): Map<string, StepOutcome> {
  const out = new Map<string, StepOutcome>();
  for (const entry of entries) {
    const outcome = entry.details.outcome as StepOutcome | undefined;
    if (entry.action === 'response.step' && outcome?.state === 'done') out.set(outcome.key, outcome);
    if (entry.action === 'response.revert' && typeof entry.details.key === 'string' && entry.details.result)
      out.delete(entry.details.key);
  }
  return out;
}

function render(plan: Plan, outcomes: readonly StepOutcome[]): string {
  const lines = [
    heading(`Playbook ${plan.playbook} for alert ${plan.alert.id}`),
    `  ${plan.alert.rule} (${plan.alert.level}) on ${plan.alert.host}, tenant ${plan.alert.tenant}`,
  ];
  for (const [name, input] of Object.entries(plan.inputs))
    lines.push(`  input ${name}: ${input.value ?? pc.yellow(`none (${input.problem})`)}`);
  lines.push(
    table(
      ['Step', 'Action', 'Mode', 'State', 'Request / result'],
      outcomes.map((o) => [
        o.step,
        o.action,
        o.mode,
        o.state === 'failed' ? pc.red(o.state) : o.state,
        [o.request, o.result, o.error].filter(Boolean).join('\n'),
      ]),
    ),
  );
  return lines.join('\n');
}

export function registerRespond(program: Command): void {
  program
    .command('respond')
    .description("run a response playbook on one of a service's alerts: plan, approve, act, revert")
    .argument('<alert-id>', 'the alert (as the API and `vigil admin` number it)')
    .requiredOption('--data <dir>', 'the data folder of vigil serve')
    .option('--playbooks <paths...>', 'playbook files or folders (default: playbooks/ in the data folder)')
    .option(
      '--playbook <name>',
      'the playbook to run (default: every playbook whose trigger the alert meets)',
    )
    .option('--connectors <file>', 'connector configuration (default: connectors.yml in the data folder)')
    .option('--approve', 'approve the steps that ask for approval (you are the approver the audit names)')
    .option('--reject', 'reject the steps that ask for approval')
    .option('--dry-run', 'plan only, whatever the playbook says: nothing is sent')
    .option('--revert', 'undo what the playbook did for this alert (release a containment)')
    .option('--json', 'print the plans and outcomes as JSON')
    .action(async (alertId: string, flags: RespondFlags) => {
      const id = Number(alertId);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError(`'${alertId}' is not an alert id`);
      if (flags.approve && flags.reject) throw new UsageError('--approve and --reject exclude each other');
      const dir = resolve(flags.data!);
      const set = await loadPlaybooks(flags.playbooks ?? [join(dir, 'playbooks')]);
      for (const error of set.errors) process.stderr.write(`${problemLine(error)}\n`);
      if (set.errors.length)
        throw new VigilError('PLAYBOOK_INVALID', 'fix the playbooks first (vigil playbooks check)');
      const connectorsFile = flags.connectors ?? join(dir, 'connectors.yml');
      if (flags.connectors && !existsSync(connectorsFile))
        throw new VigilError('CONNECTORS_INVALID', 'no such file', { file: connectorsFile });
      const connectors = loadConnectors(connectorsFile);

      const store = new SqliteServiceStore(dataPaths(dir).database);
      try {
        const detail = await store.alert(null, id);
        if (!detail) throw new VigilError('ALERT_NOT_FOUND', `no alert ${id} in ${dir}`);
        const facts = alertFacts(detail);
        const chosen = flags.playbook
          ? set.playbooks.filter((p) => p.name === flags.playbook)
          : set.playbooks.filter((p) => triggers(p, facts));
        if (flags.playbook && chosen.length === 0)
          throw new VigilError('PLAYBOOK_NOT_FOUND', `no playbook named '${flags.playbook}'`);
        if (chosen.length === 0) {
          process.stdout.write(
            `no playbook is meant for alert ${id} (${facts.rule.title}, ${facts.rule.level})\n`,
          );
          return;
        }
        const who = actor();
        const audit = (action: string, target: string, details: Record<string, unknown>) =>
          store.audit({ actor: who, action, tenant: facts.tenant, target, details });
        const done = standing(await auditLog(store));
        const reports: { plan: Plan; outcomes: StepOutcome[] }[] = [];
        let failed = false;
        for (const playbook of chosen) {
          const ceiling: Mode = flags.dryRun ? 'dry-run' : 'auto';
          const plan = planFor(playbook, facts, ceiling);
          if (flags.revert) {
            const outcomes: StepOutcome[] = [];
            for (const step of plan.steps) {
              const carried = done.get(step.key);
              if (!carried) continue;
              const undone = await revert(carried, { connectors });
              await audit('response.revert', String(id), {
                playbook: playbook.name,
                key: step.key,
                ...undone,
              });
              failed ||= undone.error !== undefined;
              outcomes.push({ ...carried, state: undone.error ? 'failed' : 'done', ...undone });
            }
            reports.push({ plan, outcomes });
            continue;
          }
          await audit('response.plan', String(id), { plan });
          const outcomes = await carryOut(plan, {
            connectors,
            approval: flags.approve ? true : flags.reject ? false : undefined,
            alreadyDone: (key) => done.has(key),
            onOutcome: async (outcome) => {
              await audit('response.step', String(id), { playbook: playbook.name, outcome });
            },
          });
          failed ||= outcomes.some((o) => o.state === 'failed');
          reports.push({ plan, outcomes });
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
        else process.stdout.write(`${reports.map((r) => render(r.plan, r.outcomes)).join('\n\n')}\n`);
        if (failed) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
