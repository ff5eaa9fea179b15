import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VigilError } from '../../src/core/index.js';
import { loadIndicators, readTaxii, TAXII_MEDIA_TYPE } from '../../src/intel/index.js';

/**
 * A small TAXII 2.1 server: discovery, one API root, a readable and an unreadable collection, and
 * the readable one's objects in three pages (`next` while `more`). It wants the TAXII media type
 * and a token (or a user and password).
 */
const TOKEN = 'Bearer s3cret';
const BASIC = `Basic ${Buffer.from('analyst:pw').toString('base64')}`;

function indicator(n: number, pattern: string) {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--0000000${n}-0000-4000-8000-000000000000`,
    name: `ioc ${n}`,
    pattern,
    pattern_type: 'stix',
    valid_from: '2024-05-01T00:00:00Z',
    confidence: 85,
  };
}

const PAGES: Record<string, { objects: unknown[]; next?: string }> = {
  '': { objects: [indicator(1, "[ipv4-addr:value = '198.51.100.7']")], next: 'p2' },
  p2: {
    objects: [
      indicator(2, "[domain-name:value = 'evil.com' OR url:value = 'http://evil.com/x']"),
      { type: 'malware', id: 'malware--1', name: 'x' },
    ],
    next: 'p3',
  },
  p3: {
    objects: [indicator(3, `[file:hashes.'SHA-256' = '${'a'.repeat(64)}' AND file:name = 'x.exe']`)],
  },
};

describe('TAXII 2.1 client against a local server', () => {
  let server: Server;
  let base: string;
  const requests: { path: string; accept?: string; authorization?: string }[] = [];
  let loopNext = false;

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      requests.push({
        path: `${url.pathname}${url.search}`,
        accept: request.headers.accept,
        authorization: request.headers.authorization,
      });
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': TAXII_MEDIA_TYPE });
        response.end(JSON.stringify(body));
      };
      if (request.headers.accept !== TAXII_MEDIA_TYPE) return send(406, { title: 'not acceptable' });
      if (request.headers.authorization !== TOKEN && request.headers.authorization !== BASIC)
        return send(401, { title: 'unauthorized' });
      switch (url.pathname) {
        case '/taxii2/':
          return send(200, { title: 'Test server', default: `${base}/api1/`, api_roots: [`${base}/api1/`] });
        case '/api1/':
          return send(200, { title: 'Root', versions: [TAXII_MEDIA_TYPE], max_content_length: 1_000_000 });
        case '/api1/collections/':
          return send(200, {
            collections: [
              { id: 'intel', title: 'Indicators', can_read: true, can_write: false },
              { id: 'private', title: 'Write only', can_read: false, can_write: true },
            ],
          });
        case '/api1/collections/intel/':
          return send(200, { id: 'intel', title: 'Indicators', can_read: true, can_write: false });
        case '/api1/collections/intel/objects/': {
          const page = PAGES[url.searchParams.get('next') ?? ''];
          if (!page) return send(400, { title: 'bad next' });
          const next = loopNext ? 'p2' : page.next;
          return send(200, { more: next !== undefined, ...(next ? { next } : {}), objects: page.objects });
        }
        default:
          return send(404, { title: 'not found' });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const allowed = { allowHosts: ['127.0.0.1'] };

  it('walks discovery, API root and collections, reads every page with added_after, sends the media type and the token', async () => {
    requests.length = 0;
    const problems: VigilError[] = [];
    const loaded = await loadIndicators([`taxii+${base}/taxii2/`], {
      fetch: allowed,
      taxiiAuthorization: TOKEN,
      addedAfter: '2024-04-01T00:00:00Z',
      now: Date.parse('2024-05-10T00:00:00Z'),
      onProblem: (error) => problems.push(error),
    });
    expect(loaded.indicators.map((i) => [i.type, i.value])).toEqual([
      ['ipv4', '198.51.100.7'],
      ['domain', 'evil.com'],
      ['url', 'http://evil.com/x'],
    ]);
    expect(loaded.indicators[1]!.source).toBe(
      `TAXII collection "Indicators" (${base}/api1/collections/intel/): indicator "ioc 2"`,
    );
    expect(loaded.indicators[0]!.firstSeen).toBe(Date.parse('2024-05-01T00:00:00Z'));
    // The AND pattern of page 3 is refused whole, and said where.
    expect(problems.map((p) => [p.code, p.location.field])).toEqual([
      ['IOC_UNSUPPORTED', 'page 3: objects[0].pattern'],
    ]);
    expect(requests.map((r) => r.path)).toEqual([
      '/taxii2/',
      '/api1/collections/',
      '/api1/collections/intel/objects/?added_after=2024-04-01T00%3A00%3A00Z',
      '/api1/collections/intel/objects/?added_after=2024-04-01T00%3A00%3A00Z&next=p2',
      '/api1/collections/intel/objects/?added_after=2024-04-01T00%3A00%3A00Z&next=p3',
    ]);
    expect(new Set(requests.map((r) => r.accept))).toEqual(new Set([TAXII_MEDIA_TYPE]));
    expect(new Set(requests.map((r) => r.authorization))).toEqual(new Set([TOKEN]));
  });

  it("reads one collection by its URL, with the URL's user and password as Basic authorization", async () => {
    requests.length = 0;
    const collections = await readTaxii(`${base}/api1/collections/intel/`, {
      fetch: allowed,
      authorization: BASIC,
    });
    expect(collections.map((c) => [c.title, c.pages.length])).toEqual([['Indicators', 3]]);
    const url = new URL(`${base}/api1/collections/intel/`);
    url.username = 'analyst';
    url.password = 'pw';
    const loaded = await loadIndicators([`taxii+${url.href}`], {
      fetch: allowed,
      now: Date.parse('2024-05-10'),
    });
    expect(loaded.indicators).toHaveLength(3);
    expect(requests.at(-1)!.authorization).toBe(BASIC);
  });

  it('refuses a server on a private address unless allowed, and a wrong token with the HTTP status', async () => {
    await expect(
      loadIndicators([`taxii+${base}/taxii2/`], { taxiiAuthorization: TOKEN }),
    ).rejects.toMatchObject({
      code: 'FETCH_REFUSED_ADDRESS',
    });
    await expect(
      loadIndicators([`taxii+${base}/taxii2/`], { fetch: allowed, taxiiAuthorization: 'Bearer wrong' }),
    ).rejects.toMatchObject({ code: 'FETCH_HTTP', message: expect.stringContaining('401') });
  });

  it('stops a server whose pages never end', async () => {
    loopNext = true;
    try {
      await expect(
        readTaxii(`${base}/api1/`, { fetch: allowed, authorization: TOKEN }),
      ).rejects.toMatchObject({
        code: 'TAXII_PAGING',
      });
    } finally {
      loopNext = false;
    }
  });
});
