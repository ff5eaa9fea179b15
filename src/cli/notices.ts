import pc from 'picocolors';
import type { Notice } from '../assess/index.js';
import { formatLocation, type VigilError } from '../core/index.js';
import { printable } from './terminal.js';

/** How many rules that cannot be used are named: `vigil rules check` lists them all. */
const RULES_SHOWN = 5;
/** Malformed KEV entries shown before the rest are counted. */
const KEV_SHOWN = 3;

/** Shows a workflow's notice on standard error as it comes. */
export function printNotice(notice: Notice): void {
  const lines = noticeLines(notice);
  if (lines.length) process.stderr.write(`${lines.join('\n')}\n`);
}

function noticeLines({ severity, input, problems }: Notice): string[] {
  if (severity === 'error') return problems.map((p) => `${pc.red('error')} ${placed(p)}`);
  if (severity === 'skipped') {
    if (input === 'rules')
      return problems.slice(0, RULES_SHOWN).map((p) => pc.dim(`rule skipped: ${printable(p.describe())}`));
    return problems.map((p) => `${pc.yellow('skipped')} ${placed(p)}`);
  }
  const shown = input === 'kev' ? problems.slice(0, KEV_SHOWN) : problems;
  const lines = shown.map((p) => `${pc.yellow('vigil: warning:')} ${printable(p.describe())}`);
  if (problems.length > shown.length)
    lines.push(pc.yellow(`… and ${problems.length - shown.length} more malformed KEV entries, left out`));
  return lines;
}

/** `place: message`, the place dimmed, both as text a terminal only shows. */
function placed(problem: VigilError): string {
  const where = formatLocation(problem.location);
  const message = printable(problem.message);
  return where ? `${pc.dim(`${printable(where)}:`)} ${message}` : message;
}
