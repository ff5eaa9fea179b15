import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import {
  type CoverageOptions,
  coverageDescription,
  coverageJson,
  incomplete,
  navigatorLayer,
  runCoverage,
} from '../assess/index.js';
import type { AttackIndex } from '../attack/index.js';
import {
  type CoverageReport,
  type Inventory,
  NEWER_ATTACK_HINT,
  type STATE_COLORS,
  type ThreatProfile,
} from '../coverage/index.js';
import { csvCell } from '../detect/index.js';
import { fetchPolicy } from './fetch-policy.js';
import { checkOutputFile } from './io.js';
import { printNotice } from './notices.js';
import { formatCount, heading, printable, table, UsageError } from './terminal.js';

export interface CoverageFlags {
  group?: string[];
  advisory?: string[];
  layer?: string[];
  rules?: string[];
  reference?: string[];
  logsources?: string;
  logs?: string[];
  logSourceMap?: string;
  format: string;
  navigator?: string;
}

export function addCoverageOptions(command: Command): Command {
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  return command
    .option(
      '--group <name>',
      'an ATT&CK group (name, alias or ID) whose techniques are the threat; repeatable',
      collect,
    )
    .option(
      '--advisory <file>',
      'an advisory (text, HTML, PDF, STIX) whose techniques are the threat; repeatable',
      collect,
    )
    .option(
      '--layer <file>',
      'an ATT&CK Navigator layer whose techniques are the threat; repeatable',
      collect,
    )
    .option(
      '--rules <paths...>',
      "the Sigma rules deployed (files or folders; default: the SigmaHQ rules and rules-emerging-threats packs in the content folder, and Vigil's own packs)",
    )
    .option(
      '--reference <paths...>',
      'public rules to compare with (default: the SigmaHQ packs in the content folder)',
    )
    .option('--logsources <file>', 'the log-source inventory (YAML; see the README)')
    .option(
      '--logs <paths...>',
      'sample logs: what they contain is taken as collected when no --logsources is given',
    )
    .option(
      '--log-source-map <file>',
      'ATT&CK log-source names to channels and Sigma log sources (default: mappings/attack-log-sources.yml)',
    );
}

export function registerCoverage(program: Command): void {
  const command = program
    .command('coverage')
    .description(
      'technique by technique: covered, blind, available or uncovered, with detection and visibility scores',
    );
  addCoverageOptions(command)
    .option('-f, --format <format>', 'table, json or csv', 'table')
    .option('--navigator <file>', 'also write an ATT&CK Navigator layer (format 4.5)')
    .action(async (flags: CoverageFlags) => {
      if (!['table', 'json', 'csv'].includes(flags.format)) {
        throw new UsageError(`--format must be table, json or csv, not '${flags.format}'`);
      }
      if (flags.navigator) checkOutputFile(flags.navigator);
      const run = await runCoverage(coverageOptions(flags, program.opts().content));
      const { report, groups, attack, inventory, threats } = run;
      if (flags.navigator) {
        writeFileSync(flags.navigator, `${JSON.stringify(navigatorLayer(run, 'Vigil coverage'), null, 2)}\n`);
      }
      if (flags.format === 'json')
        process.stdout.write(`${JSON.stringify(coverageJson(report, groups), null, 2)}\n`);
      else if (flags.format === 'csv') process.stdout.write(coverageCsv(report));
      else {
        process.stdout.write(`${renderCoverage(report, attack, inventory, threats)}\n`);
        for (const [name, group] of groups) {
          const { counts, maturity } = group;
          process.stdout.write(
            `Host group ${name}: ${counts.covered} covered, ${counts.blind} blind, ${counts.available} available, ${counts.uncovered} uncovered; maturity ${maturity.score}/100\n`,
          );
        }
      }
      if (incomplete(run.notices)) process.exitCode = 1;
    });
}

/**
 * The workflow's options from the flags shared by coverage and assess, with the notes the CLI
 * prints on the way: problems as they come, what counts as collected, how many rules were read.
 */
export function coverageOptions(
  flags: Omit<CoverageFlags, 'format' | 'navigator'>,
  content: string | undefined,
): CoverageOptions {
  const note = (text: string) => process.stderr.write(pc.dim(`${text}\n`));
  return {
    groups: flags.group,
    advisories: flags.advisory,
    fetch: fetchPolicy(),
    layers: flags.layer,
    rules: flags.rules,
    reference: flags.reference,
    logsources: flags.logsources,
    logs: flags.logs,
    logSourceMap: flags.logSourceMap,
    content,
    onNotice: printNotice,
    onInventory: (inventory) => {
      if (!inventory)
        note('No --logsources or --logs: nothing counts as collected, so every deployed rule is blind.');
      else if (inventory.inferred)
        note(
          `No --logsources: taking as collected what the logs hold (${inventory.collection.windows.size} Windows channels).`,
        );
    },
    onCoverage: ({ deployed, reference, report }) =>
      note(
        `${formatCount(deployed.length)} deployed and ${formatCount(reference.length)} reference rules read (reference packs already deployed are not read again); ${formatCount(report.techniques.length)} techniques in scope`,
      ),
  };
}

