import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { VigilError } from '../core/index.js';
import { UsageError } from './terminal.js';

/** Output plumbing shared by the commands that write many lines: files, chunked writes, threads. */

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export function parseThreads(text: string): number {
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new UsageError(`--threads must be a whole number from 1 to 256, not '${text}'`);
  }
  return threads;
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
  const stream = createWriteStream(path, { fd });
  stream.on('error', (error) => {
    process.stderr.write(`vigil: error: ${path}: cannot write the output file: ${error.message}\n`);
    process.exit(2);
  });
  return stream;
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

  flush(): void {
    if (this.buffer.length === 0) return;
    this.stream.write(`${this.buffer.join('\n')}\n`);
    this.buffer = [];
    this.size = 0;
  }
}
