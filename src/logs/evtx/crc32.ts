import * as zlib from 'node:zlib';

/** CRC-32 (IEEE 802.3, reflected, as zlib computes it): the checksum EVTX headers and chunks carry. */
const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

export function crc32InJs(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  let crc = ~seed;
  for (let i = start; i < end; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

// zlib's own CRC-32 (Node 20.15 and later) is several times faster than a table in JavaScript;
// every chunk is checksummed whole, so this shows in parsing speed.
const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: (bytes: Uint8Array, start?: number, end?: number, seed?: number) => number = native
  ? (bytes, start = 0, end = bytes.length, seed = 0) => native(bytes.subarray(start, end), seed)
  : crc32InJs;
