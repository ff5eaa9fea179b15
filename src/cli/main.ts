import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { describeError, VigilError } from '../core/index.js';
import { packageVersion } from './version.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: together they pull in every
 * dependency Vigil has (PDF reading, SQLite ...), which costs a hunt half a second of start-up.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  hunt: async () => (await import('./hunt.js')).registerHunt,
  search: async () => (await import('./search.js')).registerSearch,
  dump: async () => (await import('./dump.js')).registerDump,
  rules: async () => (await import('./rules.js')).registerRules,
  attack: async () => (await import('./attack.js')).registerAttack,
  advisory: async () => (await import('./advisory.js')).registerAdvisory,
  content: async () => (await import('./content.js')).registerContent,
  coverage: async () => (await import('./coverage.js')).registerCoverage,
  assess: async () => (await import('./assess.js')).registerAssess,
  vulns: async () => (await import('./vulns.js')).registerVulns,
  serve: async () => (await import('./serve.js')).registerServe,
  admin: async () => (await import('./admin.js')).registerAdmin,
  playbooks: async () => (await import('./playbooks.js')).registerPlaybooks,
  respond: async () => (await import('./respond.js')).registerRespond,
};

/** Global options that take a value, so the value is not taken for the command's name. */
const VALUED_OPTIONS = new Set(['--content']);

/** The command named on the command line, if it is one of Vigil's; else all are needed (help). */
function commandNamed(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUED_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return Object.hasOwn(COMMANDS, arg) ? arg : undefined;
  }
  return undefined;
}

/** The program with the commands given (all of them by default, in the order `--help` lists them). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('vigil')
    .description(
      'Threat-informed detection and response workbench: Sigma rules over your logs, ATT&CK first.',
    )
    .version(packageVersion())
    .option(
      '--content <dir>',
      'folder with third-party content (sigma/, attack/, ...); also VIGIL_CONTENT_DIR',
    )
    .showHelpAfterError()
    // Commander's own errors (unknown option, missing argument) come back here as exceptions, so
    // that they exit with the usage code like every other usage error; subcommands inherit this.
    .exitOverride();
  const names = only ? [only] : Object.keys(COMMANDS);
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `vigil hunt … | head`: the reader leaving is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  try {
    await (await buildProgram(commandNamed(argv))).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message; --help and --version are its only successes.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof VigilError) {
      process.stderr.write(`${pc.red('vigil: error:')} ${describeError(error)}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${pc.red('vigil: unexpected error:')} ${describeError(error)}\n`);
    if (process.env.VIGIL_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    else
      process.stderr.write(pc.dim('This is a bug in Vigil; run with VIGIL_DEBUG=1 for the stack trace.\n'));
    process.exitCode = 70;
  }
}
