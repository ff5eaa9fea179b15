import { writeFileSync } from 'node:fs';

/**
 * Writes small geolocation databases in the MaxMind DB format (version 2.0: an IPv6 search tree
 * of 24-bit records, IPv4 networks under ::/96, then the data section and the metadata), so tests
 * place addresses the way a GeoLite2-City file would, without shipping one.
 */

export interface TestPlace {
  /** IPv4 network, `203.0.113.0/24`. */
  network: string;
  latitude: number;
  longitude: number;
  accuracyKm?: number;
  country: string;
  city?: string;
}

type Value = string | number | boolean | Value[] | { [key: string]: Value } | Uint64;

class Uint64 {
  constructor(readonly value: bigint) {}
}

/** A control byte (and extended type and size bytes) for a field of `type` and `size`. */
function control(type: number, size: number): number[] {
  const bytes: number[] = [];
  let first = type <= 7 ? type << 5 : 0;
  const sizeBytes: number[] = [];
  if (size < 29) first |= size;
  else if (size < 285) {
    first |= 29;
    sizeBytes.push(size - 29);
  } else if (size < 65_821) {
    first |= 30;
    sizeBytes.push(((size - 285) >> 8) & 0xff, (size - 285) & 0xff);
  } else {
    first |= 31;
    const rest = size - 65_821;
    sizeBytes.push((rest >> 16) & 0xff, (rest >> 8) & 0xff, rest & 0xff);
  }
  bytes.push(first);
  if (type > 7) bytes.push(type - 7);
  bytes.push(...sizeBytes);
  return bytes;
}

function unsigned(value: bigint): number[] {
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return bytes;
}

function encode(value: Value): number[] {
  if (typeof value === 'string') {
    const text = [...Buffer.from(value, 'utf8')];
    return [...control(2, text.length), ...text];
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (value instanceof Uint64) {
    const bytes = unsigned(value.value);
    return [...control(9, bytes.length), ...bytes];
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
      const bytes = unsigned(BigInt(value));
      return [...control(value < 65_536 ? 5 : 6, bytes.length), ...bytes];
    }
    const double = Buffer.alloc(8);
    double.writeDoubleBE(value);
    return [...control(3, 8), ...double];
  }
  if (Array.isArray(value)) return [...control(11, value.length), ...value.flatMap(encode)];
  const entries = Object.entries(value);
  return [
    ...control(7, entries.length),
    ...entries.flatMap(([key, item]) => [...encode(key), ...encode(item)]),
  ];
}

type Ref = { node: number } | { data: number } | null;

function networkBits(network: string): number[] {
  const [address, prefix] = network.split('/');
  const octets = address!.split('.').map(Number);
  const bits = new Array<number>(96).fill(0);
  for (const octet of octets) for (let i = 7; i >= 0; i--) bits.push((octet >> i) & 1);
  return bits.slice(0, 96 + Number(prefix ?? 32));
}

export function buildCityDatabase(places: readonly TestPlace[]): Buffer {
  const nodes: [Ref, Ref][] = [[null, null]];
  const data: number[] = [];
  for (const place of places) {
    const record: Value = {
      city: place.city ? { names: { en: place.city } } : {},
      country: { iso_code: place.country, names: { en: place.country } },
      location: {
        latitude: place.latitude,
        longitude: place.longitude,
        accuracy_radius: place.accuracyKm ?? 20,
      },
    };
    const offset = data.length;
    data.push(...encode(record));
    const bits = networkBits(place.network);
    let node = 0;
    bits.forEach((bit, depth) => {
      const here = nodes[node]!;
      if (depth === bits.length - 1) {
        here[bit] = { data: offset };
        return;
      }
      const next = here[bit];
      if (next && 'data' in next) throw new Error(`${place.network} lies inside a network written before it`);
      if (next) node = next.node;
      else {
        nodes.push([null, null]);
        here[bit] = { node: nodes.length - 1 };
        node = nodes.length - 1;
      }
    });
  }
  const nodeCount = nodes.length;
  const recordValue = (ref: Ref) =>
    ref === null ? nodeCount : 'node' in ref ? ref.node : nodeCount + 16 + ref.data;
  const tree: number[] = [];
  for (const [left, right] of nodes)
    for (const ref of [left, right]) {
      const value = recordValue(ref);
      tree.push((value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
    }
  const metadata = encode({
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: new Uint64(BigInt(Math.floor(Date.UTC(2026, 0, 1) / 1000))),
    database_type: 'Vigil-Test-City',
    description: { en: 'Places for Vigil tests' },
    ip_version: 6,
    languages: ['en'],
    node_count: nodeCount,
    record_size: 24,
  });
  return Buffer.from([
    ...tree,
    ...new Array<number>(16).fill(0),
    ...data,
    ...Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1'),
    ...metadata,
  ]);
}

export function writeCityDatabase(path: string, places: readonly TestPlace[]): string {
  writeFileSync(path, buildCityDatabase(places));
  return path;
}

/** Places used across tests: documentation networks (RFC 5737) set in cities far apart. */
export const TEST_PLACES: readonly TestPlace[] = [
  { network: '192.0.2.0/24', latitude: 48.8566, longitude: 2.3522, country: 'FR', city: 'Paris' },
  { network: '198.51.100.0/24', latitude: -33.8688, longitude: 151.2093, country: 'AU', city: 'Sydney' },
  { network: '203.0.113.0/24', latitude: 49.4521, longitude: 11.0767, country: 'DE', city: 'Nuremberg' },
  {
    network: '100.64.0.0/16',
    latitude: 40.7128,
    longitude: -74.006,
    country: 'US',
    city: 'New York',
    accuracyKm: 50,
  },
];
