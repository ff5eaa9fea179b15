import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineWriter } from '../../src/cli/io.js';

describe('output pacing', () => {
  it('a stream that does not keep up holds the writer back until it drains', async () => {
    const written: string[] = [];
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk, _encoding, callback) {
        written.push(String(chunk));
        release = callback; // finished only when the test says so
      },
    });
    const writer = new LineWriter(slow, 100);
    expect(writer.pace()).toBeUndefined();
    for (let i = 0; i < 50; i++) writer.line('x'.repeat(60));
    writer.flush();
    const paced = writer.pace();
    expect(paced).toBeInstanceOf(Promise);
    let settled = false;
    void paced!.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    while (!settled) {
      release?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(written.join('')).toContain('x'.repeat(60));
    expect(writer.pace()).toBeUndefined();
  });
});
