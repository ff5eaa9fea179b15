import type { WriteStream } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import {
  csvCell,
  type EventScope,
  matchedText,
  type SearchHit,
  type SearchSummary,
  search,
} from '../detect/index.js';
import { LOG_EXTENSIONS } from '../logs/index.js';
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
import { huntProgressBar } from './progress.js';
import {
  addEventScopeOptions,
  collectList,
  describeScope,
  type EventScopeFlags,
  eventScope,
} from './scope-options.js';
import {
  fitCell,
  formatBytes,
  formatCount,
  formatDuration,
  heading,
  oneLine,
  UsageError,
} from './terminal.js';

interface SearchFlags extends EventScopeFlags {
  keyword?: string[];
  regex?: string[];
  ignoreCase: boolean;
  field?: string[];
  any: boolean;
  format: 'table' | 'jsonl' | 'csv';
  output?: string;
  threads?: string;
  summary: boolean;
  progress: boolean;
  maxErrors: string;
}

const repeat = (value: string, previous: string[] = []) => [...previous, value];

export function registerSearch(program: Command): void {
  const command = program
    .command('search')
    .description('find the events that hold a keyword or match a regular expression (EVTX, JSON, text logs)')
    .argument(
      '<logs...>',
      'log files (any name: the format is told by content) or folders (searched recursively for .evtx, .json, .jsonl, .ndjson, .log, .csv)',
    )
    .option('-k, --keyword <text>', 'text to find in a value, without case; repeatable', repeat)
    .option(
      '-e, --regex <pattern>',
      'regular expression a value must match (PCRE flavour); repeatable',
      repeat,
    )
    .option('-i, --ignore-case', 'regular expressions ignore case too')
    .option(
      '--field <name>',
      'look only in this field (Image, CommandLine, or a dotted path); repeatable or comma-separated',
      collectList,
    )
    .option(
      '--any',
      'an event matches when any keyword or regex does (default: every one, each in any field)',
    )
    .option('-f, --format <format>', 'events as table, jsonl or csv', 'table')
    .option('-o, --output <file>', 'write the events to a file instead of standard output')
    .option(
      '-t, --threads <n>',
      'worker threads that read and search (default: up to the number of cores, as the input size warrants)',
    )
    .option('--no-summary', 'do not print the summary at the end')
    .option('--no-progress', 'no progress bar')
    .option('--max-errors <n>', 'how many unreadable records to list before only counting them', '20');
  addEventScopeOptions(command).action(async (logs: string[], flags: SearchFlags) => {
    await runSearch(logs, flags);
  });
}

async function runSearch(logs: string[], flags: SearchFlags): Promise<void> {
  if (!['table', 'jsonl', 'csv'].includes(flags.format))
    throw new UsageError(`--format must be table, jsonl or csv, not '${flags.format}'`);
  const keywords = flags.keyword ?? [];
  const regexes = flags.regex ?? [];
  if (keywords.length + regexes.length === 0)
    throw new UsageError('give what to look for: -k KEYWORD or -e REGEX (each repeatable)');
  if (keywords.some((keyword) => keyword === ''))
    throw new UsageError('-k needs a keyword: an empty one would match every event');
  if (flags.threads !== undefined) parseThreads(flags.threads);
  const maxErrors = Number(flags.maxErrors);
  const scope = eventScope(flags);
  const query = {
    keywords,
    regexes,
    ignoreCase: flags.ignoreCase,
    fields: flags.field,
    any: flags.any,
    scope,
  };

  const { files, unread: unreadPaths } = await findInputs(logs, LOG_EXTENSIONS);
  const toFile = flags.output !== undefined;
  const sink: WriteStream | typeof process.stdout = toFile ? openOutput(flags.output!) : process.stdout;
  const writer = new LineWriter(sink);
  if (flags.format === 'csv') writer.line(CSV_HEADER);
  if (flags.format === 'table' && !toFile && process.stdout.isTTY) writer.line(heading(tableHeader()));
  const skipped = new SkippedRecords(maxErrors);
  const onError = skipped.report;
  const bar = huntProgressBar(flags.progress);
  const line = flags.format === 'jsonl' ? jsonLine : flags.format === 'csv' ? csvRow : tableRow;
  let summary: SearchSummary;
  try {
    summary = await search(files, {
      query,
      threads: chooseThreads(flags.threads, totalInputBytes(files)),
      onError,
      onProgress: (p) => bar.update({ ...p, detections: p.hits }),
      pace: () => writer.pace(),
      onHit: (hit) => writer.line(line(hit)),
    });
  } finally {
    writer.flush();
    bar.stop();
  }
  skipped.finish();
  if (toFile) await closeOutput(sink as WriteStream);
  if (flags.summary) {
    const out = !toFile && flags.format !== 'table' ? process.stderr : process.stdout;
    out.write(`${renderSearchSummary(summary, scope, flags.output)}\n`);
  }
  if (unreadPaths > 0 || summary.unreadFiles.length > 0) process.exitCode = 1;
}

const CSV_HEADER = 'time,host,channel,event_id,file,record,matched,event';

function csvRow(hit: SearchHit): string {
  return [
    hit.time,
    hit.host,
    hit.channel,
    hit.eventId === undefined ? '' : JSON.stringify(hit.eventId),
    hit.source.file,
    hit.source.record,
    matchedText(hit.matched),
    JSON.stringify(hit.event),
  ]
    .map(csvCell)
    .join(',');
}

function jsonLine(hit: SearchHit): string {
  return JSON.stringify(hit);
}

function tableHeader(): string {
  return `${'Time'.padEnd(24)} ${'Host'.padEnd(24)} ${'Channel'.padEnd(40)} ${'Event'.padEnd(6)} Source`;
}

function tableRow(hit: SearchHit): string {
  const time = (hit.time ?? '-').replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const eventId = hit.eventId === undefined ? '-' : oneLine(String(hit.eventId));
  const fields = oneLine(matchedText(hit.matched));
  return [
    `${fitCell(time, 24)} ${fitCell(oneLine(hit.host ?? '-'), 24)} ${fitCell(oneLine(hit.channel ?? '-'), 40)} ${fitCell(eventId, 6)} ${oneLine(`${hit.source.file}#${hit.source.record}`)}`,
    `${' '.repeat(25)}${pc.dim(fields.length > 200 ? `${fields.slice(0, 199)}…` : fields)}`,
  ].join('\n');
}

function renderSearchSummary(s: SearchSummary, scope: EventScope, output: string | undefined): string {
  const lines = ['', heading('Search summary')];
  const rate = s.durationMs > 0 ? (s.events / s.durationMs) * 1000 : 0;
  lines.push(
    `  ${formatCount(s.files)} files, ${formatCount(s.events)} events (${formatBytes(s.bytes)}) in ${formatDuration(s.durationMs)}: ${formatCount(Math.round(rate))} events/s`,
  );
  if (s.outOfScope) lines.push(`  ${formatCount(s.outOfScope)} events left out: ${describeScope(scope)}`);
  if (s.unreadFiles.length) lines.push(unreadFilesLine(s.unreadFiles));
  if (s.readErrors)
    lines.push(
      pc.yellow(
        `  ${formatCount(s.readErrors)} problems: records or files that could not be read were skipped`,
      ),
    );
  lines.push(`  ${formatCount(s.hits)} events matched${output ? `, written to ${output}` : ''}`);
  if (s.firstTime) lines.push(`  first ${s.firstTime}, last ${s.lastTime}`);
  return lines.join('\n');
}
