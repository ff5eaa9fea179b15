import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addressRefusal,
  allowEntryProblem,
  type FetchOptions,
  type Resolver,
  safeFetch,
  VigilError,
} from '../../src/core/index.js';

/** The error a fetch fails with (the test fails when it does not). */
async function refusal(url: string, options: FetchOptions = {}): Promise<VigilError> {
  const error = await safeFetch(url, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `${url} was fetched`).toBeInstanceOf(VigilError);
  return error as VigilError;
}

/** A resolver for names of the tests' own: each maps to the addresses given, others do not exist. */
function resolverOf(names: Record<string, string[]>, calls: string[] = []): Resolver {
  return async (hostname) => {
    calls.push(hostname);
    const addresses = names[hostname.replace(/\.$/, '')];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('safeFetch against a local server', () => {
  let server: Server;
  let port: number;
  /** The paths asked for, to show that a refused address was never connected to. */
  const asked: string[] = [];
  const routes = new Map<string, (request: IncomingMessage, response: ServerResponse) => void>();

  beforeAll(async () => {
    routes.set('/advisory', (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      r.end('<html><body>advisory</body></html>');
    });
    routes.set('/secret', (_q, r) => r.end('the internal service'));
    routes.set('/to-loopback', (_q, r) => {
      r.writeHead(302, { location: `http://127.0.0.1:${port}/secret` });
      r.end();
    });
    routes.set('/to-internal-name', (_q, r) => {
      r.writeHead(301, { location: `http://wiki.internal.test:${port}/secret` });
      r.end();
    });
    routes.set('/to-mapped', (_q, r) => {
      r.writeHead(307, { location: `http://[::ffff:7f00:1]:${port}/secret` });
      r.end();
    });
    routes.set('/to-file', (_q, r) => {
      r.writeHead(302, { location: 'file:///etc/passwd' });
      r.end();
    });
    routes.set('/to-allowed', (_q, r) => {
      r.writeHead(308, { location: `http://cdn.corp.test:${port}/advisory` });
      r.end();
    });
    routes.set('/announced-large', (_q, r) => {
      r.writeHead(200, { 'content-length': 5000 });
      r.end('x'.repeat(5000));
    });
    routes.set('/endless', (_q, r) => {
      // No Content-Length: chunked, and it never ends by itself.
      r.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'a');
      const pump = () => {
        while (!r.destroyed && r.write(chunk));
        if (!r.destroyed) r.once('drain', pump);
      };
      pump();
    });
    routes.set('/bomb', (_q, r) => {
      // 20 MB of zeros in about 20 kB, announced with its small compressed length.
      const body = gzipSync(Buffer.alloc(20 * 1024 ** 2));
      r.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length });
      r.end(body);
    });
    routes.set('/gzipped', (_q, r) => {
      const body = gzipSync('a compressed advisory');
      r.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length });
      r.end(body);
    });
    routes.set('/trickle', (_q, r) => {
      r.writeHead(200);
      const timer = setInterval(() => (r.destroyed ? clearInterval(timer) : r.write('.')), 20);
      r.on('close', () => clearInterval(timer));
    });
    routes.set('/silent', (_q, r) => {
      r.writeHead(200);
      r.write('a beginning, then nothing');
    });
    routes.set('/echo-headers', (q, r) => {
      r.end(JSON.stringify({ accept: q.headers.accept, authorization: q.headers.authorization ?? null }));
    });
    routes.set('/to-other-origin', (_q, r) => {
      r.writeHead(302, { location: `http://cdn.corp.test:${port}/echo-headers` });
      r.end();
    });
    routes.set('/to-same-origin', (_q, r) => {
      r.writeHead(302, { location: '/echo-headers' });
      r.end();
    });
    routes.set('/missing', (_q, r) => {
      r.writeHead(404);
      r.end('not here');
    });
    server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      asked.push(path);
      const loop = /^\/loop\/(\d+)$/.exec(path);
      if (loop) {
        response.writeHead(302, { location: `/loop/${Number(loop[1]) + 1}` });
        response.end();
        return;
      }
      const route = routes.get(path);
      if (route) route(request, response);
      else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Names of the tests: the mirror and a CDN an admin allowed, an internal wiki, all on this machine. */
  const names = {
    'mirror.test': ['127.0.0.1'],
    'cdn.corp.test': ['127.0.0.1'],
    'wiki.internal.test': ['10.20.0.5', '127.0.0.1'],
    'advisories.example.com': ['127.0.0.1'],
    'two-faced.example.com': ['93.184.215.14', '127.0.0.1'],
    'metadata.test': ['169.254.169.254'],
  };
  const allowed = (more: FetchOptions = {}): FetchOptions => ({
    resolve: resolverOf(names),
    allowHosts: ['mirror.test'],
    ...more,
  });

  it('refuses a loopback URL without connecting, however the address is written', async () => {
    const before = asked.length;
    for (const host of ['127.0.0.1', 'localhost', '2130706433', '127.1', '[::1]', '[::ffff:127.0.0.1]']) {
      const error = await refusal(`http://${host}:${port}/secret`);
      expect(error.code, host).toBe('FETCH_REFUSED_ADDRESS');
      expect(error.location.file).toBe(`http://${host}:${port}/secret`);
    }
    expect((await refusal(`http://127.0.0.1:${port}/secret`)).message).toBe(
      '127.0.0.1 is a loopback address: not fetched unless an admin allows the host',
    );
    expect(asked.length).toBe(before);
  });

  it('refuses a public-looking name that resolves to a loopback address, or to one among others', async () => {
    const options = { resolve: resolverOf(names) };
    const error = await refusal(`http://advisories.example.com:${port}/advisory`, options);
    expect(error.code).toBe('FETCH_REFUSED_ADDRESS');
    expect(error.message).toMatch(/advisories\.example\.com resolves to 127\.0\.0\.1, a loopback address/);
    const mixed = await refusal(`http://two-faced.example.com:${port}/advisory`, options);
    expect(mixed.code).toBe('FETCH_REFUSED_ADDRESS');
    expect(mixed.message).toMatch(/resolves to 127\.0\.0\.1/);
  });

  it('checks every redirect again: a redirect to a loopback or private address is refused', async () => {
    const before = asked.length;
    const toLoopback = await refusal(`http://mirror.test:${port}/to-loopback`, allowed());
    expect(toLoopback.code).toBe('FETCH_REFUSED_ADDRESS');
    expect(toLoopback.message).toBe(
      `redirected to http://127.0.0.1:${port}/secret: 127.0.0.1 is a loopback address: not fetched unless an admin allows the host`,
    );
    expect(toLoopback.location.file).toBe(`http://mirror.test:${port}/to-loopback`);
    const toName = await refusal(`http://mirror.test:${port}/to-internal-name`, allowed());
    expect(toName.code).toBe('FETCH_REFUSED_ADDRESS');
    expect(toName.message).toMatch(
      /wiki\.internal\.test resolves to 10\.20\.0\.5, a private address \(RFC 1918\)/,
    );
    const toMapped = await refusal(`http://mirror.test:${port}/to-mapped`, allowed());
    expect(toMapped.message).toMatch(/a loopback address \(IPv4-mapped 127\.0\.0\.1\)/);
    const toFile = await refusal(`http://mirror.test:${port}/to-file`, allowed());
    expect(toFile.code).toBe('FETCH_BAD_URL');
    expect(toFile.message).toMatch(/redirected to file:\/\/\/etc\/passwd: only http and https/);
    expect(asked.slice(before)).toEqual(['/to-loopback', '/to-internal-name', '/to-mapped', '/to-file']);
  });

  it('lets through the hosts an admin allows, by name, domain or network, and follows them', async () => {
    const fetched = await safeFetch(`http://mirror.test:${port}/advisory`, allowed());
    expect(fetched.bytes.toString()).toBe('<html><body>advisory</body></html>');
    expect(fetched.contentType).toBe('text/html; charset=utf-8');
    const redirected = await safeFetch(
      `http://MIRROR.test.:${port}/to-allowed`,
      allowed({ allowHosts: ['mirror.test', '*.corp.test'] }),
    );
    expect(redirected.url).toBe(`http://cdn.corp.test:${port}/advisory`);
    // The domain itself is not under it.
    const apex = await refusal(`http://corp.test:${port}/advisory`, {
      resolve: resolverOf({ 'corp.test': ['127.0.0.1'] }),
      allowHosts: ['*.corp.test'],
    });
    expect(apex.code).toBe('FETCH_REFUSED_ADDRESS');
    const byNetwork = await safeFetch(`http://127.0.0.1:${port}/advisory`, { allowHosts: ['127.0.0.0/8'] });
    expect(byNetwork.bytes.length).toBeGreaterThan(0);
    // A redirect target needs its own entry.
    const onward = await refusal(
      `http://cdn.corp.test:${port}/to-loopback`,
      allowed({ allowHosts: ['*.corp.test'] }),
    );
    expect(onward.code).toBe('FETCH_REFUSED_ADDRESS');
  });

  it('sends the headers asked to the origin asked only: a redirect elsewhere goes without them', async () => {
    const headers = { Accept: 'application/taxii+json;version=2.1', Authorization: 'Bearer t0ken' };
    const options = allowed({ allowHosts: ['mirror.test', '*.corp.test'], headers });
    const direct = JSON.parse(
      (await safeFetch(`http://mirror.test:${port}/to-same-origin`, options)).bytes.toString(),
    );
    expect(direct).toEqual({ accept: 'application/taxii+json;version=2.1', authorization: 'Bearer t0ken' });
    const moved = JSON.parse(
      (await safeFetch(`http://mirror.test:${port}/to-other-origin`, options)).bytes.toString(),
    );
    expect(moved).toEqual({ accept: '*/*', authorization: null });
  });

  it('connects to the address it checked: the name is resolved once, never by the system', async () => {
    const calls: string[] = [];
    // `.test` names do not exist: had the connection resolved the name itself, it would have failed.
    const fetched = await safeFetch(`http://mirror.test:${port}/advisory`, {
      resolve: resolverOf(names, calls),
      allowHosts: ['mirror.test'],
    });
    expect(fetched.bytes.length).toBeGreaterThan(0);
    expect(calls).toEqual(['mirror.test']);
  });

  it("never reaches a cloud metadata service's address, whatever is allowed", async () => {
    for (const options of [
      { allowHosts: ['metadata.test', '169.254.0.0/16'] },
      { allowPrivate: true },
    ] as FetchOptions[]) {
      const error = await refusal('http://metadata.test/latest/meta-data/', {
        resolve: resolverOf(names),
        ...options,
      });
      expect(error.code).toBe('FETCH_REFUSED_ADDRESS');
      expect(error.message).toMatch(/169\.254\.169\.254, a cloud metadata service's address: never fetched/);
    }
  });

  it('reaches any other address when private ones are allowed (a mirror the user named)', async () => {
    const fetched = await safeFetch(`http://127.0.0.1:${port}/advisory`, { allowPrivate: true });
    expect(fetched.bytes.toString()).toContain('advisory');
  });

  it('stops past the size limit, whether the size is announced, absent or hidden by compression', async () => {
    const announced = await refusal(
      `http://mirror.test:${port}/announced-large`,
      allowed({ maxBytes: 1000 }),
    );
    expect(announced.code).toBe('FETCH_TOO_LARGE');
    expect(announced.message).toBe('the answer says it is 5000 bytes, more than the 1000 bytes allowed');
    const endless = await refusal(`http://mirror.test:${port}/endless`, allowed({ maxBytes: 1024 ** 2 }));
    expect(endless.code).toBe('FETCH_TOO_LARGE');
    const bomb = await refusal(`http://mirror.test:${port}/bomb`, allowed({ maxBytes: 1024 ** 2 }));
    expect(bomb.code).toBe('FETCH_TOO_LARGE');
    expect(bomb.message).toBe('the body decompresses to more than the 1048576 bytes allowed');
    expect(endless.message).toBe('the body is more than the 1048576 bytes allowed');
    const gzipped = await safeFetch(`http://mirror.test:${port}/gzipped`, allowed({ maxBytes: 1000 }));
    expect(gzipped.bytes.toString()).toBe('a compressed advisory');
  });

  it('gives up on a server too slow in all, or silent for too long', async () => {
    const trickle = await refusal(
      `http://mirror.test:${port}/trickle`,
      allowed({ timeoutMs: 300, idleTimeoutMs: 10_000 }),
    );
    expect(trickle.code).toBe('FETCH_TIMEOUT');
    expect(trickle.message).toBe('not done within 0.3 s in all');
    const silent = await refusal(
      `http://mirror.test:${port}/silent`,
      allowed({ timeoutMs: 10_000, idleTimeoutMs: 200 }),
    );
    expect(silent.code).toBe('FETCH_TIMEOUT');
    expect(silent.message).toBe('nothing received for 0.2 s');
    // A name that never resolves is bound by the same clock.
    const stuck = await refusal('http://stuck.test/', {
      resolve: () => new Promise(() => {}),
      timeoutMs: 10_000,
      idleTimeoutMs: 200,
    });
    expect(stuck.code).toBe('FETCH_TIMEOUT');
  });

  it('follows at most the redirects allowed', async () => {
    const fetched = await refusal(`http://mirror.test:${port}/loop/0`, allowed({ maxRedirects: 3 }));
    expect(fetched.code).toBe('FETCH_REDIRECTS');
    expect(fetched.message).toBe(`redirected to http://mirror.test:${port}/loop/3: more than 3 redirects`);
    const within = await safeFetch(`http://mirror.test:${port}/to-allowed`, {
      ...allowed({ allowHosts: ['mirror.test', 'cdn.corp.test'] }),
      maxRedirects: 1,
    });
    expect(within.bytes.length).toBeGreaterThan(0);
    const none = await refusal(`http://mirror.test:${port}/to-allowed`, allowed({ maxRedirects: 0 }));
    expect(none.code).toBe('FETCH_REDIRECTS');
  });

  it('says what went wrong otherwise, with a stable code', async () => {
    const cases: [string, FetchOptions, string, RegExp][] = [
      [`http://mirror.test:${port}/missing`, allowed(), 'FETCH_HTTP', /^answered HTTP 404 Not Found$/],
      ['file:///etc/passwd', {}, 'FETCH_BAD_URL', /only http and https are fetched, not file:/],
      ['https://user:pw@example.com/', {}, 'FETCH_BAD_URL', /user name or password/],
      ['not a url', {}, 'FETCH_BAD_URL', /^not a URL$/],
      ['http://nowhere.test/', allowed(), 'FETCH_DNS', /cannot resolve nowhere\.test: .*ENOTFOUND/],
      ['http://mirror.test:1/', allowed(), 'FETCH_CONNECT', /cannot connect: .*ECONNREFUSED/],
      ['http://x.test/', { allowHosts: ['http://x.test/'] }, 'FETCH_ALLOW_INVALID', /not a host name/],
    ];
    for (const [url, options, code, message] of cases) {
      const error = await refusal(url, options);
      expect([url, error.code]).toEqual([url, code]);
      expect(error.message).toMatch(message);
    }
  });

  it('stops when the caller cancels', async () => {
    const controller = new AbortController();
    const pending = refusal(`http://mirror.test:${port}/silent`, allowed({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect((await pending).code).toBe('FETCH_ABORTED');
  });
});

describe('the address policy', () => {
  it('refuses every address that is not global unicast, IPv6 forms of IPv4 ones included', () => {
    const refused = [
      '127.0.0.1',
      '127.255.0.9',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '100.127.255.254',
      '169.254.1.1',
      '0.0.0.0',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '240.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fe80::1%eth0',
      'fc00::1',
      'fd12:3456::1',
      'ff02::1',
      'fec0::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      '::127.0.0.1',
      '64:ff9b::7f00:1',
      '2002:c0a8:101::1',
    ];
    for (const address of refused) expect(addressRefusal(address), address).toBeDefined();
    const reached = [
      '8.8.8.8',
      '172.32.0.1',
      '100.128.0.1',
      '93.184.215.14',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
    ];
    for (const address of reached) expect(addressRefusal(address), address).toBeUndefined();
  });

  it('names the metadata services as never allowed', () => {
    for (const address of ['169.254.169.254', '::ffff:169.254.169.254', 'fd00:ec2::254', '100.100.100.200'])
      expect(addressRefusal(address), address).toMatchObject({ always: true });
    expect(addressRefusal('169.254.1.1')).toMatchObject({ always: false, reason: 'a link-local address' });
  });

  it('takes host names, *.domains, addresses and networks as allowed hosts, nothing else', () => {
    for (const entry of [
      'intel.corp.example',
      '*.corp.example',
      '10.0.0.0/8',
      'fd12::/48',
      '[::1]',
      'bücher.example',
    ])
      expect(allowEntryProblem(entry), entry).toBeUndefined();
    for (const entry of ['', 'http://intel.corp', 'intel.corp:8443', '10.0.0.0/33', '*', 'a b', 'x/y'])
      expect(allowEntryProblem(entry), entry).toBeDefined();
  });
});
