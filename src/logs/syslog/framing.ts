import { SyslogError } from './errors.js';

/** One message cut from a TCP stream. */
export interface SyslogFrame {
  /**
   * The message's bytes. A view into the chunk that was fed when the message lay inside it (no
   * copy), so do not change fed chunks while frames are in use.
   */
  bytes: Buffer;
  framing: 'octet-counting' | 'non-transparent';
  /** Byte offset of the message in the stream, for error locations. */
  offset: number;
  /** Set when the message was longer than the maximum: `bytes` holds its first part only. */
  error?: SyslogError;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SPACE = 0x20;

/** Digits of a MSG-LEN before its space; nine allow up to a gigabyte, more is not a length. */
const MAX_LENGTH_DIGITS = 9;

type State =
  | { kind: 'start' }
  /** Reading MSG-LEN digits (kept as a number and the bytes they came from). */
  | { kind: 'length'; value: number; digits: number }
  /** Inside an octet-counted message: `remaining` bytes to go, `keep` of them still kept. */
  | { kind: 'counted'; remaining: number; keep: number; oversized: boolean }
  /** Inside a message ended by LF or NUL; `discarding` once it passed the maximum. */
  | { kind: 'line'; discarding: boolean };

/**
 * Splits a syslog TCP stream into messages as RFC 6587 describes: octet-counting (`LEN SP MSG`)
 * or non-transparent framing (each message ended by LF, or NUL as some senders do; a CR before
 * the LF is dropped), decided again for every message by its first byte (a digit starts a
 * length), so a sender may mix them. Chunks may be cut anywhere. A message longer than
 * `maxMessageSize` bytes is cut there and reported with its first part; the rest is skipped as
 * it arrives, never held.
 */
export class SyslogFrameSplitter {
  readonly maxMessageSize: number;
  private state: State = { kind: 'start' };
  /** Bytes of the current message from earlier chunks. */
  private pending: Buffer[] = [];
  private pendingSize = 0;
  /** Stream offset of the next byte fed, and of the current message's start. */
  private offset = 0;
  private messageOffset = 0;
  private lengthDigits: number[] = [];

  constructor(options: { maxMessageSize?: number } = {}) {
    this.maxMessageSize = options.maxMessageSize ?? 64 * 1024;
  }

  feed(chunk: Buffer): SyslogFrame[] {
    const frames: SyslogFrame[] = [];
    let i = 0;
    while (i < chunk.length) {
      const state = this.state;
      switch (state.kind) {
        case 'start': {
          const c = chunk[i]!;
          if (c === LF || c === CR || c === NUL || c === SPACE) {
            i++; // blank lines, and the LF some senders add after an octet-counted message
          } else if (c >= 0x31 && c <= 0x39) {
            this.messageOffset = this.offset + i;
            this.state = { kind: 'length', value: c - 0x30, digits: 1 };
            this.lengthDigits = [c];
            i++;
          } else {
            this.messageOffset = this.offset + i;
            this.state = { kind: 'line', discarding: false };
          }
          break;
        }
        case 'length': {
          const c = chunk[i]!;
          if (c >= 0x30 && c <= 0x39 && state.digits < MAX_LENGTH_DIGITS) {
            state.value = state.value * 10 + (c - 0x30);
            state.digits++;
            this.lengthDigits.push(c);
            i++;
          } else if (c === SPACE) {
            this.state = {
              kind: 'counted',
              remaining: state.value,
              keep: Math.min(state.value, this.maxMessageSize),
              oversized: state.value > this.maxMessageSize,
            };
            this.lengthDigits = [];
            i++;
          } else {
            // Digits not followed by a space: a message of its own, ended by a line break.
            this.keep(Buffer.from(this.lengthDigits));
            this.lengthDigits = [];
            this.state = { kind: 'line', discarding: false };
          }
          break;
        }
        case 'counted': {
          const take = Math.min(state.remaining, chunk.length - i);
          const kept = Math.min(take, state.keep);
          if (kept > 0) this.keep(chunk.subarray(i, i + kept));
          state.keep -= kept;
          state.remaining -= take;
          i += take;
          if (state.remaining === 0) frames.push(this.finish('octet-counting', state.oversized));
          break;
        }
        case 'line': {
          let end = i;
          while (end < chunk.length && chunk[end] !== LF && chunk[end] !== NUL) end++;
          if (!state.discarding) {
            const room = this.maxMessageSize - this.pendingSize;
            this.keep(chunk.subarray(i, Math.min(end, i + room)));
            if (end - i > room) state.discarding = true;
          }
          i = end;
          if (end < chunk.length) {
            i++;
            frames.push(this.finish('non-transparent', state.discarding));
          }
          break;
        }
      }
    }
    this.offset += chunk.length;
    return frames;
  }

  /**
   * The stream has ended: a message without its final line break is complete; an octet-counted
   * message cut short is returned with a `SYSLOG_FRAME` error.
   */
  end(): SyslogFrame[] {
    const state = this.state;
    if (state.kind === 'line' && this.pendingSize > 0)
      return [this.finish('non-transparent', state.discarding)];
    if (state.kind === 'length') {
      this.keep(Buffer.from(this.lengthDigits));
      return [this.finish('non-transparent', false)];
    }
    if (state.kind === 'counted') {
      const frame = this.finish('octet-counting', false);
      frame.error = new SyslogError(
        'SYSLOG_FRAME',
        `the stream ended ${state.remaining} bytes before the end of an octet-counted message`,
        { column: frame.offset + 1 },
      );
      return [frame];
    }
    this.state = { kind: 'start' };
    return [];
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingSize += bytes.length;
  }

  private finish(framing: SyslogFrame['framing'], truncated: boolean): SyslogFrame {
    let bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingSize);
    if (framing === 'non-transparent' && bytes.length > 0 && bytes[bytes.length - 1] === CR) {
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const frame: SyslogFrame = { bytes, framing, offset: this.messageOffset };
    if (truncated) {
      frame.error = new SyslogError(
        'SYSLOG_FRAME',
        `a message longer than ${this.maxMessageSize} bytes was cut to its first ${this.maxMessageSize}`,
        { column: this.messageOffset + 1 },
      );
    }
    this.pending = [];
    this.pendingSize = 0;
    this.state = { kind: 'start' };
    return frame;
  }
}
