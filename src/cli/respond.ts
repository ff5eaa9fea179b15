import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { prioritizeOptions, warningListsFrom } from '../assess/index.js';
import { VigilError } from '../core/index.js';
import { ACTIONS, loadConnectors, loadPlaybooks, type Mode } from '../respond/index.js';
import { responseView } from '../server/index.js';
import {
  dataPaths,
  type IndicatorSets,
  loadServiceConfig,
  openServiceStore,
  Responder,
  type ResponseRecord,
  redactUrl,
  ServiceEnricher,
  ServiceIndicators,
  type ServiceStore,
  storeChoice,
} from '../service/index.js';
import { DEFAULT_EPSS_THRESHOLD } from '../vuln/index.js';
import { printNotice } from './notices.js';
import { storeFlag } from './store-option.js';
import { heading, problemLine, table, UsageError } from './terminal.js';

interface RespondFlags {
  data?: string;
  store?: string;
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

function render(
  alert: { id: number; rule: string; host: string; tenant: string },
  records: readonly ResponseRecord[],
): string {
  return [
    heading(`Response to alert ${alert.id}: ${alert.rule} on ${alert.host}, tenant ${alert.tenant}`),
    table(
      ['Id', 'Playbook', 'Step', 'Action', 'Mode', 'State', 'Request / result'],
      records.map((r) => [
        String(r.id),
        r.playbook,
        r.step,
        r.action,
        r.mode,
        r.state === 'failed' ? pc.red(r.state) : r.state,
        [r.request, r.result, r.error].filter(Boolean).join('\n'),
      ]),
    ),
  ].join('\n');
}

/**
 * Lookups over the data folder, as the service makes them: its alerts, its tenants' vulnerability
 * databases, and its indicators (config.yml's sources and those given to the API, read when an
 * indicator is first looked up).
 */
function enricherOf(dir: string, store: ServiceStore, content: string | undefined): ServiceEnricher {
  let sets: Promise<IndicatorSets> | undefined;
  return new ServiceEnricher({
    store,
    dataDir: dir,
    indicators: () => {
      if (!sets) {
        const config = loadServiceConfig(dir);
        sets = new ServiceIndicators({
          dir: dataPaths(dir).indicators,
          config: config.indicators,
          fetch: config.fetch,
          warningLists: warningListsFrom(content, printNotice),
          log: () => undefined,
        }).load();
      }
      return sets;
    },
    vulnDecisions: () =>
      prioritizeOptions(content, undefined, DEFAULT_EPSS_THRESHOLD, undefined, printNotice),
  });
}

export function registerRespond(program: Command): void {
  program
    .command('respond')
    .description("run a response playbook on one of a service's alerts: plan, approve, act, revert")
    .argument('<alert-id>', 'the alert (as the API and `vigil admin` number it)')
    .requiredOption('--data <dir>', 'the data folder of vigil serve')
    .option('--store <url>', "the service's PostgreSQL store, when it has one (default: config.yml's store)")
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
      const contentFlag = program.opts().content as string | undefined;
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

      const url = storeFlag(flags.store) ?? loadServiceConfig(dir).store;
      const store = await openServiceStore(storeChoice(url, dataPaths(dir).database));
      try {
        const alert = await store.alert(null, id);
        if (!alert)
          throw new VigilError('ALERT_NOT_FOUND', `no alert ${id} in ${url ? redactUrl(url) : dir}`);
        const responder = new Responder(store, {
          playbooks: set.playbooks,
          connectors,
          log: () => undefined,
          enricher: enricherOf(dir, store, contentFlag),
        });
        const who = actor();
        const ceiling: Mode = flags.dryRun ? 'dry-run' : 'auto';
        let records = flags.revert
          ? []
          : await responder.run(null, id, who, { playbook: flags.playbook, ceiling });
        const mine = (r: ResponseRecord) => flags.playbook === undefined || r.playbook === flags.playbook;
        if (flags.approve || flags.reject) {
          for (const record of records.filter((r) => r.state === 'awaiting-approval' && mine(r)))
            await responder.decide(null, record.id, Boolean(flags.approve), who);
        }
        if (flags.revert) {
          for (const record of (await store.responses(null, id)).filter((r) => r.state === 'done' && mine(r)))
            if (ACTIONS[record.action]?.revertible) await responder.release(null, record.id, who);
        }
        records = (await store.responses(null, id)).filter(mine);
        if (records.length === 0) {
          process.stdout.write(
            `no playbook is meant for alert ${id} (${alert.rule.title}, ${alert.rule.level})\n`,
          );
          return;
        }
        if (flags.json) process.stdout.write(`${JSON.stringify(records.map(responseView))}\n`);
        else
          process.stdout.write(
            `${render({ id, rule: alert.rule.title, host: alert.host, tenant: alert.tenant }, records)}\n`,
          );
        if (records.some((r) => r.state === 'failed' || (r.error !== null && r.state === 'done')))
          process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
