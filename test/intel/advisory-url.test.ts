import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Resolver, VigilError } from '../../src/core/index.js';
import { readAdvisory } from '../../src/intel/index.js';

/** The error reading the advisory fails with (the test fails when it does not). */
async function failure(promise: Promise<unknown>): Promise<VigilError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VigilError);
  return error as VigilError;
}

describe('an advisory given as a URL', () => {
  let server: Server;
  let port: number;
  const asked: string[] = [];
  /** A name of the test's own for the server, as a public advisory site would have. */
  const resolve: Resolver = async (hostname) => {
    if (hostname !== 'advisories.test') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [{ address: '127.0.0.1', family: 4 }];
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      asked.push(request.url ?? '');
      if (request.url === '/aa23-144a.html') {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(
          '<html><head><title>PRC actors</title></head><body><p>The actors used T1059.001.</p></body></html>',
        );
      } else if (request.url === '/moved') {
        response.writeHead(302, { location: `http://127.0.0.1:${port}/aa23-144a.html` });
        response.end();
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('is not read from a loopback address, directly or through a redirect', async () => {
    const direct = await failure(readAdvisory(`http://127.0.0.1:${port}/aa23-144a.html`));
    expect(direct.code).toBe('FETCH_REFUSED_ADDRESS');
    expect(direct.describe()).toBe(
      `http://127.0.0.1:${port}/aa23-144a.html: 127.0.0.1 is a loopback address: not fetched unless an admin allows the host`,
    );
    const redirected = await failure(
      readAdvisory(`http://advisories.test:${port}/moved`, {
        fetch: { resolve, allowHosts: ['advisories.test'] },
      }),
    );
    expect(redirected.code).toBe('FETCH_REFUSED_ADDRESS');
    expect(redirected.message).toMatch(/^redirected to http:\/\/127\.0\.0\.1:\d+\/aa23-144a\.html: /);
    expect(asked).toEqual(['/moved']);
  });

  it('is read from a host an admin allows, within the limits given', async () => {
    const document = await readAdvisory(`http://advisories.test:${port}/aa23-144a.html`, {
      fetch: { resolve, allowHosts: ['advisories.test'] },
    });
    expect(document).toMatchObject({ kind: 'html', title: 'PRC actors', text: 'The actors used T1059.001.' });
    const tooLarge = await failure(
      readAdvisory(`http://advisories.test:${port}/aa23-144a.html`, {
        fetch: { resolve, allowHosts: ['advisories.test'], maxBytes: 20 },
      }),
    );
    expect(tooLarge.code).toBe('FETCH_TOO_LARGE');
  });
});
