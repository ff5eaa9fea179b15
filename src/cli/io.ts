import { closeSync, createWriteStream, mkdirSync, openSync, statSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import pc from 'picocolors';
import { collectFiles, VigilError } from '../core/index.js';
import { printable, problemLine, UsageError } from './terminal.js';

/** Output plumbing shared by the commands that write many lines: files, chunked writes, threads. */

/** Input below this many bytes per worker is done on one thread: starting a worker costs more. */
const BYTES_PER_WORKER = 64 * 1024 * 1024;

/**
 * The threads to use: as many as asked, or by default as many as the input is worth, up to the
 * number of cores (each worker compiles its own copy of the rules, about a second of work).
 */
export function chooseThreads(asked: string | undefined, totalBytes: number): number {
  if (asked !== undefined) return parseThreads(asked);
  return Math.max(1, Math.min(availableParallelism(), Math.floor(totalBytes / BYTES_PER_WORKER)));
}

export function parseThreads(text: string): number {
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new UsageError(`--threads must be a whole number from 1 to 256, not '${text}'`);
  }
  return threads;
}

/** Checks an output file can be written, before the work whose result goes there. */
export function checkOutputFile(path: string): void {
  try {
    closeSync(openSync(path, 'a'));
  } catch (error) {
    throw new VigilError('OUTPUT_UNWRITABLE', `cannot write the output file: ${(error as Error).message}`, {
      file: path,
    });
  }
}

/** Creates an output folder (and its parents), before the work whose results go there. */
export function makeOutputDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new VigilError(
      'OUTPUT_UNWRITABLE',
      `cannot create the output folder: ${(error as Error).message}`,
      {
        file: path,
      },
    );
  }
}

/** The output file, opened now so that a bad path is an error before the hunt, not a crash after. */
export function openOutput(path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw new VigilError('OUTPUT_UNWRITABLE', `cannot write the output file: ${(error as Error).message}`, {
      file: path,
    });
  }
  const stream = createWriteStream(path, { fd, highWaterMark: 1 << 20 });
  stream.on('error', (error) => {
    process.stderr.write(`vigil: error: ${path}: cannot write the output file: ${error.message}\n`);
    process.exit(2);
  });
  return stream;
}

/** Ends an output file opened by openOutput, once everything written to it has reached it. */
export function closeOutput(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** Unreadable records are listed up to a limit (--max-errors), then only counted. */
export class SkippedRecords {
  private seen = 0;

  constructor(private readonly max: number) {}

  readonly report = (error: VigilError): void => {
    if (this.seen++ < this.max) process.stderr.write(`${pc.yellow('skipped')} ${problemLine(error)}\n`);
  };

  /** Says how many were left unlisted. */
  finish(): void {
    if (this.seen > this.max)
      process.stderr.write(pc.yellow(`… and ${this.seen - this.max} more unreadable records\n`));
  }
}

/**
 * Lines to a stream, in chunks: one write per detection costs a system call each on files and
 * pipes. A terminal gets every line at once, since a person is watching.
 */
export class LineWriter {
  private buffer: string[] = [];
  private size = 0;

  constructor(
    private readonly stream: Writable,
    private readonly chunk = stream === process.stdout && process.stdout.isTTY ? 0 : 1 << 16,
  ) {}

  line(text: string): void {
    this.buffer.push(text);
    this.size += text.length + 1;
    if (this.size >= this.chunk) this.flush();
  }

  /**
   * Undefined while the stream keeps up; else a promise that settles once it has drained. Callers
   * wait on it between units of work, so output that is slower than parsing (a pipe, a slow disk)
   * holds the work back instead of piling up in memory.
   */
  pace(): Promise<void> | undefined {
    if (!this.stream.writableNeedDrain) return undefined;
    return new Promise((resolve) => this.stream.once('drain', resolve));
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    this.stream.write(`${this.buffer.join('\n')}\n`);
    this.buffer = [];
    this.size = 0;
  }
}

/** Total size of the input files (0 for those that cannot be read: the readers report them). */
export function totalInputBytes(files: readonly string[]): number {
  let total = 0;
  for (const file of files) {
    try {
      total += statSync(file).size;
    } catch {
      // reported when read
    }
  }
  return total;
}

/**
 * The files under the paths named. A path that is not there, or a folder that holds none of the
 * files wanted, is told at once and counted in `unread`; the rest is still used. Nothing at all to
 * read is a usage error.
 */
export async function findInputs(
  paths: readonly string[],
  extensions: readonly string[],
): Promise<{ files: string[]; unread: number }> {
  const { files, errors, emptyFolders } = await collectFiles(paths, extensions);
  for (const error of errors) process.stderr.write(`${pc.red('error')} ${problemLine(error)}\n`);
  const kinds = extensions.join(', ');
  if (files.length === 0) throw new UsageError(`no ${kinds} files found in ${paths.join(', ')}`);
  for (const folder of emptyFolders)
    process.stderr.write(`${pc.red('error')} ${problemLine(noFilesIn(folder, kinds))}\n`);
  return { files, unread: errors.length + emptyFolders.length };
}

function noFilesIn(folder: string, kinds: string): VigilError {
  return new VigilError('NO_INPUT_FILES', `no ${kinds} files in this folder`, { file: folder });
}

/** The summary line naming the files not one event could be read from. */
export function unreadFilesLine(files: readonly string[]): string {
  const named = files.slice(0, 5).map(printable).join(', ');
  return pc.red(
    `  ${files.length} files gave no event (empty, not a log, or damaged throughout): ${named}${files.length > 5 ? ', …' : ''}`,
  );
}
