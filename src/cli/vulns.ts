import { join } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { prioritizeOptions } from '../assess/index.js';
import { vigilHome } from '../content/index.js';
import { calendarDay, describeError, VigilError } from '../core/index.js';
import { csvCell } from '../detect/index.js';
import { extractIndicators, readAdvisory } from '../intel/index.js';
import {
  AssetIndex,
  BOD_TIMELINE_DAYS,
  DECISION_ORDER,
  DEFAULT_EPSS_THRESHOLD,
  type Decision,
  epssText,
  type FindingFacts,
  groupFindings,
  importFindings,
  type Prioritized,
  prioritizeStored,
  readAssets,
  type ScanReport,
  staleContent,
  VulnStore,
} from '../vuln/index.js';
import { fetchPolicy } from './fetch-policy.js';
import { printNotice } from './notices.js';
import { formatCount, heading, printable, table, UsageError } from './terminal.js';

interface DbFlags {
  db?: string;
}

/** What `vulns list` prints of each finding, in this order, as JSON members or CSV columns. */
const LISTED_FIELDS = [
  'asset',
  'port',
  'cve',
  'product',
  'service',
  'scanners',
  'first_seen',
  'decision',
  'timeline',
  'due',
  'due_source',
  'overdue',
  'kev',
  'epss',
  'cvss',
  'public_facing',
  'status',
  'fixed_at',
  'not_retested_since',
  'owner',
  'accepted_by',
  'accepted_until',
  'accepted_reason',
  'reasons',
] as const satisfies readonly (keyof Prioritized)[];

