import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import pc from 'picocolors';
import { AttackIndex, type AttackKnowledge } from '../attack/index.js';
import {
  CONTENT_SOURCES,
  candidateContentDirs,
  contentDirIn,
  contentHelp,
  contentStatus,
  locateContent,
  type ProgressEvent,
  SOURCE_NAMES,
  type SourceName,
  updateContent,
  vigilHome,
} from '../content/index.js';
import { NEWER_ATTACK_HINT, rulesUnknownTags, type UnknownTags } from '../coverage/index.js';
import { loadRuleSetup } from '../detect/index.js';
import { fetchPolicy } from './fetch-policy.js';
import { formatBytes, formatCount, heading, table, UsageError } from './terminal.js';

interface UpdateFlags {
  only?: string;
  from?: string;
}

export function registerContent(program: Command): void {
  const content = program
    .command('content')
    .description(
      'third-party content: ATT&CK, Sigma rules, KEV, EPSS, MISP warning lists, SSVC decision tables',
    );
  content
    .command('update')
    .description(
      `download content from its official sources (or copy it from a folder), verify it and install it under $VIGIL_HOME/content; a failed source keeps its previous copy`,
    )
    .option('--only <sources>', `comma-separated: ${SOURCE_NAMES.join(',')} (default: all)`)
    .option('--from <dir>', 'copy from this folder (laid out like ../shared/content) instead of downloading')
    .addHelpText(
      'after',
      '\nSources:\n' +
        SOURCE_NAMES.map(
          (n) =>
            `  ${n.padEnd(13)} ${CONTENT_SOURCES[n].description}\n${''.padEnd(16)}${CONTENT_SOURCES[n].url}`,
        ).join('\n') +
        '\n\nVIGIL_CONTENT_MIRROR=URL fetches every source from a mirror serving the same files (it may be on a private address).' +
        '\nVIGIL_FETCH_ALLOW_HOSTS=HOSTS lets downloads reach these hosts although they resolve to private addresses.',
    )
    .action(async (flags: UpdateFlags) => {
      const only = flags.only ? parseOnly(flags.only) : undefined;
      const home = vigilHome();
      const progress = progressReporter();
      const results = await updateContent({
        home,
        only,
        from: flags.from,
        mirror: process.env.VIGIL_CONTENT_MIRROR || undefined,
        fetch: fetchPolicy(),
        onProgress: progress.event,
      });
      progress.stop();
      const rows = results.map((r) => [
        r.source,
        r.ok ? pc.green('updated') : pc.red('failed'),
        r.version ?? '',
        r.ok ? (r.summary ?? '') : (r.error ?? ''),
      ]);
      process.stdout.write(`${table(['Source', 'Result', 'Version', 'What arrived'], rows)}\n`);
      for (const result of results) {
        for (const warning of result.warnings)
          process.stderr.write(`${pc.yellow('vigil: warning:')} ${result.source}: ${warning}\n`);
      }
      process.stdout.write(pc.dim(`Installed in ${contentDirIn(home)}\n`));
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });

  content
    .command('status')
    .description(
      "which content is installed: each source's own version and date, stale ones and rules tagged for a newer ATT&CK named",
    )
    .option('--json', 'print the status as JSON')
    .action(async (flags: { json: boolean }) => {
      const flag = program.opts().content;
      const located = locateContent({ flag });
      // A folder named by --content or VIGIL_CONTENT_DIR is the one in use, even when it is missing.
      const named = candidateContentDirs({ flag }).find((c) => c.via === 'flag' || c.via === 'env');
      const dir = located?.dir ?? named?.dir ?? contentDirIn(vigilHome());
      if (!located && named) {
        process.stderr.write(`${pc.red('vigil:')} ${contentHelp({ flag })}\n`);
        process.exitCode = 1;
      }
      const cacheDir = join(vigilHome(), 'cache');
      const status = contentStatus(dir, { cacheDir });
      const sigma = status.sources.find((s) => s.source === 'sigma')!;
      const unknown =
        status.attack && sigma.present ? await rulesBeyondAttack(dir, status.attack, cacheDir) : undefined;
      if (unknown?.rules) {
        sigma.warnings.push(
          `${formatCount(unknown.rules)} rules carry ATT&CK IDs that ATT&CK v${status.attack?.version ?? '?'} does not know: ${unknown.tags
            .slice(0, 6)
            .map((u) => `${u.tag} (${u.rules})`)
            .join(', ')}${unknown.tags.length > 6 ? ', …' : ''}. ${NEWER_ATTACK_HINT}`,
        );
      }
      if (flags.json) {
        const sources = status.sources.map(({ warnings, ...source }) => ({ ...source, warnings }));
        process.stdout.write(
          `${JSON.stringify({ folder: dir, via: located?.via ?? null, sources, unknownAttackTags: unknown ?? null }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(
          `${heading('Content')} ${dir}${located ? pc.dim(` (found via ${located.via})`) : pc.yellow(' (not found)')}\n`,
        );
        const rows = status.sources.map((s) => [
          s.source,
          s.present ? pc.green('present') : pc.red('missing'),
          s.version ?? '',
          s.date
            ? `${s.dated} ${s.date} (${age(s.ageDays!)})${s.stale ? ` ${pc.yellow('stale')}` : ''}`
            : s.present
              ? pc.dim('not dated')
              : '',
          s.updated ? s.updated.slice(0, 10) : s.present ? pc.dim('not by vigil') : '',
          s.present ? (s.summary ?? '') : `vigil content update --only ${s.source}`,
        ]);
        process.stdout.write(
          `${table(['Source', 'State', 'Version', 'Its date', 'Installed', 'Contents / how to get it'], rows)}\n`,
        );
      }
      for (const source of status.sources) {
        for (const warning of source.warnings)
          process.stderr.write(`${pc.yellow('vigil: warning:')} ${source.source}: ${warning}\n`);
      }
    });
}

/**
 * Rules of the content's Sigma packs tagged with techniques the installed ATT&CK lacks: rules
 * written for a newer release, whose techniques coverage would show as uncovered.
 */
async function rulesBeyondAttack(
  dir: string,
  knowledge: AttackKnowledge,
  ruleCache: string,
): Promise<UnknownTags> {
  const sigma = join(dir, CONTENT_SOURCES.sigma.folder);
  const packs = readdirSync(sigma, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.startsWith('rules'))
    .map((entry) => join(sigma, entry.name));
  const { ruleSet } = await loadRuleSetup({ rules: packs, ruleCache });
  return rulesUnknownTags(ruleSet.rules, new AttackIndex(knowledge));
}

function parseOnly(text: string): SourceName[] {
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !SOURCE_NAMES.includes(n as SourceName));
  if (unknown.length || names.length === 0) {
    throw new UsageError(`--only takes ${SOURCE_NAMES.join(', ')}; not '${unknown.join(',') || text}'`);
  }
  return names as SourceName[];
}

function age(days: number): string {
  if (days < 1) return 'today';
  if (days === 1) return '1 day ago';
  return `${days} days ago`;
}

/** A download bar per source on a terminal; a line per step otherwise. */
function progressReporter(): { event: (e: ProgressEvent) => void; stop: () => void } {
  const tty = process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  let barFor = '';
  let lastPhase = '';
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
    barFor = '';
  };
  return {
    event(e) {
      const key = `${e.source}:${e.phase}:${e.what ?? ''}`;
      if (e.phase === 'download' && tty) {
        if (barFor !== key) {
          stopBar();
          bar = new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: ` ${e.source.padEnd(12)} {bar} {value_text} / {total_text}`,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(e.total || 1, 0, { value_text: '0 B', total_text: e.total ? formatBytes(e.total) : '?' });
          barFor = key;
        }
        bar!.setTotal(Math.max(e.total || 1, e.received ?? 0));
        bar!.update(e.received ?? 0, {
          value_text: formatBytes(e.received ?? 0),
          total_text: e.total ? formatBytes(e.total) : '?',
        });
        return;
      }
      if (e.phase === 'download') {
        if (lastPhase !== key) process.stderr.write(`${e.source}: downloading ${e.what ?? ''}\n`);
        lastPhase = key;
        return;
      }
      stopBar();
      if (lastPhase === key) return;
      lastPhase = key;
      const text: Record<string, string> = {
        unpack: 'unpacking',
        verify: 'verifying',
        history: `building the name history: ${e.what ?? ''}`,
        done: 'done',
        failed: 'failed, previous copy kept',
      };
      process.stderr.write(pc.dim(`${e.source}: ${text[e.phase] ?? e.phase}\n`));
    },
    stop: stopBar,
  };
}