function coverageCsv(report: CoverageReport): string {
  const head = [
    'id',
    'name',
    'tactics',
    'state',
    'detection_score',
    'visibility_score',
    'deployed',
    'blind',
    'available',
    'validated',
    'profiles',
  ];
  const rows = report.techniques.map((t) => [
    t.id,
    t.name,
    t.tactics.join(' '),
    t.state,
    t.detectionScore,
    t.visibilityScore,
    t.rules.deployed.length,
    t.rules.blind.length,
    t.rules.available.length,
    t.validated,
    t.profiles.join('; '),
  ]);
  return `${[head, ...rows].map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}

function renderCoverage(
  report: CoverageReport,
  attack: AttackIndex,
  inventory: Inventory | undefined,
  threats: ThreatProfile[],
): string {
  const paint = (state: keyof typeof STATE_COLORS, text: string) =>
    state === 'covered'
      ? pc.green(text)
      : state === 'blind'
        ? pc.yellow(text)
        : state === 'available'
          ? pc.cyan(text)
          : state === 'outside'
            ? pc.dim(text)
            : pc.red(text);
  const lines = [heading(coverageDescription(threats, inventory))];
  lines.push(
    table(
      ['ID', 'Technique', 'Tactic', 'State', 'Det.', 'Vis.', 'Rules (deployed/blind/available)'],
      report.techniques.map((t) => [
        t.id,
        t.name.length > 40 ? `${t.name.slice(0, 39)}…` : t.name,
        attack.tactic(t.tactics[0] ?? '')?.name ?? '',
        paint(t.state, t.state),
        t.detectionScore,
        t.visibilityScore,
        `${t.rules.deployed.length}/${t.rules.blind.length}/${t.rules.available.length}`,
      ]),
    ),
  );
  const { counts, maturity } = report;
  lines.push(
    `${paint('covered', `${counts.covered} covered`)}, ${paint('blind', `${counts.blind} blind`)}, ${paint('available', `${counts.available} available`)}, ${paint('uncovered', `${counts.uncovered} uncovered`)} of ${report.techniques.length - counts.outside} techniques`,
    `Maturity ${maturity.score}/100 (visibility ${maturity.parts.visibility}, detection ${maturity.parts.detection}, validation ${maturity.parts.validation})`,
  );
  const outside = outsideLine(report);
  if (outside) lines.push(outside);
  if (report.backlog.length) lines.push('', heading('Build first'), ...backlogLines(report, 8));
  if (report.unknownTags.length) {
    lines.push(
      pc.yellow(
        `${formatCount(report.rulesWithUnknownTags)} rules carry tags this ATT&CK release (v${attack.version ?? '?'}) does not know: ${report.unknownTags
          .slice(0, 8)
          .map((u) => `${u.tag} (${u.rules})`)
          .join(', ')}${report.unknownTags.length > 8 ? ', …' : ''}.\n${NEWER_ATTACK_HINT}`,
      ),
    );
  }
  return lines.join('\n');
}

/** The pre-compromise techniques of the threat, told apart: no log of the team's can show them. */
export function outsideLine(report: CoverageReport): string | undefined {
  const outside = report.techniques.filter((t) => t.state === 'outside');
  if (outside.length === 0) return undefined;
  return pc.dim(
    `${outside.length} pre-compromise technique(s), outside your telemetry and not counted as gaps: ${outside.map((t) => `${t.id} ${printable(t.name)}`).join(', ')}`,
  );
}

/** The first `limit` fixes of the backlog, each with why it ranks there. */
export function backlogLines(report: CoverageReport, limit: number): string[] {
  const lines = report.backlog.slice(0, limit).flatMap((item, i) => {
    const text = `${String(i + 1).padStart(2)}. ${printable(item.fix)}`;
    const why = `    ${printable(item.why)}`;
    return [item.relevance === 'elsewhere' ? pc.dim(text) : text, pc.dim(why)];
  });
  if (report.backlog.length > limit) lines.push(pc.dim(`    … and ${report.backlog.length - limit} more`));
  return lines;
}
