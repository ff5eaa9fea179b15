import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import pc from 'picocolors';
import { VigilError } from '../core/index.js';
import {
  type DumpFormat,
  ReadTally,
  type RenderedUnit,
  renderUnit,
  runOrdered,
  workUnits,
} from '../detect/index.js';
import { chooseThreads, findInputs, LineWriter, openOutput, parseThreads } from './io.js';
import { formatBytes, formatCount, formatDuration, printable, problemLine, UsageError } from './terminal.js';

interface DumpFlags {
  format: DumpFormat;
  output?: string;
  threads?: string;
}

const FORMATS: DumpFormat[] = ['jsonl', 'json', 'xml', 'fields'];

export function registerDump(program: Command): void {
  program
    .command('dump')
    .description('write every record of EVTX files as JSON (as evtx_dump does), XML, or Vigil event fields')
    .argument('<paths...>', 'EVTX files or folders (searched recursively for .evtx)')
    .option(
      '-f, --format <format>',
      'jsonl (one {"Event":…} object per line), json (one array), xml, or fields (flat Sigma field names, one object per line)',
      'jsonl',
    )
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .option(
      '-t, --threads <n>',
      'worker threads that parse (default: up to the number of cores, as the input size warrants)',
    )
    .action(async (paths: string[], flags: DumpFlags) => {
      if (!FORMATS.includes(flags.format))
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${flags.format}'`);
      if (flags.threads !== undefined) parseThreads(flags.threads);
      const started = performance.now();
      const { files, unread: unreadPaths } = await findInputs(paths, ['.evtx']);
      const sizes = await Promise.all(files.map((file) => stat(file).then((s) => s.size)));
      const sink = flags.output ? openOutput(flags.output) : process.stdout;
      const writer = new LineWriter(sink);
      let records = 0;
      let problems = 0;
      const tally = new ReadTally();
      const problem = (error: VigilError) => {
        problems++;
        tally.problem(error.location);
        process.stderr.write(`${pc.yellow('skipped')} ${problemLine(error)}\n`);
      };
      const open =
        flags.format === 'json'
          ? '['
          : flags.format === 'xml'
            ? '<?xml version="1.0" encoding="utf-8"?>\n<Events>'
            : undefined;
      if (open) writer.line(open);
      await runOrdered<RenderedUnit>(
        workUnits(files, sizes, { onError: problem }),
        chooseThreads(
          flags.threads,
          sizes.reduce((a, b) => a + b, 0),
        ),
        { kind: 'dump', format: flags.format },
        async () => (unit) => renderUnit(unit, flags.format),
        (result) => {
          tally.add(result.file, result.records);
          for (const error of result.errors)
            problem(new VigilError(error.code, error.message, error.location));
          for (const line of result.lines) {
            writer.line(flags.format === 'json' ? `${records === 0 ? '' : ','}${line}` : line);
            records++;
          }
          return writer.pace();
        },
      );
      if (flags.format === 'json') writer.line(']');
      if (flags.format === 'xml') writer.line('</Events>');
      writer.flush();
      if (flags.output) await new Promise<void>((resolve) => sink.end(resolve));
      const bytes = sizes.reduce((a, b) => a + b, 0);
      process.stderr.write(
        pc.dim(
          `${formatCount(files.length)} files, ${formatCount(records)} records (${formatBytes(bytes)}) in ${formatDuration(performance.now() - started)}${problems ? `, ${problems} problems` : ''}\n`,
        ),
      );
      const unread = tally.unread(files);
      if (unread.length) {
        process.stderr.write(
          pc.red(`${formatCount(unread.length)} files gave no record: ${unread.map(printable).join(', ')}\n`),
        );
      }
      if (unreadPaths > 0 || unread.length > 0) process.exitCode = 1;
    });
}
