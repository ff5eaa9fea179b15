import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseAddress, setFor, VigilError } from '../core/index.js';
import { parseCsv } from './csv.js';

export type Criticality = 'low' | 'medium' | 'high';

/** An asset as the team describes it: what it is, whether the internet reaches it, what is at stake. */
export interface Asset {
  hostname: string;
  addresses: string[];
  publicFacing: boolean;
  /** SSVC Mission and Well-Being impact of losing it. */
  criticality: Criticality;
  owner?: string;
  tags: string[];
}

/** How a finding's asset name met the inventory. */
export interface AssetMatch {
  asset?: Asset;
  /** Several inventory assets answer to the name: none is chosen. */
  ambiguous?: Asset[];
}

/**
 * Assets by host name and by address, in lower case. A bare short name meets a full one either
 * way: a scanner's `mail` finds the inventory's `mail.example.org`, and a scanner's
 * `mail.example.org` finds the inventory's `mail`. Two full names never meet by their first label
 * (`mail.example.org` is not `mail.corp.example`), and addresses and image names have no short name.
 */
export class AssetIndex {
  readonly assets: Asset[];
  private readonly byKey = new Map<string, Set<Asset>>();
  private readonly byShortName = new Map<string, Set<Asset>>();
  private readonly found = new Map<string, AssetMatch>();

  constructor(assets: Asset[]) {
    this.assets = assets;
    for (const asset of assets) {
      for (const key of new Set([asset.hostname, ...asset.addresses].map((k) => k.toLowerCase())))
        if (key) setFor(this.byKey, key).add(asset);
      const short = shortName(asset.hostname.toLowerCase());
      if (short) setFor(this.byShortName, short).add(asset);
    }
  }

  /** The asset a finding names: by host name, address, or short name; ambiguity is told, not guessed. */
  find(name: string, address?: string): AssetMatch {
    // A list asks for the same few thousand names for each of hundreds of thousands of findings.
    const key = `${name}\u0000${address ?? ''}`;
    let match = this.found.get(key);
    if (!match) {
      match = this.match(name, address);
      this.found.set(key, match);
    }
    return match;
  }

  private match(name: string, address?: string): AssetMatch {
    const lower = name.toLowerCase();
    const candidates =
      this.byKey.get(lower) ??
      (address ? this.byKey.get(address.toLowerCase()) : undefined) ??
      (shortName(lower) ? this.byKey.get(shortName(lower)!) : undefined) ??
      (isShortName(lower) ? this.byShortName.get(lower) : undefined);
    if (candidates && candidates.size > 1) return { ambiguous: [...candidates] };
    return { asset: candidates ? [...candidates][0] : undefined };
  }
}

/** A name that can be a host's short name: one label, not an address. */
function isShortName(name: string): boolean {
  return /^[a-z0-9_-]+$/.test(name) && parseAddress(name) === undefined && !/^\d+$/.test(name);
}

/** The first label of a full host name; undefined for addresses, image names and short names. */
function shortName(name: string): string | undefined {
  if (parseAddress(name) !== undefined || /[/:@]/.test(name)) return undefined;
  const [first, ...rest] = name.split('.');
  return rest.length && first && isShortName(first) ? first : undefined;
}

function parseCsvAssets(text: string, file: string) {
  try {
    return parseCsv(text, file);
  } catch (error) {
    if (error instanceof VigilError) throw new VigilError('ASSETS_INVALID', error.message, error.location);
    throw error;
  }
}

const CRITICALITIES: Criticality[] = ['low', 'medium', 'high'];

/**
 * Reads an asset inventory: YAML (a list of assets, or `assets:` holding one) or CSV with the
 * columns hostname, addresses (separated by spaces or semicolons), public_facing, criticality,
 * owner, tags. Bad entries are reported with their place; the others are kept.
 */
export function readAssets(file: string): { assets: AssetIndex; problems: VigilError[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new VigilError(
      'ASSETS_UNREADABLE',
      `cannot read the asset inventory: ${(error as Error).message}`,
      { file },
    );
  }
  const problems: VigilError[] = [];
  const rows: { data: Record<string, unknown>; where: { line?: number; field?: string } }[] = [];
  if (/\.csv$/i.test(file)) {
    let head: string[] | undefined;
    for (const { line, cells } of parseCsvAssets(text, file)) {
      if (!head) {
        head = cells.map((h) => h.trim().toLowerCase());
        if (!head.includes('hostname'))
          throw new VigilError('ASSETS_INVALID', 'the CSV header must name a "hostname" column', {
            file,
            line: 1,
          });
        continue;
      }
      const header = head;
      rows.push({
        data: Object.fromEntries(header.map((h, j) => [h, (cells[j] ?? '').trim()])),
        where: { line },
      });
    }
  } else {
    let data: unknown;
    try {
      data = parse(text);
    } catch (error) {
      throw new VigilError('ASSETS_INVALID', `not valid YAML: ${(error as Error).message.split('\n')[0]}`, {
        file,
      });
    }
    const list = Array.isArray(data) ? data : (data as { assets?: unknown })?.assets;
    if (!Array.isArray(list))
      throw new VigilError('ASSETS_INVALID', 'expected a list of assets (or assets: [...])', { file });
    for (const [i, entry] of list.entries()) {
      rows.push({ data: (entry ?? {}) as Record<string, unknown>, where: { field: `assets[${i}]` } });
    }
  }
  const assets: Asset[] = [];
  const seen = new Set<string>();
  for (const { data, where } of rows) {
    const fail = (field: string, message: string) =>
      problems.push(
        new VigilError('ASSETS_ENTRY', message, {
          file,
          line: where.line,
          field: where.field ? `${where.field}.${field}` : field,
        }),
      );
    const hostname = String(data.hostname ?? '').trim();
    if (!hostname) {
      fail('hostname', 'an asset needs a hostname');
      continue;
    }
    if (seen.has(hostname.toLowerCase())) {
      fail('hostname', `"${hostname}" is listed already; the first entry is kept`);
      continue;
    }
    seen.add(hostname.toLowerCase());
    const criticality = String(data.criticality ?? 'medium').toLowerCase() as Criticality;
    if (!CRITICALITIES.includes(criticality)) {
      fail('criticality', `criticality is low, medium or high, not "${data.criticality}"`);
      continue;
    }
    const flag = data.public_facing;
    const publicFacing = flag === true || /^(true|yes|1)$/i.test(String(flag ?? ''));
    const list = (value: unknown) =>
      Array.isArray(value)
        ? value.map(String)
        : String(value ?? '')
            .split(/[\s;]+/)
            .filter(Boolean);
    assets.push({
      hostname,
      addresses: list(data.addresses ?? data.address),
      publicFacing,
      criticality,
      owner: data.owner ? String(data.owner) : undefined,
      tags: list(data.tags),
    });
  }
  return { assets: new AssetIndex(assets), problems };
}
