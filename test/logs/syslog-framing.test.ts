import { describe, expect, it } from 'vitest';
import { type SyslogFrame, SyslogFrameSplitter } from '../../src/logs/index.js';

function split(chunks: (string | Buffer)[], maxMessageSize?: number): SyslogFrame[] {
  const splitter = new SyslogFrameSplitter({ maxMessageSize });
  const frames: SyslogFrame[] = [];
  for (const chunk of chunks)
    frames.push(...splitter.feed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  frames.push(...splitter.end());
  return frames;
}

const texts = (frames: SyslogFrame[]) => frames.map((f) => f.bytes.toString('utf8'));

const counted = (message: string) => `${Buffer.byteLength(message)} ${message}`;

describe('TCP syslog framing (RFC 6587)', () => {
  const a = '<13>1 2024-01-02T03:04:05Z h app - - - first\nwith a line break';
  const b = '<14>Mar  4 05:06:07 h app: second é';
  const c = '<15>1 - - - - - - third';

  it('reads octet-counted messages, line breaks inside them included', () => {
    const frames = split([counted(a) + counted(b) + counted(c)]);
    expect(texts(frames)).toEqual([a, b, c]);
    expect(frames.every((f) => f.framing === 'octet-counting' && f.error === undefined)).toBe(true);
    expect(frames.map((f) => f.offset)).toEqual([
      0,
      counted(a).length,
      counted(a).length + Buffer.byteLength(counted(b)),
    ]);
  });

  it('reads LF, CRLF and NUL framed messages, and skips blank lines', () => {
    const frames = split([`${b}\n${c}\r\n\n${b}\0${c}`]);
    expect(texts(frames)).toEqual([b, c, b, c]);
    expect(frames.every((f) => f.framing === 'non-transparent')).toBe(true);
  });

  it('decides the framing for every message, so senders may mix them', () => {
    const stream = `${counted(a)}\n${b}\n${counted(c)}${c}\n`;
    const frames = split([stream]);
    expect(texts(frames)).toEqual([a, b, c, c]);
    expect(frames.map((f) => f.framing)).toEqual([
      'octet-counting',
      'non-transparent',
      'octet-counting',
      'non-transparent',
    ]);
  });

  it('gives the same messages however the stream is cut into chunks', () => {
    const stream = Buffer.from(
      `${counted(a)}${b}\r\n${counted(c)}2024-05-06 10:00:00 a line without PRI\n${b}`,
    );
    const expected = [a, b, c, '2024-05-06 10:00:00 a line without PRI', b];
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(texts(split([stream.subarray(0, cut), stream.subarray(cut)])), `cut at ${cut}`).toEqual(
        expected,
      );
    }
    const bytes = [...stream].map((byte) => Buffer.from([byte]));
    expect(texts(split(bytes))).toEqual(expected);
  });

  it('cuts a message over the maximum and reports it, without holding the rest', () => {
    const long = `<13>${'x'.repeat(100)}`;
    const frames = split([counted(long), b, '\n', long, '\n', c, '\n'], 20);
    expect(texts(frames)).toEqual([long.slice(0, 20), b.slice(0, 20), long.slice(0, 20), c.slice(0, 20)]);
    expect(frames.map((f) => f.error?.code)).toEqual([
      'SYSLOG_FRAME',
      'SYSLOG_FRAME',
      'SYSLOG_FRAME',
      'SYSLOG_FRAME',
    ]);
    // An announced length far over the maximum is skipped as it arrives: 1 GB never buffered.
    const splitter = new SyslogFrameSplitter({ maxMessageSize: 10 });
    expect(splitter.feed(Buffer.from('999999999 <13>abc'))).toEqual([]);
    for (let i = 0; i < 100; i++) expect(splitter.feed(Buffer.alloc(65536, 0x61))).toEqual([]);
    expect(splitter.end()[0]?.bytes.toString()).toBe('<13>abcaaa');
  });

  it('returns a last message without its line break, and reports an octet-counted one cut short', () => {
    expect(texts(split([b]))).toEqual([b]);
    const cut = split(['100 <13>short']);
    expect(texts(cut)).toEqual(['<13>short']);
    expect(cut[0]?.error?.code).toBe('SYSLOG_FRAME');
    expect(texts(split(['42']))).toEqual(['42']);
    expect(split(['\n\n'])).toEqual([]);
  });
});
