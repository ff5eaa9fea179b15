/**
 * EVTX substitution values: the binary types of Windows event templates, decoded to JSON-ready
 * values in the forms `evtx_dump` writes (so an `.evtx` and its JSON dump give the same fields).
 */

export const VALUE_TYPES = {
  null: 0x00,
  string: 0x01,
  ansiString: 0x02,
  int8: 0x03,
  uint8: 0x04,
  int16: 0x05,
  uint16: 0x06,
  int32: 0x07,
  uint32: 0x08,
  int64: 0x09,
  uint64: 0x0a,
  real32: 0x0b,
  real64: 0x0c,
  bool: 0x0d,
  binary: 0x0e,
  guid: 0x0f,
  sizeT: 0x10,
  fileTime: 0x11,
  sysTime: 0x12,
  sid: 0x13,
  hexInt32: 0x14,
  hexInt64: 0x15,
  evtHandle: 0x20,
  binXml: 0x21,
  evtXml: 0x23,
  array: 0x80,
} as const;

/** A GUID: written `XXXXXXXX-XXXX-…` in JSON (as evtx_dump does) and `{…}` in XML (as Windows does). */
export class Guid {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** A decoded value; nested BinXml values are decoded by the caller. */
export type EvtxScalar = string | number | boolean | null | Guid;
export type EvtxValue = EvtxScalar | EvtxScalar[];

export class ValueError extends Error {}

const EPOCH_DIFF_MS = 11644473600000n;

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

function utf16(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf16le', start, end - ((end - start) & 1));
}

/**
 * A string value as tools that read EVTX write it (evtx_dump, and the JSON of SigmaHQ's
 * regression data): up to its terminating NUL, without trailing whitespace. Events often end a
 * value with a space or a CR-LF, and Sigma rules (`endswith`) are written against the trimmed form.
 */
function trimmed(text: string): string {
  let cut = text.length;
  while (cut > 0) {
    const c = text.charCodeAt(cut - 1);
    if (c === 0 || c === 0x20 || (c >= 0x09 && c <= 0x0d)) cut--;
    else break;
  }
  return cut === text.length ? text : text.slice(0, cut);
}

/** FILETIME (100 ns ticks since 1601) as ISO 8601 with microseconds. */
export function fileTime(ticks: bigint): string {
  const ms = ticks / 10_000n - EPOCH_DIFF_MS;
  const micros = Number((ticks / 10n) % 1_000_000n);
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) return hex(ticks);
  return `${date.toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

function systemTime(buf: Buffer, start: number): string {
  const field = (i: number) => buf.readUInt16LE(start + i * 2);
  const [year, month, , day, hour, minute, second, ms] = [0, 1, 2, 3, 4, 5, 6, 7].map(field) as number[];
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(year!, 4)}-${p(month!)}-${p(day!)}T${p(hour!)}:${p(minute!)}:${p(second!)}.${p(ms! * 1000, 6)}Z`;
}

function guid(buf: Buffer, start: number): Guid {
  const h = (from: number, to: number) => buf.toString('hex', start + from, start + to).toUpperCase();
  const d1 = buf.readUInt32LE(start).toString(16).padStart(8, '0').toUpperCase();
  const d2 = buf
    .readUInt16LE(start + 4)
    .toString(16)
    .padStart(4, '0')
    .toUpperCase();
  const d3 = buf
    .readUInt16LE(start + 6)
    .toString(16)
    .padStart(4, '0')
    .toUpperCase();
  return new Guid(`${d1}-${d2}-${d3}-${h(8, 10)}-${h(10, 16)}`);
}

function sid(buf: Buffer, start: number, size: number): string {
  if (size < 8) throw new ValueError('SID shorter than 8 bytes');
  const count = buf[start + 1]!;
  if (8 + count * 4 > size) throw new ValueError('SID sub-authorities run past its size');
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + buf[start + i]!;
  let text = `S-${buf[start]}-${authority}`;
  for (let i = 0; i < count; i++) text += `-${buf.readUInt32LE(start + 8 + i * 4)}`;
  return text;
}