export function registerVulns(program: Command): void {
  const vulns = program
    .command('vulns')
    .description('vulnerability prioritization: scanner results, KEV, EPSS, CVSS, SSVC, SLAs');
  vulns
    .command('import')
    .description(
      'import scanner results (Nessus .nessus, OpenVAS/GVM XML, Trivy JSON, Grype JSON, CSV); a finding closes only when its own check re-ran on the asset and did not find it',
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
        const scans: ScanReport[] = [];
        for (const file of files) {
          try {
            scans.push(importFindings(file));
          } catch (error) {
            if (!(error instanceof VigilError)) throw error;
            failed = true;
            process.stderr.write(
              `${pc.red('vigil: error:')} ${describeError(error)} (nothing imported from it)\n`,
            );
          }
        }
        const rows: (string | number)[][] = [];
        // Scan time order: the table reads as the history it records.
        for (const scan of scans.sort((a, b) => a.scannedAt.localeCompare(b.scannedAt))) {
          const { counts, alreadyImported } = store.importScan(scan);
          if (alreadyImported) {
            warn(
              `${scan.file}: imported before (${alreadyImported.file}, ${alreadyImported.importedAt.slice(0, 10)}): nothing changed`,
            );
            continue;
          }
          rows.push([
            scan.file,
            scan.format,
            scan.scannedAt.slice(0, 16).replace('T', ' '),
            scan.findings.length,
            counts.added,
            counts.seenAgain,
            counts.reopened,
            counts.fixed,
            scan.problems.length,
          ]);
          for (const note of scan.notes) warn(`${scan.file}: ${note}`);
          for (const problem of scan.problems.slice(0, 10)) warn(describeError(problem));
          if (scan.problems.length > 10)
            warn(`${scan.file}: ${scan.problems.length - 10} more entries skipped`);
        }
        if (rows.length)
          process.stdout.write(
            `${table(['File', 'Format', 'Scanned', 'Findings', 'New', 'Seen again', 'Reopened', 'Fixed', 'Skipped'], rows)}\n`,
          );
        if (failed) process.exitCode = 1;
      } finally {
        store.close();
      }
    });

  vulns
    .command('list')
    .description(
      'open findings, what must be done first first: overdue, due date and BOD 26-04 timeline, then SSVC decision (Track, Track*, Attend, Act), with every reason',
    )
    .option(
      '--decision <decision>',
      `only this decision (${DECISION_ORDER.join(', ')}), and every overdue KEV finding whatever its decision`,
    )
    .option('-f, --format <format>', 'table, json or csv', 'table')
    .option('--all', 'fixed findings too')
    .option('--advisory <file>', 'raise and mark the CVEs this advisory names')
    .option('--assets <file>', 'use this asset inventory instead of the one imported')
    .option(
      '--epss-threshold <p>',
      'EPSS probability from which a public exploit is inferred',
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
        const shown = flags.decision ? withDecision(prioritized, flags.decision as Decision) : prioritized;
        const out = shown.map((p) => Object.fromEntries(LISTED_FIELDS.map((field) => [field, p[field]])));
        const threshold = Number(flags.epssThreshold);
        if (flags.format === 'json') await writeJsonArray(out);
        else if (flags.format === 'csv') {
          const head = LISTED_FIELDS;
          process.stdout.write(
            `${[head.join(','), ...out.map((r) => head.map((h) => csvCell(r[h])).join(','))].join('\n')}\n`,
          );
        } else {
          process.stdout.write(
            `${table(
              [
                'Decision',
                'Due',
                'Asset',
                'Port',
                'CVE',
                'KEV',
                'EPSS',
                'CVSS',
                'Public',
                'Timeline',
                'Scanner',
                'First seen',
                'Product',
                'Note',
              ],
              shown
                .slice(0, 200)
                .map((p) => [
                  paint(p.decision),
                  p.overdue ? pc.red(`${p.due} overdue`) : (p.due ?? ''),
                  p.asset,
                  p.port ?? '',
                  `${p.cve}${p.advisory ? ' *' : ''}`,
                  p.kev ? 'yes' : '',
                  p.epss === null ? '' : epssText(p.epss, threshold),
                  p.cvss?.toFixed(1) ?? '',
                  p.public_facing ? 'yes' : '',
                  p.timeline,
                  p.scanners.join(', '),
                  p.first_seen.slice(0, 10),
                  printable((p.product ?? '').slice(0, 40)),
                  note(p),
                ]),
            )}\n${shown.length > 200 ? `… ${shown.length - 200} more (--format json lists all)\n` : ''}`,
          );
        }
      },
    );

  vulns
    .command('metrics')
    .description(
      'open findings by decision, accepted, overdue, not re-tested, fixed and mean time to remediate',
    )
    .option('--json', 'print the metrics as JSON')
    .option('--sla <days>', 'days per BOD 26-04 timeline, as for vulns list')
    .option('--db <path>', 'the database (default: $VIGIL_HOME/vulns.db)')
    .action(async (flags: DbFlags & { json?: boolean; sla?: string }) => {
      const prioritized = await prioritizedFindings(program, {
        ...flags,
        all: true,
        epssThreshold: String(DEFAULT_EPSS_THRESHOLD),
      });
      const open = prioritized.filter((p) => p.status === 'open' && !p.accepted);
      const fixed = prioritized.filter((p) => p.status === 'fixed');
      const days = fixed
        .filter((p) => p.fixed_at)
        .map((p) => (Date.parse(p.fixed_at!) - Date.parse(p.first_seen)) / 86_400_000);
      const mttr = days.length ? Math.round((days.reduce((a, b) => a + b, 0) / days.length) * 10) / 10 : null;
      const metrics = {
        open: open.length,
        byDecision: Object.fromEntries(
          DECISION_ORDER.map((d) => [d, open.filter((p) => p.decision === d).length]),
        ),
        overdue: open.filter((p) => p.overdue).length,
        notRetested: open.filter((p) => p.not_retested_since !== null).length,
        accepted: prioritized.filter((p) => p.accepted).length,
        fixed: fixed.length,
        meanTimeToRemediateDays: mttr,
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${heading('Vulnerabilities')}\n  ${metrics.open} open: ${DECISION_ORDER.map((d) => `${metrics.byDecision[d]} ${paint(d)}`).join(', ')}\n  ${metrics.overdue} overdue, ${metrics.notRetested} not re-tested by the latest scan of their asset\n  ${metrics.accepted} accepted as a risk\n  ${metrics.fixed} fixed; mean time to remediate ${mttr === null ? 'n/a' : `${mttr} days`}\n`,
      );
    });

  vulns
    .command('accept')
    .description(
      'accept the risk of a finding until a day: it waits, and counts neither open nor overdue; when the day passes it is open again',
    )
    .argument('<asset>', 'the asset as vulns list names it (or as a scanner names it)')
    .argument('<cve>', 'the CVE')
    .option('--by <name>', 'who accepts the risk')
    .option('--reason <text>', 'why')
    .option('--until <day>', 'the last day the acceptance holds (YYYY-MM-DD)')
    .option('--port <n>', 'only the finding on this port (default: every port)')
    .option('--revoke', 'withdraw the acceptance instead (with --by)')
    .option('--db <path>', 'the database (default: $VIGIL_HOME/vulns.db)')
    .action(
      (
        assetName: string,
        cve: string,
        flags: DbFlags & { by?: string; reason?: string; until?: string; port?: string; revoke?: boolean },
      ) => {
        const port = parsePort(flags.port);
        if (!flags.by?.trim()) throw new UsageError('--by is needed: who accepts (or withdraws) the risk');
        const store = VulnStore.open(dbPath(flags));
        try {
          const target = findingTarget(store, assetName, cve, port);
          const now = new Date().toISOString();
          if (flags.revoke) {
            const revoked = store.revokeAcceptance(target, flags.by.trim(), now);
            process.stdout.write(`${revoked} acceptance(s) of ${target.cve} on ${target.asset} withdrawn\n`);
            return;
          }
          if (!flags.reason?.trim()) throw new UsageError('--reason is needed: why the risk is accepted');
          const today = now.slice(0, 10);
          if (!flags.until || calendarDay(flags.until) === undefined)
            throw new UsageError(`--until takes a day (YYYY-MM-DD), not '${flags.until ?? ''}'`);
          if (flags.until < today) throw new UsageError(`--until ${flags.until} has passed`);
          store.accept({
            ...target,
            by: flags.by.trim(),
            reason: flags.reason.trim(),
            until: flags.until,
            recordedAt: now,
          });
          process.stdout.write(
            `risk of ${target.cve} on ${target.asset}${port ? ` port ${port}` : ''} accepted by ${flags.by.trim()} until ${flags.until}\n`,
          );
        } finally {
          store.close();
        }
      },
    );

  vulns
    .command('owner')
    .description("set who owns fixing a finding (by default the asset's owner in the inventory)")
    .argument('<asset>', 'the asset as vulns list names it (or as a scanner names it)')
    .argument('<cve>', 'the CVE')
    .argument('<owner>', 'the person or team')
    .option('--port <n>', 'only the finding on this port (default: every port)')
    .option('--db <path>', 'the database (default: $VIGIL_HOME/vulns.db)')
    .action((assetName: string, cve: string, owner: string, flags: DbFlags & { port?: string }) => {
      const port = parsePort(flags.port);
      if (!owner.trim()) throw new UsageError('the owner is empty');
      const store = VulnStore.open(dbPath(flags));
      try {
        const target = findingTarget(store, assetName, cve, port);
        store.setOwner({ ...target, owner: owner.trim(), recordedAt: new Date().toISOString() });
        process.stdout.write(
          `${target.cve} on ${target.asset}${port ? ` port ${port}` : ''}: owner ${owner.trim()}\n`,
        );
      } finally {
        store.close();
      }
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

/** What the table's last column says: accepted, not re-tested, reopened, fixed. */
function note(p: Prioritized): string {
  if (p.status === 'fixed') return `fixed ${p.fixed_at?.slice(0, 10) ?? ''}`;
  if (p.accepted) return `accepted until ${p.accepted_until}`;
  const notes: string[] = [];
  if (p.accepted_until) notes.push(`acceptance expired ${p.accepted_until}`);
  if (p.not_retested_since) notes.push(`not re-tested since ${p.not_retested_since.slice(0, 10)}`);
  return notes.join('; ');
}

/**
 * The findings of one decision, and every KEV finding that is overdue whatever its decision:
 * a filter must not hide what is already late.
 */
function withDecision(prioritized: Prioritized[], decision: Decision): Prioritized[] {
  return prioritized.filter((p) => {
    if (p.decision === decision) return true;
    if (!(p.kev && p.overdue)) return false;
    p.reasons.push(`listed with --decision ${decision}: in KEV and overdue`);
    return true;
  });
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!(Number.isInteger(port) && port > 0 && port < 65536))
    throw new UsageError(`--port takes a port, not '${text}'`);
  return port;
}

/** The finding a decision is about, as the store holds it; refused when there is none. */
function findingTarget(
  store: VulnStore,
  assetName: string,
  cve: string,
  port: number | undefined,
): { asset: string; cve: string; port?: number } {
  const name = assetName.toLowerCase();
  const id = cve.toUpperCase();
  const findings = groupFindings(store.sources(), { assets: new AssetIndex(store.assets()) }).filter(
    (f) =>
      f.cve === id &&
      (f.asset.toLowerCase() === name || (f.aliases ?? []).some((a) => a.toLowerCase() === name)) &&
      (port === undefined || (f.port ?? 0) === port),
  );
  if (!findings.length)
    throw new VigilError(
      'VULN_NO_FINDING',
      `no finding of ${id} on ${assetName}${port ? ` port ${port}` : ''} (vigil vulns list --all shows them)`,
    );
  return { asset: findings[0]!.asset.toLowerCase(), cve: id, port };
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
          extractIndicators((await readAdvisory(flags.advisory, { fetch: fetchPolicy() })).text)
            .filter((i) => i.type === 'cve')
            .map((i) => i.value),
        )
      : undefined;
    const options = prioritizeOptions(program.opts().content, assets, threshold, advisoryCves, printNotice);
    if (flags.sla) options.timelineDays = parseSla(flags.sla);
    const today = new Date().toISOString().slice(0, 10);
    options.today = today;
    if (!options.kev)
      warn(
        'no KEV catalogue: exploitation is judged by EPSS and scanners only (vigil content update --only kev)',
      );
    if (!options.epss)
      warn(
        'no EPSS scores: exploitation outside KEV is taken as public PoC (vigil content update --only epss)',
      );
    for (const warning of staleContent(options, today)) warn(warning);
    return prioritizeStored(store, options, { all: flags.all, assets, onFindings: warnUnmatchedAssets });
  } finally {
    store.close();
  }
}

/** Names that match several inventory assets, and how many assets the inventory lacks. */
function warnUnmatchedAssets(findings: readonly FindingFacts[], assets: AssetIndex): void {
  const ambiguous = new Map<string, string[]>();
  const missing = new Set<string>();
  for (const f of findings) {
    const match = assets.find(f.asset, f.address);
    if (match.ambiguous)
      ambiguous.set(
        f.asset,
        match.ambiguous.map((a) => a.hostname),
      );
    else if (!match.asset) missing.add(f.asset);
  }
  for (const [name, candidates] of [...ambiguous].slice(0, 10))
    warn(`"${name}" could be any of ${candidates.join(', ')} in the inventory: none is assumed`);
  if (missing.size)
    warn(
      `${missing.size} asset(s) not in the inventory are decided as high mission impact and, without a private address, publicly exposed (--assets FILE to describe them)`,
    );
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
