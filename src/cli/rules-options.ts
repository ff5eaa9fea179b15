import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { contentHelp, locateContent, vigilHome } from '../content/index.js';
import type { SetupOptions } from '../detect/index.js';
import { UsageError } from './terminal.js';
import type { VariadicPaths } from './variadic.js';

/** Options every command that loads rules shares. */
export interface RuleFlags {
  rules?: string[];
  filters?: string[];
  pipeline?: string[];
  builtinPipeline: boolean;
  placeholders?: string;
}

export function addRuleOptions(command: Command, rulesRequired: boolean): Command {
  if (!rulesRequired) {
    command.option(
      '-r, --rules <paths...>',
      'Sigma rule files or folders (default: rules and rules-emerging-threats of the SigmaHQ pack in the content folder)',
    );
  }
  return command
    .option('--filters <paths...>', 'Sigma filter files to apply to the rules')
    .option('--pipeline <files...>', 'processing pipelines to use before the built-in Windows one')
    .option('--no-builtin-pipeline', 'do not use the built-in Windows pipeline')
    .option(
      '--placeholders <file>',
      'values for %placeholders% of rules using |expand (YAML: name: [values])',
    );
}

/** The SigmaHQ folders hunting uses when no rules are given. */
export const DEFAULT_RULE_FOLDERS = ['rules', 'rules-emerging-threats'];

export function defaultRulePaths(contentFlag: string | undefined): string[] {
  const content = locateContent({ flag: contentFlag });
  if (!content)
    throw new UsageError(
      `no rules given and no content to take them from.\n${contentHelp({ flag: contentFlag })}`,
    );
  const paths = DEFAULT_RULE_FOLDERS.map((folder) => join(content.dir, 'sigma', folder)).filter((p) =>
    existsSync(p),
  );
  if (paths.length === 0) {
    throw new UsageError(
      `the content folder ${content.dir} has no sigma/rules; give rules with --rules PATH.`,
    );
  }
  return paths;
}

export function setupOptions(flags: RuleFlags, rules: string[]): SetupOptions {
  return {
    rules,
    filters: flags.filters,
    pipelines: flags.pipeline,
    builtinPipeline: flags.builtinPipeline,
    placeholders: flags.placeholders,
    ruleCache: join(vigilHome(), 'cache'),
  };
}

/** The options that take several paths, as written: they can take the paths meant for the command. */
export function rulePathOptions(flags: RuleFlags): VariadicPaths[] {
  return [
    { flag: '--rules', values: flags.rules },
    { flag: '--filters', values: flags.filters },
    { flag: '--pipeline', values: flags.pipeline },
  ];
}
