import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { AttackIndex } from '../attack/index.js';
import { locateContent, vigilHome } from '../content/index.js';
import { describeError, VigilError } from '../core/index.js';
import {
  assessCoverage,
  CollectedLogs,
  type CoverageReport,
  coverageLayer,
  type Inventory,
  type LogSourceMap,
  NEWER_ATTACK_HINT,
  platformsNamedIn,
  type RuleFacts,
  readInventory,
  readLogSourceMap,
  readThreatLayer,
  ruleFacts,
  type STATE_COLORS,
  type ThreatProfile,
} from '../coverage/index.js';
import {
  csvCell,
  type DetectionSetup,
  loadDetectionSetup,
  loadRuleSetup,
  passesRegression,
  ReadTally,
  regressionCase,
} from '../detect/index.js';
import { type Advisory, analyzeAdvisory, readAdvisory, TechniqueExtractor } from '../intel/index.js';
import { LOG_EXTENSIONS, readEvents } from '../logs/index.js';
import type { DetectionRule } from '../sigma/index.js';
import { advisorySources } from './advisory.js';
import { openAttack } from './attack.js';
import { checkOutputFile, findInputs } from './io.js';
import { defaultRulePaths } from './rules-options.js';
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

/** The SigmaHQ packs that stand for "public rules" when no --reference is given. */
const REFERENCE_FOLDERS = ['rules', 'rules-emerging-threats', 'rules-threat-hunting'];

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
      'the Sigma rules deployed (files or folders; default: the SigmaHQ rules and rules-emerging-threats packs in the content folder)',
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
      const { report, groups, attack, inventory, threats } = await runCoverage(flags, program.opts().content);
      if (flags.navigator) {
        writeFileSync(
          flags.navigator,
          `${JSON.stringify(coverageLayer(report, { name: 'Vigil coverage', description: coverageDescription(threats, inventory), attackVersion: attack.version }), null, 2)}\n`,
        );
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
    });
}

export interface CoverageRun extends CoverageInputs {
  report: CoverageReport;
  /** The same assessment for each host group of the inventory that collects differently. */
  groups: Map<string, CoverageReport>;
  inventory: Inventory | undefined;
}

/** Everything coverage needs but the inventory: ATT&CK, the threats, the rules. */
export interface CoverageInputs {
  attack: AttackIndex;
  threats: ThreatProfile[];
  advisories: Advisory[];
  deployed: RuleFacts[];
  reference: RuleFacts[];
  /** Rule id -> title, deployed and reference. */
  ruleTitles: Map<string, string>;
  /** The deployed rules, loaded: a hunt in the same run uses them. */
  deployedSetup: DetectionSetup;
  deployedRules: string[];
  logSourceMap: LogSourceMap;
}

/** Loads everything coverage needs from the flags and computes it. */
export async function runCoverage(
  flags: CoverageFlags,
  contentFlag: string | undefined,
): Promise<CoverageRun> {
  const inputs = await loadCoverageInputs(flags, contentFlag);
  return computeCoverage(inputs, await coverageInventory(flags));
}

