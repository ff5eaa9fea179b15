/**
 * A small protobuf writer for hand-made test messages: a message is a list of fields, each a
 * field number with a typed value; nested messages are lists too. Enough to build OTLP requests,
 * damaged ones included, byte by byte.
 */
export type ProtoField =
  | [number, 'varint', number | bigint]
  | [number, 'fixed64', bigint]
  | [number, 'fixed32', number]
  | [number, 'double', number]
  | [number, 'bytes', Uint8Array | string]
  | [number, 'message', ProtoField[]]
  | [number, 'raw', number, Uint8Array]; // a tag with any wire type, then these bytes as they are

function varint(value: bigint): number[] {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const tag = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

export function encode(fields: ProtoField[]): Buffer {
  const parts: number[] = [];
  for (const entry of fields) {
    const [field, kind] = entry;
    if (kind === 'varint') parts.push(...tag(field, 0), ...varint(BigInt(entry[2])));
    else if (kind === 'fixed64') {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(entry[2]);
      parts.push(...tag(field, 1), ...b);
    } else if (kind === 'double') {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(entry[2]);
      parts.push(...tag(field, 1), ...b);
    } else if (kind === 'fixed32') {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(entry[2]);
      parts.push(...tag(field, 5), ...b);
    } else if (kind === 'raw') {
      parts.push(...tag(field, entry[2]), ...entry[3]);
    } else {
      const bytes =
        kind === 'message'
          ? encode(entry[2])
          : typeof entry[2] === 'string'
            ? Buffer.from(entry[2])
            : entry[2];
      parts.push(...tag(field, 2), ...varint(BigInt(bytes.length)), ...bytes);
    }
  }
  return Buffer.from(parts);
}
