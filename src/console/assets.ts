import { readFileSync } from 'node:fs';

/**
 * The console's stylesheet and script, served by Vigil itself (no CDN: the console works
 * offline). They live in the package's `assets/console/`, beside `src/` and `dist/` alike.
 */
const FOLDER = new URL('../../assets/console/', import.meta.url);

const TYPES: Record<string, string> = {
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
};

export interface Asset {
  body: Buffer;
  type: string;
}

/** Every asset, read once at start: a name not in this list is never read from disk. */
export function loadAssets(): Map<string, Asset> {
  return new Map(
    Object.entries(TYPES).map(([name, type]) => [name, { body: readFileSync(new URL(name, FOLDER)), type }]),
  );
}