/** A 64-bit integer as a number when that is exact, else as its decimal text (never rounded). */
function exactNumber(n: bigint): number | string {
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n.toString();
}

/** Fixed sizes of the scalar types that have one. */
const FIXED: Record<number, number> = {
  3: 1,
  4: 1,
  5: 2,
  6: 2,
  7: 4,
  8: 4,
  9: 8,
  10: 8,
  11: 4,
  12: 8,
  15: 16,
  17: 8,
  18: 16,
  20: 4,
  21: 8,
};

function scalar(type: number, buf: Buffer, start: number, size: number): EvtxScalar {
  const need = FIXED[type];
  if (need !== undefined && size < need)
    throw new ValueError(`value of type 0x${type.toString(16)} needs ${need} bytes, has ${size}`);
  switch (type) {
    case 0x00:
      return null;
    case 0x01:
      return trimmed(utf16(buf, start, start + size));
    case 0x02: {
      let end = start + size;
      while (end > start && buf[end - 1] === 0) end--;
      return buf.toString('latin1', start, end);
    }
    case 0x03:
      return buf.readInt8(start);
    case 0x04:
      return buf[start]!;
    case 0x05:
      return buf.readInt16LE(start);
    case 0x06:
      return buf.readUInt16LE(start);
    case 0x07:
      return buf.readInt32LE(start);
    case 0x08:
      return buf.readUInt32LE(start);
    case 0x09:
      return exactNumber(buf.readBigInt64LE(start));
    case 0x0a:
      return exactNumber(buf.readBigUInt64LE(start));
    case 0x0b:
      return buf.readFloatLE(start);
    case 0x0c:
      return buf.readDoubleLE(start);
    case 0x0d:
      return size >= 4 ? buf.readUInt32LE(start) !== 0 : buf[start] !== 0;
    case 0x0e:
      return buf.toString('hex', start, start + size).toUpperCase();
    case 0x0f:
      return guid(buf, start);
    case 0x10:
      return size >= 8 ? hex(buf.readBigUInt64LE(start)) : hex(buf.readUInt32LE(start));
    case 0x11:
      return fileTime(buf.readBigUInt64LE(start));
    case 0x12:
      return systemTime(buf, start);
    case 0x13:
      return sid(buf, start, size);
    case 0x14:
      return hex(buf.readUInt32LE(start));
    case 0x15:
      return hex(buf.readBigUInt64LE(start));
    case 0x23:
      return trimmed(utf16(buf, start, start + size));
    default:
      return buf.toString('hex', start, start + size).toUpperCase();
  }
}

/** One substitution value of `type` in `buf[start, start + size)`. Nested BinXml (0x21) is not handled here. */
export function decodeValue(type: number, buf: Buffer, start: number, size: number): EvtxValue {
  if (start + size > buf.length) throw new ValueError('value runs past the end of its chunk');
  if ((type & VALUE_TYPES.array) === 0) return scalar(type, buf, start, size);
  const base = type & 0x7f;
  if (base === VALUE_TYPES.string) {
    // NUL-terminated strings one after another: the last terminator ends the list.
    const text = utf16(buf, start, start + size).replace(/\u0000$/, '');
    return text === '' ? [] : text.split('\u0000');
  }
  if (base === VALUE_TYPES.ansiString) {
    const text = buf.toString('latin1', start, start + size).replace(/\u0000+$/, '');
    return text === '' ? [] : text.split('\u0000');
  }
  const width = base === VALUE_TYPES.sizeT ? 8 : FIXED[base];
  if (!width) throw new ValueError(`array of type 0x${base.toString(16)} is not supported`);
  const out: EvtxScalar[] = [];
  for (let at = start; at + width <= start + size; at += width) out.push(scalar(base, buf, at, width));
  return out;
}
