import { DecodeProblem } from './errors.js';

/** Protocol Buffers wire types (https://protobuf.dev/programming-guides/encoding/). */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

const TWO_32 = 4_294_967_296;

/**
 * Reads the protobuf wire format: tags, varints, fixed-width numbers and length-delimited
 * fields. One reader serves a whole request: nested messages are read up to their `end`, which
 * every read checks, so damaged input is a `DecodeProblem`, never a read past the end.
 */
export class WireReader {
  pos = 0;
  /** End of the message being read. */
  end: number;

  constructor(readonly bytes: Buffer) {
    this.end = bytes.length;
  }

  /** The next field's key: `key >>> 3` is its number, `key & 7` its wire type. */
  key(): number {
    const key = this.varint32();
    if (key >>> 3 === 0) throw new DecodeProblem('field number 0 in the protobuf data');
    return key;
  }

  /**
   * Enters a length-delimited field: its content starts at `pos`; returns the end of the
   * enclosing message, to give back to `leave` once the content is read.
   */
  enter(): number {
    const length = this.varint32();
    if (length > this.end - this.pos)
      throw new DecodeProblem('a protobuf length runs past the end of its message');
    const outer = this.end;
    this.end = this.pos + length;
    return outer;
  }

  /** Leaves a field entered with `enter`, at its end. */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  /** A varint that fits 32 bits (lengths, enums, tags, bools); longer ones keep their low 32 bits. */
  varint32(): number {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new DecodeProblem('the protobuf data ends inside a number');
      const byte = this.bytes[this.pos++]!;
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    throw new DecodeProblem('a protobuf number is longer than 10 bytes');
  }

  /** A two's-complement int64 varint: a number when exact, else its decimal text. */
  int64(): number | string {
    let low = 0;
    let high = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new DecodeProblem('the protobuf data ends inside a number');
      if (shift >= 70) throw new DecodeProblem('a protobuf number is longer than 10 bytes');
      const byte = this.bytes[this.pos++]!;
      const bits = byte & 0x7f;
      if (shift < 28) low |= bits << shift;
      else if (shift === 28) {
        low |= (bits & 0x0f) << 28;
        high |= bits >>> 4;
      } else high |= bits << (shift - 32);
      shift += 7;
      if (byte < 0x80) break;
    }
    return int64Value(low >>> 0, high >>> 0);
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new DecodeProblem('the protobuf data ends inside a 32-bit field');
    const value = this.bytes.readUInt32LE(this.pos);
    this.pos += 4;
    return value;
  }

  /** A fixed64 of nanoseconds as whole milliseconds, exactly. */
  fixed64Millis(): number {
    if (this.pos + 8 > this.end) throw new DecodeProblem('the protobuf data ends inside a 64-bit field');
    const low = this.bytes.readUInt32LE(this.pos);
    const high = this.bytes.readUInt32LE(this.pos + 4);
    this.pos += 8;
    // high·2^32 = high·4294·10^6 + high·967296: split so that nothing passes 2^53.
    return high * 4294 + Math.floor((high * 967_296 + low) / 1_000_000);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new DecodeProblem('the protobuf data ends inside a 64-bit field');
    const value = this.bytes.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** Skips a length-delimited field's content and gives its length: it is `[pos - length, pos)`. */
  skipLength(): number {
    const length = this.varint32();
    if (length > this.end - this.pos)
      throw new DecodeProblem('a protobuf length runs past the end of its message');
    this.pos += length;
    return length;
  }

  string(): string {
    const length = this.skipLength();
    return text(this.bytes, this.pos - length, this.pos);
  }

  /** Skips a field this decoder does not read. */
  skip(wire: number): void {
    if (wire === VARINT) this.varint32();
    else if (wire === I64) this.advance(8);
    else if (wire === LEN) this.skipLength();
    else if (wire === I32) this.advance(4);
    else throw new DecodeProblem(`protobuf wire type ${wire} is not used by OTLP`);
  }

  /** Checks that a known field came with the wire type its declaration gives. */
  expect(wire: number, wanted: number, field: string): void {
    if (wire !== wanted) throw new DecodeProblem(`${field} has wire type ${wire}, not ${wanted}`);
  }

  private advance(count: number): void {
    if (this.pos + count > this.end) throw new DecodeProblem('the protobuf data ends inside a field');
    this.pos += count;
  }
}

/**
 * UTF-8 text of `bytes[start, end)`. Short ASCII strings (keys, names, small values: most of an
 * OTLP request) are built directly, which is several times faster than a Buffer slice.
 */
function text(bytes: Buffer, start: number, end: number): string {
  if (end - start > 24) return bytes.toString('utf8', start, end);
  let out = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return bytes.toString('utf8', start, end);
    out += String.fromCharCode(c);
  }
  return out;
}

/** An int64 from its two 32-bit halves: a number when exact, else its decimal text. */
function int64Value(low: number, high: number): number | string {
  const negative = high >= 0x80000000;
  if (!negative && high < 0x200000) return high * TWO_32 + low;
  if (negative && high > 0xffe00000) return (high - TWO_32) * TWO_32 + low;
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
}
