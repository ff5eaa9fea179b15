import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import pc from 'picocolors';
import { describeError, VigilError } from '../core/index.js';
import { registerAdvisory } from './advisory.js';
import { registerAssess } from './assess.js';
import { registerAttack } from './attack.js';
import { registerContent } from './content.js';
import { registerCoverage } from './coverage.js';
import { registerDump } from './dump.js';
import { registerHunt } from './hunt.js';
import { registerRules } from './rules.js';
import { registerVulns } from './vulns.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description(
      'Threat-informed detection and response workbench: Sigma rules over your logs, ATT&CK first.',
    )
    .version(packageVersion())
    .option(
      '--content <dir>',
      'folder with third-party content (sigma/, attack/, ...); also VIGIL_CONTENT_DIR',
    )
    .showHelpAfterError();
  registerHunt(program);
  registerDump(program);
  registerRules(program);
  registerAttack(program);
  registerAdvisory(program);
  registerContent(program);
  registerCoverage(program);
  registerAssess(program);
  registerVulns(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `vigil hunt … | head`: the reader leaving is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
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
