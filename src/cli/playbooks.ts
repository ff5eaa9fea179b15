import type { Command } from 'commander';
import pc from 'picocolors';
import { loadPlaybooks, type Mode, type Step } from '../respond/index.js';
import { formatCount, heading, problemLine, UsageError } from './terminal.js';

/** A step as the check lists it: its action, `enrich.LOOKUP` or `decide`, and the mode it runs in. */
function stepSummary(step: Step, mode: Mode): { kind: Step['kind']; action: string; mode: Mode } {
  if (step.kind === 'action') return { kind: step.kind, action: step.action, mode: step.mode ?? mode };
  return { kind: step.kind, action: step.kind === 'enrich' ? `enrich.${step.lookup}` : 'decide', mode };
}

export function registerPlaybooks(program: Command): void {
  const playbooks = program.command('playbooks').description('response playbooks');
  playbooks
    .command('check')
    .description(
      'load and validate playbooks; report every one that cannot be used, with file, line and field',
    )
    .argument('<paths...>', 'playbook files or folders (searched recursively for .yml and .yaml)')
    .option(
      '--json',
      'print one JSON object: {"files","playbooks":[{name,file,line,mode,steps:[{name,kind,action,mode}]}],"failed":[{file,line,field,error}]}',
    )
    .action(async (paths: string[], flags: { json?: boolean }) => {
      if (paths.length === 0) throw new UsageError('no playbooks given: vigil playbooks check PATHS...');
      const set = await loadPlaybooks(paths);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({
            files: set.files,
            playbooks: set.playbooks.map((p) => ({
              name: p.name,
              file: p.origin.file,
              line: p.origin.line,
              mode: p.mode,
              steps: p.steps.map((s) => ({ name: s.name, ...stepSummary(s, p.mode) })),
            })),
            failed: set.errors.map((e) => ({
              file: e.location.file ?? null,
              line: e.location.line ?? null,
              field: e.location.field ?? null,
              error: e.message,
            })),
          })}\n`,
        );
      } else {
        const lines = [
          heading('Playbooks check'),
          `  ${formatCount(set.files)} files: ${formatCount(set.playbooks.length)} playbooks loaded, ${formatCount(set.errors.length)} problems`,
        ];
        for (const p of set.playbooks)
          lines.push(
            `  ${pc.bold(p.name)} (${p.mode}): ${p.steps.map((s) => `${s.name} ${pc.dim(stepSummary(s, p.mode).action)}`).join(', ')}`,
          );
        if (set.errors.length) {
          lines.push('', heading('Problems'));
          for (const error of set.errors) lines.push(problemLine(error));
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      if (set.errors.length > 0) process.exitCode = 1;
    });
}
