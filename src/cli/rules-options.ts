import { join } from 'node:path';
import type { Command } from 'commander';
import { vigilHome } from '../content/index.js';
import type { SetupOptions } from '../detect/index.js';
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
      "Sigma rule files or folders (default: rules and rules-emerging-threats of the SigmaHQ pack in the content folder, and Vigil's own packs)",
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
