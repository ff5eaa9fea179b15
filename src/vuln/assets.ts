import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { VigilError } from '../core/index.js';
import { splitCsvLine } from './imports.js';

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

/** Assets by host name and by address, in lower case. */
export class AssetIndex {
  readonly assets: Asset[];
  private readonly byKey = new Map<string, Asset>();

  constructor(assets: Asset[]) {
    this.assets = assets;
    for (const asset of assets) {
      for (const key of [asset.hostname, ...asset.addresses])
        if (key) this.byKey.set(key.toLowerCase(), asset);
    }
  }

  /** The asset a finding names, by host name, its short name, or address. */
  find(name: string, address?: string): Asset | undefined {
    const lower = name.toLowerCase();
    return (
      this.byKey.get(lower) ??
      (address ? this.byKey.get(address.toLowerCase()) : undefined) ??
      this.byKey.get(lower.split('.')[0]!)
    );
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
    const lines = text.split(/\r?\n/);
    const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
    if (!header.includes('hostname'))
      throw new VigilError('ASSETS_INVALID', 'the CSV header must name a "hostname" column', {
        file,
        line: 1,
      });
    lines.slice(1).forEach((line, i) => {
      if (!line.trim()) return;
      const cells = splitCsvLine(line);
      rows.push({
        data: Object.fromEntries(header.map((h, j) => [h, (cells[j] ?? '').trim()])),
        where: { line: i + 2 },
      });
    });
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
