import { DecodeProblem } from './errors.js';

/** Protocol Buffers wire types (https://protobuf.dev/programming-guides/encoding/). */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

const TWO_32 = 4_294_967_296;

/**
 * Reads the protobuf wire format over one message's bytes: tags, varints, fixed-width numbers
 * and length-delimited ranges. Every read checks the message's end, so damaged input is a
 * `DecodeProblem`, never a read past the end.
 */
export class WireReader {
  pos: number;

  constructor(
    readonly bytes: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const key = this.varint32();
    const field = key >>> 3;
    if (field === 0) throw new DecodeProblem('field number 0 in the protobuf data');
    return { field, wire: key & 7 };
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

  /** A length-delimited field's range. */
  range(): { start: number; end: number } {
    const length = this.varint32();
    const start = this.pos;
    if (length > this.end - start)
      throw new DecodeProblem('a protobuf length runs past the end of its message');
    this.pos = start + length;
    return { start, end: this.pos };
  }

  string(): string {
    const { start, end } = this.range();
    return this.bytes.toString('utf8', start, end);
  }

  /** Skips a field this decoder does not read. */
  skip(wire: number): void {
    if (wire === VARINT) this.varint32();
    else if (wire === I64) this.advance(8);
    else if (wire === LEN) this.range();
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

/** An int64 from its two 32-bit halves: a number when exact, else its decimal text. */
function int64Value(low: number, high: number): number | string {
  const negative = high >= 0x80000000;
  if (!negative && high < 0x200000) return high * TWO_32 + low;
  if (negative && high > 0xffe00000) return (high - TWO_32) * TWO_32 + low;
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
}
