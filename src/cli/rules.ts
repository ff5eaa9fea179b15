import type { Command } from 'commander';
import pc from 'picocolors';
import { defaultRulePaths } from '../assess/index.js';
import type { VigilError } from '../core/index.js';
import { type DetectionSetup, loadDetectionSetup } from '../detect/index.js';
import {
  LEVELS,
  type LogSource,
  type LogSourceMapping,
  loadLogSourceGaps,
  logSourceMappings,
  needsGeolocation,
  STATUSES,
} from '../sigma/index.js';
import { addRuleOptions, type RuleFlags, rulePathOptions, setupOptions } from './rules-options.js';
import { formatCount, heading, problemLine, table } from './terminal.js';
import { missingPaths } from './variadic.js';

interface CheckFlags extends RuleFlags {
  json: boolean;
  warnings: boolean;
}

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('work with Sigma rule sets');
  const check = rules
    .command('check')
    .description('load and validate Sigma rules; report every rule that cannot be used, with file and line')
    .argument(
      '[paths...]',
      "rule files or folders (searched recursively for .yml and .yaml; default: the rules hunt and serve load when given none, SigmaHQ's packs in the content folder and Vigil's own)",
    )
    .usage('[options] [paths...]')
    .option(
      '--json',
      'print one JSON object: {"files","rules","loaded","failed":[{file,line,error}],"warnings":[...],"logsources":[...]}',
    )
    .option('--no-warnings', 'do not list warnings');
  addRuleOptions(check, true).action(async (paths: string[], flags: CheckFlags) => {
    // Paths a variadic option swallowed are a mistake to point out, not a request for the defaults.
    const swallowed = rulePathOptions(flags).some((option) => option.values?.length);
    if (paths.length === 0 && swallowed)
      throw missingPaths('rules check', 'rule paths', 'PATHS', rulePathOptions(flags));
    const rulePaths = paths.length > 0 ? paths : defaultRulePaths(program.opts().content);
    const setup = await loadDetectionSetup(setupOptions(flags, rulePaths));
    const logsources = logSourceMappings(
      setup.ruleSet.rules.map((rule) => rule.logsource),
      setup.pipelines,
      await loadLogSourceGaps(),
    );
    if (flags.json)
      process.stdout.write(`${JSON.stringify(checkReport(setup, logsources))}
`);
    else
      process.stdout.write(`${renderCheck(setup, logsources, flags.warnings)}
`);
    if (setup.errors.length > 0) process.exitCode = 1;
  });
}

function problem(error: VigilError) {
  const { file, line, field } = error.location;
  return {
    file: file ?? null,
    line: line ?? null,
    error: field ? `${field}: ${error.message}` : error.message,
  };
}

