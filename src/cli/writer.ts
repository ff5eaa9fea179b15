import type { Writable } from 'node:stream';

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
