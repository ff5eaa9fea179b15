import { join } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import {
  epssFile,
  locateContent,
  readEpss,
  readSsvcTables,
  sourcePresent,
  vigilHome,
} from '../content/index.js';
import { describeError, VigilError } from '../core/index.js';
import { csvCell } from '../detect/index.js';
import { extractIndicators, readAdvisory } from '../intel/index.js';
import {
  AssetIndex,
  BOD_TIMELINE_DAYS,
  byUrgency,
  DECISION_ORDER,
  DEFAULT_EPSS_THRESHOLD,
  type Decision,
  importFindings,
  type Prioritized,
  type PrioritizeOptions,
  prioritize,
  readAssets,
  VulnStore,
} from '../vuln/index.js';
import { advisorySources } from './advisory.js';
import { formatCount, heading, table, UsageError } from './terminal.js';

interface DbFlags {
  db?: string;
}

/** What `vulns list` prints of each finding, in this order, as JSON members or CSV columns. */
const LISTED_FIELDS = [
  'asset',
  'cve',
  'decision',
  'timeline',
  'due',
  'kev',
  'epss',
  'cvss',
  'public_facing',
  'status',
  'reasons',
] as const satisfies readonly (keyof Prioritized)[];

export function registerVulns(program: Command): void {
  const vulns = program
    .command('vulns')
    .description('vulnerability prioritization: scanner results, KEV, EPSS, CVSS, SSVC, SLAs');
  vulns
    .command('import')
    .description(
      'import scanner results (Nessus .nessus, OpenVAS/GVM XML, Trivy JSON, Grype JSON, CSV); a later scan marks what it no longer reports as fixed',
    )
    .argument('<files...>', 'scan files')
    .option(
      '--assets <file>',
      'asset inventory (YAML or CSV: hostname, addresses, public_facing, criticality, owner, tags)',
    )
    .option('--db <path>', 'the database (default: $VIGIL_HOME/vulns.db)')
    .action((files: string[], flags: DbFlags & { assets?: string }) => {
      const store = VulnStore.open(dbPath(flags));
      try {
        if (flags.assets) {
          const { assets, problems } = readAssets(flags.assets);
          for (const problem of problems.slice(0, 10)) warn(describeError(problem));
          store.saveAssets(assets.assets);
          process.stdout.write(`${formatCount(assets.assets.length)} assets from ${flags.assets}\n`);
        }
        let failed = false;
        const rows: (string | number)[][] = [];
        for (const file of files) {
          try {
            const result = importFindings(file);
            const counts = store.importScan(result.findings, result.scannedAssets, file, result.format);
            rows.push([
              file,
              result.format,
              result.findings.length,
              counts.added,
              counts.seenAgain + counts.reopened,
              counts.fixed,
              result.problems.length,
            ]);
            for (const problem of result.problems.slice(0, 10)) warn(describeError(problem));
            if (result.problems.length > 10)
              warn(`${file}: ${result.problems.length - 10} more entries skipped`);
          } catch (error) {
            if (!(error instanceof VigilError)) throw error;
            failed = true;
            process.stderr.write(`${pc.red('vigil: error:')} ${describeError(error)}\n`);
          }
        }
        if (rows.length)
          process.stdout.write(
            `${table(['File', 'Format', 'Findings', 'New', 'Seen again', 'Fixed', 'Skipped'], rows)}\n`,
          );
        if (failed) process.exitCode = 1;
      } finally {
        store.close();
      }
    });

  vulns
    .command('list')
    .description(
      'open findings, most urgent first: SSVC decision (Track, Track*, Attend, Act), BOD 26-04 timeline and due date, with every reason',
    )
    .option('--decision <decision>', `only this decision: ${DECISION_ORDER.join(', ')}`)
    .option('-f, --format <format>', 'table, json or csv', 'table')
    .option('--all', 'fixed findings too')
    .option('--advisory <file>', 'raise and mark the CVEs this advisory names')
    .option('--assets <file>', 'use this asset inventory instead of the one imported')
    .option(
      '--epss-threshold <p>',
      'EPSS probability that counts as a public exploit',
      String(DEFAULT_EPSS_THRESHOLD),
    )
    .option(
      '--sla <days>',
      "days per BOD 26-04 timeline instead of the directive's, e.g. 3D=2,14D=10,60D=45,FSU=180 (3DF, none: no date)",
    )
    .option('--db <path>', 'the database (default: $VIGIL_HOME/vulns.db)')
    .action(
      async (
        flags: DbFlags & {
          decision?: string;
          format: string;
          all?: boolean;
          advisory?: string;
          assets?: string;
          epssThreshold: string;
        },
      ) => {
        if (flags.decision && !DECISION_ORDER.includes(flags.decision as Decision)) {
          throw new UsageError(`--decision takes ${DECISION_ORDER.join(', ')}, not '${flags.decision}'`);
        }
        if (!['table', 'json', 'csv'].includes(flags.format))
          throw new UsageError(`--format must be table, json or csv, not '${flags.format}'`);
        const prioritized = await prioritizedFindings(program, flags);
        const shown = prioritized.filter((p) => !flags.decision || p.decision === flags.decision);
        const out = shown.map((p) => Object.fromEntries(LISTED_FIELDS.map((field) => [field, p[field]])));
        if (flags.format === 'json') await writeJsonArray(out);
        else if (flags.format === 'csv') {
          const head = LISTED_FIELDS;
          process.stdout.write(
            `${[head.join(','), ...out.map((r) => head.map((h) => csvCell(r[h])).join(','))].join('\n')}\n`,
          );
        } else {
          process.stdout.write(
            `${table(
              ['Decision', 'Due', 'Asset', 'CVE', 'KEV', 'EPSS', 'CVSS', 'Public', 'Timeline'],
              shown
                .slice(0, 200)
                .map((p) => [
                  paint(p.decision),
                  p.due ?? '',
                  p.asset,
                  `${p.cve}${p.advisory ? ' *' : ''}`,
                  p.kev ? 'yes' : '',
                  p.epss?.toFixed(3) ?? '',
                  p.cvss?.toFixed(1) ?? '',
                  p.public_facing ? 'yes' : '',
                  p.timeline,
                ]),
            )}\n${shown.length > 200 ? `… ${shown.length - 200} more (--format json lists all)\n` : ''}`,
          );
        }
      },
    );

  vulns
    .command('metrics')
    .description('open findings by decision, overdue, fixed and mean time to remediate')
    .option('--json', 'print the metrics as JSON')
    .option('--sla <days>', 'days per BOD 26-04 timeline, as for vulns list')
    .option('--db <path>', 'the database (default: $VIGIL_HOME/vulns.db)')
    .action(async (flags: DbFlags & { json?: boolean; sla?: string }) => {
      const prioritized = await prioritizedFindings(program, {
        ...flags,
        all: true,
        epssThreshold: String(DEFAULT_EPSS_THRESHOLD),
      });
      const store = VulnStore.open(dbPath(flags));
      const mttr = store.meanTimeToRemediateDays();
      store.close();
      const today = new Date().toISOString().slice(0, 10);
      const open = prioritized.filter((p) => p.status === 'open');
      const metrics = {
        open: open.length,
        byDecision: Object.fromEntries(
          DECISION_ORDER.map((d) => [d, open.filter((p) => p.decision === d).length]),
        ),
        overdue: open.filter((p) => p.due !== null && p.due < today).length,
        fixed: prioritized.length - open.length,
        meanTimeToRemediateDays: mttr,
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${heading('Vulnerabilities')}\n  ${metrics.open} open: ${DECISION_ORDER.map((d) => `${metrics.byDecision[d]} ${paint(d)}`).join(', ')}\n  ${metrics.overdue} overdue\n  ${metrics.fixed} fixed; mean time to remediate ${mttr === null ? 'n/a' : `${mttr} days`}\n`,
      );
    });
}

function dbPath(flags: DbFlags): string {
  return flags.db ?? join(vigilHome(), 'vulns.db');
}

function warn(text: string): void {
  process.stderr.write(`${pc.yellow('vigil: warning:')} ${text}\n`);
}

function paint(decision: Decision): string {
  return decision === 'act'
    ? pc.red(decision)
    : decision === 'attend'
      ? pc.yellow(decision)
      : decision === 'track*'
        ? pc.cyan(decision)
        : decision;
}

async function prioritizedFindings(
  program: Command,
  flags: DbFlags & { all?: boolean; advisory?: string; assets?: string; epssThreshold: string; sla?: string },
): Promise<Prioritized[]> {
  const threshold = Number(flags.epssThreshold);
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new UsageError(`--epss-threshold must be a probability from 0 to 1, not '${flags.epssThreshold}'`);
  }
  const store = VulnStore.open(dbPath(flags));
  try {
    const assets = flags.assets ? readAssets(flags.assets).assets : new AssetIndex(store.assets());
    const advisoryCves = flags.advisory
      ? new Set(
          extractIndicators((await readAdvisory(flags.advisory)).text)
            .filter((i) => i.type === 'cve')
            .map((i) => i.value),
        )
      : undefined;
    const options = prioritizeOptions(program.opts().content, assets, threshold, advisoryCves);
    if (flags.sla) options.timelineDays = parseSla(flags.sla);
    if (!options.kev)
      warn(
        'no KEV catalogue: exploitation is judged by EPSS and scanners only (vigil content update --only kev)',
      );
    if (!options.epss) warn('no EPSS scores (vigil content update --only epss)');
    return store
      .findings(flags.all ? undefined : 'open')
      .map((f) => prioritize(f, options))
      .sort(byUrgency);
  } finally {
    store.close();
  }
}

/** The decision tables, KEV and EPSS from the content folder, with the assets and the advisory's CVEs. */
export function prioritizeOptions(
  contentFlag: string | undefined,
  assets: AssetIndex | undefined,
  epssThreshold: number,
  advisoryCves?: Set<string>,
): PrioritizeOptions {
  const content = locateContent({ flag: contentFlag });
  if (!content || !sourcePresent(content.dir, 'ssvc')) {
    throw new VigilError(
      'SSVC_MISSING',
      'no SSVC decision tables. Get them with: vigil content update --only ssvc',
    );
  }
  const epss = epssFile(join(content.dir, 'epss'));
  return {
    ...readSsvcTables(join(content.dir, 'ssvc')),
    kev: advisorySources(contentFlag, false).kev,
    epss: epss ? readEpss(epss) : undefined,
    assets,
    epssThreshold,
    advisoryCves,
  };
}

/**
 * A JSON array written an element at a time, waiting whenever the output is full: the list of a
 * large scan is hundreds of megabytes as one string.
 */
async function writeJsonArray(items: readonly unknown[]): Promise<void> {
  const out = process.stdout;
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve()));
  await write('[');
  let chunk = '';
  for (let i = 0; i < items.length; i++) {
    chunk += `${i ? ',' : ''}\n  ${JSON.stringify(items[i])}`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(`${chunk}\n]\n`);
}

/** `3D=2,14D=10,FSU=none` over the directive's days: keys are the BOD 26-04 timeline keys. */
export function parseSla(text: string): Record<string, number | null> {
  const days: Record<string, number | null> = { ...BOD_TIMELINE_DAYS };
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.split('=').map((p) => p.trim());
    if (!key || !(key.toUpperCase() in BOD_TIMELINE_DAYS) || value === undefined) {
      throw new UsageError(
        `--sla takes ${Object.keys(BOD_TIMELINE_DAYS).join(', ')} = days or none, not '${part}'`,
      );
    }
    const n = value === 'none' ? null : Number(value);
    if (n !== null && !(Number.isInteger(n) && n >= 0))
      throw new UsageError(`--sla: '${value}' is not a number of days`);
    days[key.toUpperCase()] = n;
  }
  return days;
}
