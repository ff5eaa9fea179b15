import { existsSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { defaultRulePaths, warningListsFrom } from '../assess/index.js';
import { openGeoDatabase, type VigilError } from '../core/index.js';
import {
  csvHeader,
  csvRow,
  type Detection,
  type DetectionFormat,
  type DetectionSetup,
  type EventScope,
  type HuntOptions,
  type HuntSummary,
  hunt,
  huntUnits,
  indicatorTable,
  indicatorText,
  jsonLine,
  LEVEL_ORDER,
  matchedText,
} from '../detect/index.js';
import { loadIndicators } from '../intel/index.js';
import { LOG_EXTENSIONS } from '../logs/index.js';
import { LEVELS } from '../sigma/index.js';
import { fetchPolicy } from './fetch-policy.js';
import { geoipPath } from './geoip-option.js';
import {
  chooseThreads,
  closeOutput,
  findInputs,
  LineWriter,
  openOutput,
  parseThreads,
  SkippedRecords,
  totalInputBytes,
  unreadFilesLine,
} from './io.js';
import { printNotice } from './notices.js';
import { huntProgressBar } from './progress.js';
import { addRuleOptions, type RuleFlags, rulePathOptions, setupOptions } from './rules-options.js';
import {
  addEventScopeOptions,
  addReportScopeOptions,
  describeScope,
  type EventScopeFlags,
  eventScope,
  type ReportScopeFlags,
  reportScope,
} from './scope-options.js';
import {
  colorLevel,
  fitCell,
  formatBytes,
  formatCount,
  formatDuration,
  heading,
  oneLine,
  table,
  UsageError,
} from './terminal.js';
import { logsTakenBy, missingPaths } from './variadic.js';

interface HuntFlags extends RuleFlags, EventScopeFlags, ReportScopeFlags {
  data?: string;
  tenant?: string;
  bus?: string;
  format: DetectionFormat;
  threads?: string;
  timeline: boolean;
  output?: string;
  summary: boolean;
  progress: boolean;
  maxErrors: string;
  iocs?: string[];
  iocsAddedAfter?: string;
  geoip?: string;
}

export function registerHunt(program: Command): void {
  const command = program
    .command('hunt')
    .description(
      'run Sigma rules over log files (EVTX, JSON, and text logs: auditd, syslog, access logs, Zeek, W3C, Squid, Exim) and report what they detect',
    )
    // Optional to commander so that a --rules list that took the logs is told apart (see variadic.ts).
    .argument(
      '[logs...]',
      'log files (any name: the format is told by content) or folders (searched recursively for .evtx, .json, .jsonl, .ndjson, .log, .csv)',
    )
    .usage('[options] <logs...>')
    .option('-f, --format <format>', 'detections as table, jsonl or csv', 'table')
    .option('-o, --output <file>', 'write detections to a file instead of standard output')
    .option(
      '--min-level <level>',
      `report only detections at or above this level (${LEVELS.join(', ')})`,
      'informational',
    )
    .option('--no-summary', 'do not print the summary at the end')
    .option('--no-progress', 'no progress bar')
    .option('--timeline', 'write the detections sorted by time (after the whole hunt) instead of as found')
    .option(
      '-t, --threads <n>',
      'worker threads that parse and detect (default: up to the number of cores, as the input size warrants)',
    )
    .option('--max-errors <n>', 'how many unreadable records to list before only counting them', '20')
    .option('--data <dir>', "hunt the events a vigil serve data folder keeps (a tenant's), instead of files")
    .option('--tenant <name>', 'with --data: whose events (needed when the folder holds several tenants)')
    .option(
      '--bus <nats://host:port>',
      "with --data: the service's event log is in NATS JetStream (as with vigil serve --bus; config.yml's bus is used when this is absent)",
    )
    .option(
      '--iocs <sources...>',
      'also report events holding known indicators, from these sources: files (plain list, STIX bundle, MISP event JSON or CSV, advisory parse JSON), MISP feed folders, http(s) URLs, taxii+https:// servers',
    )
    .option('--iocs-added-after <time>', 'with a TAXII source: only objects added after this time (RFC 3339)')
    .option(
      '--geoip <file>',
      'a geolocation database in the MaxMind DB format (GeoLite2-City.mmdb) for impossible travel and new-country sign-ins (default: $VIGIL_GEOIP)',
    );
  addReportScopeOptions(command);
  addEventScopeOptions(command);
  addRuleOptions(command, false).action(async (named: string[], flags: HuntFlags) => {
    const pathOptions = rulePathOptions(flags);
    const logs = [...named, ...logsTakenBy(pathOptions)];
    if (flags.data !== undefined && logs.length) throw new UsageError('give log files or --data, not both');
    if (flags.bus !== undefined && flags.data === undefined)
      throw new UsageError('--bus reads the events of a vigil serve data folder: give --data too');
    if (logs.length === 0 && flags.data === undefined)
      // --iocs takes the paths after it too, but a feed may be a folder of JSON files: nothing in it
      // is given back to the logs, the user is only told how to write the command.
      throw missingPaths('hunt', 'logs', 'LOGS', [...pathOptions, { flag: '--iocs', values: flags.iocs }]);
    if (flags.rules?.length === 0) flags.rules = undefined;
    if (flags.iocs?.length === 0) throw new UsageError('--iocs needs at least one source');
    await runHunt(logs, flags, program.opts().content);
  });
}

async function runHunt(logs: string[], flags: HuntFlags, contentFlag: string | undefined): Promise<void> {
  if (!['table', 'jsonl', 'csv'].includes(flags.format))
    throw new UsageError(`--format must be table, jsonl or csv, not '${flags.format}'`);
  const report = reportScope(flags);
  const scope = eventScope(flags);
  const maxErrors = Number(flags.maxErrors);
  if (flags.threads !== undefined) parseThreads(flags.threads);

  const stored =
    flags.data === undefined ? undefined : await storedEvents(flags.data, flags.tenant, flags.bus);
  const { files, unread: unreadPaths } = stored
    ? { files: [stored.name], unread: 0 }
    : await findInputs(logs, LOG_EXTENSIONS);

  const rulePaths = flags.rules ?? defaultRulePaths(contentFlag);
  const loadStarted = performance.now();
  const onRulesLoaded = (setup: DetectionSetup) => {
    const loaded = setup.ruleSet.rules.length + setup.ruleSet.correlations.length;
    process.stderr.write(
      `${pc.dim(`Loaded ${formatCount(loaded)} rules from ${formatCount(setup.ruleSet.files)} files in ${formatDuration(performance.now() - loadStarted)}${setup.running < setup.ruleSet.rules.length ? `; ${formatCount(setup.running)} of the detection rules run, those whose detections are reported or that correlations read` : ''}`)}${
        setup.errors.length
          ? pc.yellow(` (${setup.errors.length} could not be loaded: see 'vigil rules check')`)
          : ''
      }\n`,
    );
  };

  const toFile = flags.output !== undefined;
  const sink: WriteStream | typeof process.stdout = toFile ? openOutput(flags.output!) : process.stdout;
  const writer = new LineWriter(sink);
  const write = (line: string) => writer.line(line);
  if (flags.format === 'csv') write(csvHeader());
  if (flags.format === 'table' && !toFile && process.stdout.isTTY) write(heading(tableHeader()));

  const skipped = new SkippedRecords(maxErrors);
  const onError = skipped.report;
  const iocs = flags.iocs
    ? await huntIndicators(flags.iocs, flags.iocsAddedAfter, contentFlag, onError)
    : undefined;
  const geoip = geoipPath(flags.geoip);
  const locate = geoip === undefined ? undefined : openGeoDatabase(geoip);
  const bar = huntProgressBar(flags.progress);
  const line = (detection: Detection) =>
    flags.format === 'jsonl'
      ? jsonLine(detection)
      : flags.format === 'csv'
        ? csvRow(detection)
        : tableRow(detection);
  const timeline: Detection[] = [];
  const huntOptions: HuntOptions = {
    setup: { ...setupOptions(flags, rulePaths), report },
    onRulesLoaded,
    ...report,
    scope,
    threads: chooseThreads(flags.threads, stored ? stored.bytes : totalInputBytes(files)),
    onError,
    onProgress: bar.update,
    pace: () => writer.pace(),
    ...(iocs ? { watch: { iocs } } : {}),
    ...(locate ? { locate } : {}),
    onDetection: (detection) => {
      if (flags.timeline) timeline.push(detection);
      else write(line(detection));
    },
  };
  const summary = stored
    ? await huntUnits(
        (progress) => stored.units((n) => progress.bytes((n / stored.events) * stored.bytes)),
        { files, totalBytes: stored.bytes },
        huntOptions,
      ).finally(() => stored.close())
    : await hunt(files, huntOptions);
  if (flags.timeline) {
    // Stable: detections of the same time keep file and record order; those without a time come last.
    timeline.sort((a, b) => (a.timeMs ?? Number.POSITIVE_INFINITY) - (b.timeMs ?? Number.POSITIVE_INFINITY));
    for (const detection of timeline) write(line(detection));
  }
  writer.flush();
  bar.stop();
  skipped.finish();
  if (toFile) await closeOutput(sink as WriteStream);

  if (flags.summary) {
    // With machine formats on stdout, the summary goes to stderr so pipes get only detections.
    const out = !toFile && flags.format !== 'table' ? process.stderr : process.stdout;
    out.write(`${renderSummary(summary, flags.output, scope)}\n`);
  }
  // Every input read, or a non-zero exit: a script must not take a partial hunt for a clean one.
  if (unreadPaths > 0 || summary.unreadFiles.length > 0) process.exitCode = 1;
}

/** What the correlations that place addresses could not place, and what to do about it. */
function unplacedLines(s: HuntSummary): string[] {
  if (s.unplacedCorrelationInputs.length === 0) return [];
  const matches = s.unplacedCorrelationInputs.reduce((sum, c) => sum + c.count, 0);
  const which = s.unplacedCorrelationInputs.map((c) => `'${oneLine(c.key)}'`).join(', ');
  if (!s.geolocation)
    return [
      pc.dim(
        `  ${formatCount(matches)} matches of ${which} were not judged: they place addresses, which needs a geolocation database (--geoip GeoLite2-City.mmdb, or VIGIL_GEOIP)`,
      ),
    ];
  return [
    pc.dim(
      `  ${formatCount(matches)} matches of ${which} could not be placed (private or unknown addresses, missing fields)`,
    ),
  ];
}

function tableHeader(): string {
  return `${'Time'.padEnd(24)} ${'Level'.padEnd(13)} ${'Rule'.padEnd(60)} Host / Event / Source`;
}

function tableRow(d: Detection): string {
  const time = (d.time ?? '-')
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
    .padEnd(24);
  const level = colorLevel(d.rule.level, d.rule.level.padEnd(13));
  const title = fitCell(oneLine(d.rule.title), 60);
  const where = [
    d.host ?? '-',
    d.eventId !== undefined ? `EventID ${String(d.eventId)}` : undefined,
    `${d.source.file}#${d.source.record}`,
  ]
    .filter(Boolean)
    .map((part) => oneLine(String(part)))
    .join('  ');
  const matched = oneLine(matchedText(d.matched));
  const details = d.indicator
    ? `${oneLine(indicatorText(d.indicator))}: ${matched}`
    : d.correlation?.detail
      ? `${oneLine(d.correlation.detail)}: ${matched}`
      : matched;
  const short = details.length > 200 ? `${details.slice(0, 199)}…` : details;
  return `${time} ${level} ${title} ${where}${short ? `\n${' '.repeat(25)}${pc.dim(short)}` : ''}`;
}

/**
 * The indicators of the sources, judged now against the content folder's warning lists (when it
 * has them); entries that cannot be used are reported as skipped, a source that cannot be read
 * at all stops the hunt.
 */
async function huntIndicators(
  sources: string[],
  addedAfter: string | undefined,
  contentFlag: string | undefined,
  onProblem: (error: VigilError) => void,
) {
  if (addedAfter !== undefined && Number.isNaN(Date.parse(addedAfter)))
    throw new UsageError(`--iocs-added-after must be a time (RFC 3339), not '${addedAfter}'`);
  const started = performance.now();
  const loaded = await loadIndicators(sources, {
    fetch: fetchPolicy(),
    taxiiAuthorization: process.env.VIGIL_TAXII_AUTHORIZATION || undefined,
    addedAfter,
    warningLists: warningListsFrom(contentFlag, printNotice),
    onProblem,
  });
  const { counts } = loaded;
  const notes = [
    counts.expired ? `${formatCount(counts.expired)} expired, left out` : '',
    counts.warned ? `${formatCount(counts.warned)} on warning lists, confidence lowered` : '',
    counts.merged ? `${formatCount(counts.merged)} repeats merged` : '',
  ].filter(Boolean);
  process.stderr.write(
    `${pc.dim(
      `Loaded ${formatCount(counts.kept)} indicators from ${loaded.sources
        .map((s) => `${s.source} (${formatCount(s.indicators)})`)
        .join(
          ', ',
        )} in ${formatDuration(performance.now() - started)}${notes.length ? `; ${notes.join(', ')}` : ''}`,
    )}
`,
  );
  return indicatorTable(loaded.indicators);
}

export function renderSummary(s: HuntSummary, output?: string, scope: EventScope = {}): string {
  const lines: string[] = [''];
  const rate = s.durationMs > 0 ? (s.events / s.durationMs) * 1000 : 0;
  lines.push(heading('Hunt summary'));
  lines.push(
    `  ${formatCount(s.files)} files, ${formatCount(s.events)} events (${formatBytes(s.bytes)}) in ${formatDuration(s.durationMs)}: ${formatCount(Math.round(rate))} events/s`,
  );
  if (s.outOfScope) {
    lines.push(`  ${formatCount(s.outOfScope)} events left out: ${describeScope(scope)}`);
  }
  lines.push(...sourceLines(s.bySource));
  if (s.unreadFiles.length) lines.push(unreadFilesLine(s.unreadFiles));
  if (s.readErrors)
    lines.push(
      pc.yellow(
        `  ${formatCount(s.readErrors)} problems: records or files that could not be read were skipped`,
      ),
    );
  const levels = [...LEVEL_ORDER]
    .reverse()
    .filter((l) => s.byLevel[l] > 0)
    .map((l) => colorLevel(l, `${l} ${formatCount(s.byLevel[l])}`));
  lines.push(`  ${formatCount(s.detections)} detections${levels.length ? `: ${levels.join(', ')}` : ''}`);
  if (output) lines.push(`  written to ${output}`);
  if (s.firstTime) lines.push(`  first ${s.firstTime}, last ${s.lastTime}`);
  if (s.untimedCorrelationInputs) {
    lines.push(
      pc.yellow(
        `  ${formatCount(s.untimedCorrelationInputs)} matches had no timestamp and could not be correlated`,
      ),
    );
  }
  lines.push(...unplacedLines(s));
  if (s.detections === 0) return lines.join('\n');
  lines.push('', heading('Top rules'));
  lines.push(
    table(
      ['Detections', 'Level', 'Rule', 'Id'],
      s.byRule
        .slice(0, 15)
        .map((r) => [formatCount(r.count), colorLevel(r.level), oneLine(r.title), oneLine(r.id ?? '')]),
    ),
  );
  if (s.byRule.length > 15) lines.push(pc.dim(`  … ${s.byRule.length - 15} more rules matched`));
  lines.push('', heading('Hosts'));
  lines.push(
    table(
      ['Detections', 'Host'],
      s.byHost.slice(0, 15).map((h) => [formatCount(h.count), oneLine(h.key)]),
    ),
  );
  if (s.byTactic.length) {
    lines.push('', heading('ATT&CK tactics'));
    lines.push(
      table(
        ['Detections', 'Tactic'],
        s.byTactic.map((t) => [formatCount(t.count), oneLine(t.key)]),
      ),
    );
  }
  return lines.join('\n');
}

/** Sources named in the summary line, the most frequent first. */
const MAX_SOURCES_SHOWN = 12;

/** What the pipelines recognized the events as, and how many no pipeline recognized. */
function sourceLines(bySource: HuntSummary['bySource']): string[] {
  const recognized = bySource.filter((s) => s.key !== '');
  const unrecognized = bySource.find((s) => s.key === '')?.count ?? 0;
  const lines: string[] = [];
  if (recognized.length) {
    const shown = recognized.slice(0, MAX_SOURCES_SHOWN).map((s) => `${s.key} ${formatCount(s.count)}`);
    const more = recognized.length - shown.length;
    lines.push(`  sources: ${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''}`);
  }
  if (unrecognized) {
    lines.push(
      pc.yellow(
        `  ${formatCount(unrecognized)} events matched no pipeline's source: only rules of products no pipeline identifies, and rules without a log source, saw them (add a pipeline with --pipeline)`,
      ),
    );
  }
  return lines;
}

/**
 * A tenant's events kept by a service, read beside the running service (nothing changes): in the
 * data folder's files, or in JetStream when the service runs on a bus (`--bus`, or `bus:` in the
 * folder's config.yml). The tenant named, or the only one there is.
 */
async function storedEvents(dataDir: string, tenant: string | undefined, busFlag: string | undefined) {
  // Loaded only here: the service's modules bring SQLite, which a hunt of files does without.
  const {
    dataPaths,
    describeEventLogPlace,
    eventLogPlace,
    loadServiceConfig,
    openEventLog,
    storedEventUnits,
  } = await import('../service/index.js');
  const { withBus } = await import('./bus-option.js');
  const folder = resolve(dataDir);
  const dir = dataPaths(folder).events;
  const bus = withBus(loadServiceConfig(folder), busFlag).bus;
  if (!bus && !existsSync(dir))
    throw new UsageError(`${dataDir} holds no events: is it the --data folder of vigil serve?`);
  const place = eventLogPlace(dir, bus);
  const where = bus ? describeEventLogPlace(place) : dataDir;
  const log = await openEventLog(place, { readOnly: true, name: 'vigil hunt' });
  try {
    const tenants = log.tenants();
    const chosen = tenant ?? (tenants.length === 1 ? tenants[0] : undefined);
    if (!chosen) {
      throw new UsageError(
        `${where} holds the events of ${tenants.length} tenants (${tenants.join(', ')}): name one with --tenant`,
      );
    }
    if (!tenants.includes(chosen))
      throw new UsageError(
        `${where} holds no events of tenant '${chosen}' (it has: ${tenants.join(', ') || 'none'})`,
      );
    const events = log.head(chosen) - log.tail(chosen) + 1;
    return {
      name: `events/${chosen}`,
      bytes: log.size(chosen),
      events: Math.max(1, events),
      units: (onRecords: (n: number) => void) => storedEventUnits(log, chosen, onRecords),
      close: () => log.close(),
    };
  } catch (error) {
    await log.close();
    throw error;
  }
}