/** ATT&CK, the threats of --group/--advisory/--layer, and the deployed and reference rules. */
export async function loadCoverageInputs(
  flags: Omit<CoverageFlags, 'format' | 'navigator'>,
  contentFlag: string | undefined,
): Promise<CoverageInputs> {
  const attack = openAttack(contentFlag);
  const note = (text: string) => process.stderr.write(pc.dim(`${text}\n`));
  const threats: ThreatProfile[] = [];
  for (const name of flags.group ?? []) {
    const groups = attack.groups(name);
    if (groups.length === 0)
      throw new VigilError('ATTACK_UNKNOWN', `ATT&CK v${attack.version ?? '?'} has no group "${name}"`);
    for (const group of groups) {
      threats.push({
        name: `${group.name} (${group.id})`,
        kind: 'group',
        techniques: new Map(group.techniques.map((u) => [u.technique, u.description ? [u.description] : []])),
        platforms: softwarePlatforms(attack, group.software),
      });
    }
  }
  const advisories: Advisory[] = [];
  if (flags.advisory?.length) {
    const extractor = new TechniqueExtractor(attack);
    const sources = advisorySources(contentFlag, true);
    for (const file of flags.advisory) {
      const document = await readAdvisory(file);
      const advisory = analyzeAdvisory(document, { attack, extractor, ...sources });
      advisories.push(advisory);
      const about = advisory.actors.filter((a) => a.salient && a.kind === 'software').map((a) => a.id);
      threats.push({
        name: advisory.title ?? file,
        kind: 'advisory',
        techniques: new Map(advisory.techniques.map((t) => [t.id, t.evidence])),
        platforms: [...new Set([...platformsNamedIn(document.text), ...softwarePlatforms(attack, about)])],
      });
    }
  }
  for (const file of flags.layer ?? []) threats.push(readThreatLayer(file));
  for (const threat of threats) {
    const unknown = [...threat.techniques.keys()].filter((id) => attack.resolveTechnique(id).length === 0);
    if (unknown.length) {
      process.stderr.write(
        `${pc.yellow('vigil: warning:')} ${printable(threat.name)}: ATT&CK v${attack.version ?? '?'} does not know ${unknown.join(', ')}; left out of the scope\n`,
      );
    }
  }

  const deployedRules = flags.rules ?? defaultRulePaths(contentFlag);
  const ruleCache = join(vigilHome(), 'cache');
  const deployedSetup = await loadDetectionSetup({ rules: deployedRules, ruleCache });
  for (const error of deployedSetup.errors.slice(0, 5)) note(`rule skipped: ${describeError(error)}`);
  // Reference rules only say what could be deployed: the deployed ones need not be read again,
  // and none needs an engine.
  const referencePaths = notWithin(flags.reference ?? defaultReference(contentFlag), deployedRules);
  const referenceSetup = referencePaths.length
    ? await loadRuleSetup({ rules: referencePaths, ruleCache })
    : undefined;
  // A deployed rule is validated when it fires on its own regression events, run here and now.
  const validated = new Set<DetectionRule>();
  for (const rule of deployedSetup.ruleSet.rules) {
    const test = regressionCase(rule);
    if (test && (await passesRegression(deployedSetup.engine, test))) validated.add(rule);
  }
  const deployed = deployedSetup.ruleSet.rules.map((rule) =>
    ruleFacts(rule, attack, deployedSetup.pipelines, validated.has(rule)),
  );
  const reference = referenceSetup
    ? referenceSetup.ruleSet.rules.map((rule) => ruleFacts(rule, attack, referenceSetup.pipelines, false))
    : [];

  const ruleTitles = new Map<string, string>();
  for (const [list, setup] of [
    [deployed, deployedSetup],
    [reference, referenceSetup],
  ] as const) {
    setup?.ruleSet.rules.forEach((rule, i) => {
      ruleTitles.set(list[i]!.id, rule.title);
    });
  }
  const logSourceMap = readLogSourceMap(flags.logSourceMap);
  return {
    attack,
    threats,
    advisories,
    deployed,
    reference,
    ruleTitles,
    deployedSetup,
    deployedRules,
    logSourceMap,
  };
}

/**
 * What is collected: the --logsources inventory, or what the --logs hold. `collected` is what a
 * pass over those logs already saw (assess hunts them anyway); without it they are read here.
 */
export async function coverageInventory(
  flags: Pick<CoverageFlags, 'logsources' | 'logs'>,
  collected?: CollectedLogs,
): Promise<Inventory | undefined> {
  const note = (text: string) => process.stderr.write(pc.dim(`${text}\n`));
  if (flags.logsources) return readInventory(flags.logsources);
  if (!flags.logs?.length) {
    note('No --logsources or --logs: nothing counts as collected, so every deployed rule is blind.');
    return undefined;
  }
  const inventory = (collected ?? (await collectedIn(flags.logs))).inventory(flags.logs.join(', '));
  note(
    `No --logsources: taking as collected what the logs hold (${inventory.collection.windows.size} Windows channels).`,
  );
  return inventory;
}

