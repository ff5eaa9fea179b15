import { type FetchOptions, safeFetch, VigilError } from '../core/index.js';

/** The media type TAXII 2.1 answers in; asked for on every request. */
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

/** Pages read from one collection at most: a server whose `next` never ends cannot hold a run. */
const MAX_PAGES = 100_000;

export interface TaxiiOptions {
  fetch?: FetchOptions;
  /** The `authorization` header's value (`Basic …`, `Bearer …`). */
  authorization?: string;
  /** Only objects the server added after this time (RFC 3339), as `added_after` asks. */
  addedAfter?: string;
}

export interface TaxiiCollection {
  title: string;
  /** The collection's URL. */
  url: string;
  /** Its objects, page after page, with the page each came from (1-based). */
  pages: { page: number; objects: unknown[] }[];
}

interface CollectionInfo {
  id?: unknown;
  title?: unknown;
  can_read?: unknown;
}

/**
 * A TAXII 2.1 client that reads indicators: given a server's discovery URL, every readable
 * collection of its default API root (or of every root when none is default); given an API root,
 * its readable collections; given a collection's URL, that one. Objects are read page by page
 * (`next` while `more`), from `added_after` when asked. Every request goes through safeFetch, so
 * the address policy applies (a server on a private address needs its allow-list entry).
 */
export async function readTaxii(url: string, options: TaxiiOptions = {}): Promise<TaxiiCollection[]> {
  const get = (address: string) => getJson(address, options);
  const start = await get(url);
  if (Array.isArray(start.api_roots) || typeof start.default === 'string') {
    const roots =
      typeof start.default === 'string' ? [start.default] : (start.api_roots as unknown[]).map(String);
    const found: TaxiiCollection[] = [];
    for (const root of roots) found.push(...(await rootCollections(new URL(root, url).href, options)));
    return found;
  }
  if (Array.isArray(start.collections)) return readCollections(dirUrl(url, '.'), start.collections, options);
  if (typeof start.id === 'string' && 'can_read' in start)
    return readCollections(dirUrl(url, '..'), [start], options);
  if (Array.isArray(start.versions)) return rootCollections(url, options);
  throw new VigilError(
    'TAXII_INVALID',
    'not a TAXII 2.1 discovery, API root, collections or collection answer',
    { file: url },
  );
}

async function rootCollections(root: string, options: TaxiiOptions): Promise<TaxiiCollection[]> {
  const base = root.endsWith('/') ? root : `${root}/`;
  const answer = await getJson(`${base}collections/`, options);
  return readCollections(
    `${base}collections/`,
    Array.isArray(answer.collections) ? answer.collections : [],
    options,
  );
}

async function readCollections(
  collectionsUrl: string,
  collections: unknown[],
  options: TaxiiOptions,
): Promise<TaxiiCollection[]> {
  const out: TaxiiCollection[] = [];
  for (const entry of collections as CollectionInfo[]) {
    if (typeof entry?.id !== 'string' || entry.can_read === false) continue;
    const url = new URL(`${encodeURIComponent(entry.id)}/`, collectionsUrl).href;
    out.push({
      title: typeof entry.title === 'string' ? entry.title : entry.id,
      url,
      pages: await readObjects(url, options),
    });
  }
  return out;
}

async function readObjects(collection: string, options: TaxiiOptions): Promise<TaxiiCollection['pages']> {
  const pages: TaxiiCollection['pages'] = [];
  const seen = new Set<string>();
  let next: string | undefined;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const query = new URLSearchParams();
    if (options.addedAfter) query.set('added_after', options.addedAfter);
    if (next !== undefined) query.set('next', next);
    const address = `${collection}objects/${query.size ? `?${query}` : ''}`;
    const envelope = await getJson(address, options);
    pages.push({ page, objects: Array.isArray(envelope.objects) ? envelope.objects : [] });
    if (envelope.more !== true || typeof envelope.next !== 'string' || envelope.next === '') return pages;
    if (seen.has(envelope.next))
      throw new VigilError('TAXII_PAGING', `the server gave the same next page twice ('${envelope.next}')`, {
        file: address,
      });
    seen.add(envelope.next);
    next = envelope.next;
  }
  throw new VigilError('TAXII_PAGING', `more than ${MAX_PAGES} pages`, { file: collection });
}

async function getJson(url: string, options: TaxiiOptions): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { accept: TAXII_MEDIA_TYPE };
  if (options.authorization) headers.authorization = options.authorization;
  const { bytes } = await safeFetch(url, { ...options.fetch, headers });
  try {
    const data = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof data === 'object' && data !== null && !Array.isArray(data))
      return data as Record<string, unknown>;
  } catch (error) {
    throw new VigilError('TAXII_INVALID', `the answer is not JSON: ${(error as Error).message}`, {
      file: url,
    });
  }
  throw new VigilError('TAXII_INVALID', 'the answer is not a JSON object', { file: url });
}

function dirUrl(url: string, relative: string): string {
  const base = url.endsWith('/') ? url : `${url}/`;
  return new URL(`${relative}/`, base).href;
}