export function checkReport(setup: DetectionSetup, logsources: readonly LogSourceMapping[]) {
  const { ruleSet } = setup;
  const loaded = ruleSet.rules.length + ruleSet.correlations.length + ruleSet.filters.length;
  return {
    files: ruleSet.files,
    rules: loaded + setup.errors.length,
    loaded,
    failed: setup.errors.map(problem),
    warnings: ruleSet.warnings.map(problem),
    /** Correlations that place addresses: idle without a geolocation database (--geoip). */
    geolocation: ruleSet.correlations.filter(needsGeolocation).map((rule) => rule.id ?? rule.title),
    logsources: logsources.map((m) => ({
      ...m.logsource,
      rules: m.rules,
      state: m.state,
      pipelines: m.pipelines ?? [],
      reason: m.reason ?? null,
    })),
  };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

function logsourceText(ls: LogSource): string {
  return (
    (['product', 'category', 'service'] as const)
      .filter((k) => ls[k] !== undefined)
      .map((k) => `${k}: ${ls[k]}`)
      .join(', ') || '(none)'
  );
}

const STATE_TEXT: Record<LogSourceMapping['state'], string> = {
  mapped: '',
  product: 'all events of its product',
  'product-wide': 'all events of its product (unmapped)',
  unmapped: 'unrecognized events only (unmapped)',
  any: 'every event',
};

function renderCheck(
  setup: DetectionSetup,
  logsources: readonly LogSourceMapping[],
  showWarnings: boolean,
): string {
  const { ruleSet, engine } = setup;
  const report = checkReport(setup, logsources);
  const lines: string[] = [heading('Rules check')];
  const failed = report.failed.length;
  lines.push(
    `  ${formatCount(report.files)} files, ${formatCount(report.rules)} rules: ${formatCount(report.loaded)} loaded, ${
      failed ? pc.red(`${formatCount(failed)} failed`) : pc.green('0 failed')
    }, ${formatCount(report.warnings.length)} warnings`,
  );
  lines.push(
    `  detection ${formatCount(ruleSet.rules.length)}, correlation ${formatCount(ruleSet.correlations.length)}, filter ${formatCount(ruleSet.filters.length)}`,
  );
  if (report.geolocation.length)
    lines.push(
      `  ${formatCount(report.geolocation.length)} correlations place addresses (impossible travel, new country): hunt and serve need --geoip for them`,
    );
  const statuses = countBy(ruleSet.rules, (r) => r.status ?? '(none)');
  const levels = countBy(ruleSet.rules, (r) => r.level ?? '(none)');
  const ordered = (map: Map<string, number>, order: readonly string[]) =>
    [...order, '(none)']
      .filter((k) => map.has(k))
      .map((k) => `${k} ${formatCount(map.get(k)!)}`)
      .join(', ');
  lines.push(`  status: ${ordered(statuses, STATUSES)}`);
  lines.push(`  level: ${ordered(levels, [...LEVELS].reverse())}`);

  lines.push('', heading('Log sources'));
  lines.push(
    table(
      ['Rules', 'Log source', 'Mapped by'],
      logsources
        .slice(0, 20)
        .map((m) => [
          formatCount(m.rules),
          logsourceText(m.logsource),
          m.pipelines?.join(', ') ?? STATE_TEXT[m.state],
        ]),
    ),
  );
  if (logsources.length > 20) lines.push(pc.dim(`  … ${logsources.length - 20} more log sources`));
  const gaps = logsources.filter((m) => m.state === 'unmapped' || m.state === 'product-wide');
  if (gaps.length) {
    const rules = gaps.reduce((sum, m) => sum + m.rules, 0);
    lines.push('', heading(pc.yellow(`Log sources no pipeline maps (${formatCount(rules)} rules)`)));
    for (const gap of gaps)
      lines.push(pc.yellow(`  ${logsourceText(gap.logsource)} (${formatCount(gap.rules)}): ${gap.reason}`));
  }

  const r = engine.routing;
  lines.push('', heading('Routing'));
  lines.push(
    `  ${formatCount(r.mapped)} rules run on the events their log source maps to (channels and event ids, or a pipeline's selections)`,
  );
  if (r.productWide)
    lines.push(`  ${formatCount(r.productWide)} rules name only a product and run on all its events`);
  if (r.unmapped.length) {
    const byLogsource = countBy(r.unmapped, (u) => logsourceText(u.rule.logsource));
    lines.push(
      pc.yellow(
        `  ${formatCount(r.unmapped.length)} rules have a log source no pipeline maps; they run on all events of their product:`,
      ),
    );
    for (const [ls, n] of byLogsource) lines.push(pc.yellow(`    ${ls} (${n})`));
  }
  if (r.unclaimed) {
    lines.push(
      `  ${formatCount(r.unclaimed)} rules are for products no pipeline identifies; they run on events no pipeline claims`,
    );
  }

  if (failed) {
    lines.push('', heading(pc.red('Failed')));
    for (const error of setup.errors) lines.push(`  ${problemLine(error)}`);
  }
  if (showWarnings && ruleSet.warnings.length) {
    lines.push('', heading(pc.yellow('Warnings')));
    for (const warning of ruleSet.warnings) lines.push(`  ${problemLine(warning)}`);
  }
  return lines.join('\n');
}