/** The coverage of the threats by the rules, given what is collected, overall and per host group. */
export function computeCoverage(inputs: CoverageInputs, inventory: Inventory | undefined): CoverageRun {
  const { attack, threats, deployed, reference, logSourceMap } = inputs;
  const assess = (collection: Inventory['collection']) =>
    assessCoverage({ attack, threats, deployed, reference, collection, logSourceMap });
  const report = assess(inventory?.collection ?? { windows: new Map(), logsources: [] });
  const groups = new Map(
    [...(inventory?.groups ?? [])].map(([name, collection]) => [name, assess(collection)]),
  );
  process.stderr.write(
    pc.dim(
      `${formatCount(deployed.length)} deployed and ${formatCount(reference.length)} reference rules read (reference packs already deployed are not read again); ${formatCount(report.techniques.length)} techniques in scope\n`,
    ),
  );
  return { ...inputs, report, groups, inventory };
}

/** The ATT&CK platforms of the software (by ID) a threat uses. */
function softwarePlatforms(attack: AttackIndex, software: string[]): string[] {
  return [...new Set(software.flatMap((id) => attack.software(id)[0]?.platforms ?? []))];
}

/** The paths that are not one of the others or inside one. */
function notWithin(paths: readonly string[], others: readonly string[]): string[] {
  const roots = others.map((other) => resolve(other));
  return paths.filter((path) => {
    const full = resolve(path);
    return !roots.some((root) => full === root || full.startsWith(root + sep));
  });
}

function defaultReference(contentFlag: string | undefined): string[] {
  const content = locateContent({ flag: contentFlag });
  if (!content) return [];
  return REFERENCE_FOLDERS.map((folder) => join(content.dir, 'sigma', folder)).filter((path) =>
    existsSync(path),
  );
}

/**
 * The log files under --logs paths. A path that is not there is named at once (and makes the exit
 * code 1): it would otherwise read as "nothing collected", and every rule as blind.
 */
export async function logFiles(paths: string[]): Promise<{ files: string[]; unread: number }> {
  const found = await findInputs(paths, LOG_EXTENSIONS);
  if (found.unread) process.exitCode = 1;
  return found;
}

/** Every (channel, event ID) the logs hold; a log nothing could be read from is named. */
async function collectedIn(paths: string[]): Promise<CollectedLogs> {
  const { files } = await logFiles(paths);
  const collected = new CollectedLogs();
  const tally = new ReadTally();
  for (const file of files) {
    let events = 0;
    for await (const event of readEvents(file, { onError: (error) => tally.problem(error.location) })) {
      collected.add(event);
      events++;
    }
    tally.add(file, events);
  }
  for (const file of tally.unread(files)) {
    process.stderr.write(
      `${pc.red('error')} ${printable(file)}: no event could be read; it shows nothing collected\n`,
    );
    process.exitCode = 1;
  }
  return collected;
}

export function coverageDescription(threats: ThreatProfile[], inventory: Inventory | undefined): string {
  const threat = threats.length ? threats.map((t) => t.name).join('; ') : 'all ATT&CK techniques';
  const logs = inventory ? `${inventory.inferred ? 'logs' : 'inventory'} ${inventory.name}` : 'no inventory';
  return `Coverage of ${threat}; ${logs}`;
}

/** The JSON of `vigil coverage --format json`. */
export function coverageJson(report: CoverageReport, groups: Map<string, CoverageReport> = new Map()) {
  return {
    techniques: report.techniques.map((t) => ({
      id: t.id,
      name: t.name,
      tactics: t.tactics,
      state: t.state,
      detection_score: t.detectionScore,
      visibility_score: t.visibilityScore,
      rules: t.rules,
      validated: t.validated,
      data_components: t.dataComponents,
      missing_logs: t.missingLogs,
      profiles: t.profiles,
    })),
    maturity: report.maturity,
    counts: report.counts,
    backlog: report.backlog,
    platforms: report.platforms,
    unknown_tags: report.unknownTags,
    rules_with_unknown_tags: report.rulesWithUnknownTags,
    groups: Object.fromEntries(
      [...groups].map(([name, group]) => [
        name,
        {
          counts: group.counts,
          maturity: group.maturity,
          states: Object.fromEntries(group.techniques.map((t) => [t.id, t.state])),
        },
      ]),
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
