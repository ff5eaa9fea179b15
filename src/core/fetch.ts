import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { addressRefusal, HostAllowList } from './address-policy.js';
import { VigilError } from './errors.js';

/**
 * The one way Vigil downloads: bounded in size, time and redirects, and kept off the network it
 * runs in. The name is resolved here, every address it resolves to is checked, and the connection
 * goes to the checked addresses (the socket's lookup is pinned to them), so a DNS answer that
 * changes between the check and the connection cannot slip through; every redirect is checked
 * again the same way.
 */

export interface FetchLimits {
  /** Bytes of body accepted, counted after decompression; past it the download stops. */
  maxBytes: number;
  /** Time for the whole download, redirects included. */
  timeoutMs: number;
  /** Time allowed without progress: resolving, connecting, the headers, each piece of the body. */
  idleTimeoutMs: number;
  /** Redirects followed; one more is an error. */
  maxRedirects: number;
}

/** Enough for any advisory (a long PDF report is a few megabytes), and no more. */
export const DEFAULT_FETCH_LIMITS: Readonly<FetchLimits> = {
  maxBytes: 64 * 1024 ** 2,
  timeoutMs: 120_000,
  idleTimeoutMs: 30_000,
  maxRedirects: 5,
};

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (by default the system's resolver, as `dns.lookup`). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface FetchOptions extends Partial<FetchLimits> {
  /**
   * Hosts an admin lets through although they resolve to refused addresses: names, `*.domain`,
   * addresses and networks (see HostAllowList). A redirect's target needs its own entry.
   */
  allowHosts?: readonly string[];
  /**
   * Any address but a cloud metadata service's: for a source the user named explicitly as local
   * (a content mirror), never for a URL that arrives from outside.
   */
  allowPrivate?: boolean;
  resolve?: Resolver;
  /** Stops the download (a client that went away). */
  signal?: AbortSignal;
  /** Bytes received so far as sent (compressed or not) and the size announced (0 when not). */
  onProgress?: (received: number, total: number) => void;
  /**
   * Request headers besides Vigil's own (an API's `accept` and `authorization`). They go to the
   * origin asked for only: a redirect to another origin is followed without them, so credentials
   * never leave for a host the user did not name.
   */
  headers?: Readonly<Record<string, string>>;
}

export interface Fetched {
  bytes: Buffer;
  /** The address the body came from, after redirects. */
  url: string;
  contentType: string;
}

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const HEADERS: OutgoingHttpHeaders = {
  'user-agent': 'Vigil',
  accept: '*/*',
  'accept-encoding': 'gzip, deflate, br',
};

/**
 * Downloads a URL (http or https) into memory. Fails with a VigilError whose location is the URL
 * asked for: FETCH_BAD_URL, FETCH_REFUSED_ADDRESS, FETCH_DNS, FETCH_CONNECT, FETCH_HTTP,
 * FETCH_REDIRECTS, FETCH_TOO_LARGE, FETCH_TIMEOUT, FETCH_ENCODING, FETCH_ABORTED or
 * FETCH_ALLOW_INVALID.
 */
export async function safeFetch(url: string, options: FetchOptions = {}): Promise<Fetched> {
  const limits = limitsOf(options);
  const allow = new HostAllowList(options.allowHosts ?? []);
  const resolve = options.resolve ?? systemResolver;
  const budget = new Budget(url, limits, options.signal);
  const fail = (code: string, message: string, cause?: unknown) =>
    new VigilError(code, message, { file: url }, { cause });
  try {
    let target = httpTarget(url, fail);
    const origin = target.origin;
    const asked = Object.fromEntries(
      Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    );
    for (let redirects = 0; ; redirects++) {
      const hop = redirects === 0 ? '' : `redirected to ${target.href}: `;
      const addresses = await budget.race(
        checkedAddresses(target, { allow, resolve, allowPrivate: options.allowPrivate }, hop, fail),
      );
      budget.touch();
      let response: IncomingMessage;
      try {
        const headers = target.origin === origin ? { ...HEADERS, ...asked } : HEADERS;
        response = await budget.race(send(target, addresses, headers, budget.signal));
      } catch (error) {
        throw budget.failure ?? fail('FETCH_CONNECT', `${hop}cannot connect: ${reasonOf(error)}`, error);
      }
      budget.touch();
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status) && response.headers.location) {
        response.destroy();
        if (redirects >= limits.maxRedirects)
          throw fail('FETCH_REDIRECTS', `${hop}more than ${limits.maxRedirects} redirects`);
        target = httpTarget(response.headers.location, fail, target);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw fail('FETCH_HTTP', `${hop}answered HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd());
      }
      const bytes = await readBody(response, limits, budget, options.onProgress, hop, fail);
      return { bytes, url: target.href, contentType: String(response.headers['content-type'] ?? '') };
    }
  } catch (error) {
    throw budget.failure ?? error;
  } finally {
    budget.stop();
  }
}

type Fail = (code: string, message: string, cause?: unknown) => VigilError;

function limitsOf(options: FetchOptions): FetchLimits {
  const limits = { ...DEFAULT_FETCH_LIMITS };
  for (const key of Object.keys(limits) as (keyof FetchLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

/** The URL (relative to the one redirecting to it) when it is http or https without credentials. */
function httpTarget(text: string, fail: Fail, base?: URL): URL {
  let target: URL;
  try {
    target = new URL(text, base);
  } catch {
    throw fail('FETCH_BAD_URL', base ? `redirected to '${text}', which is not a URL` : 'not a URL');
  }
  const where = base ? `redirected to ${target.href}: ` : '';
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw fail('FETCH_BAD_URL', `${where}only http and https are fetched, not ${target.protocol}`);
  if (target.username || target.password)
    throw fail('FETCH_BAD_URL', `${where}a URL with a user name or password is not fetched`);
  return target;
}

/**
 * The addresses of the URL's host, each one checked: one refused address refuses the host, as
 * the connection could go to any of them.
 */
async function checkedAddresses(
  target: URL,
  policy: { allow: HostAllowList; resolve: Resolver; allowPrivate?: boolean },
  hop: string,
  fail: Fail,
): Promise<ResolvedAddress[]> {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const literal = literalFamily(host);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: host, family: literal }];
  else {
    try {
      addresses = await policy.resolve(host);
    } catch (error) {
      throw fail('FETCH_DNS', `${hop}cannot resolve ${host}: ${reasonOf(error)}`, error);
    }
    if (addresses.length === 0) throw fail('FETCH_DNS', `${hop}${host} has no address`);
  }
  const hostAllowed = policy.allowPrivate || policy.allow.allowsHost(host);
  for (const { address } of addresses) {
    const refusal = addressRefusal(address);
    if (!refusal) continue;
    if (!refusal.always && (hostAllowed || policy.allow.allowsAddress(address))) continue;
    const what = literal
      ? `${address} is ${refusal.reason}`
      : `${host} resolves to ${address}, ${refusal.reason}`;
    throw fail(
      'FETCH_REFUSED_ADDRESS',
      `${hop}${what}: ${refusal.always ? 'never fetched' : 'not fetched unless an admin allows the host'}`,
    );
  }
  return addresses;
}

function literalFamily(host: string): 4 | 6 | undefined {
  if (/^[\d.]+$/.test(host)) return 4;
  return host.includes(':') ? 6 : undefined;
}

/** One GET whose connection may only go to the addresses given. */
function send(
  target: URL,
  addresses: ResolvedAddress[],
  headers: OutgoingHttpHeaders,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const pinned: LookupFunction = (_hostname, options, callback) => {
    const usable = addresses.filter((a) => !options.family || a.family === options.family);
    if (usable.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`no IPv${options.family} address checked`);
      error.code = 'ENOTFOUND';
      callback(error, '', 0);
    } else if (options.all) callback(null, usable);
    else callback(null, usable[0]!.address, usable[0]!.family);
  };
  const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
    method: 'GET',
    headers,
    agent: false,
    lookup: pinned,
    signal,
  });
  return new Promise((resolve, reject) => {
    // Errors after the answer arrived belong to the body, read elsewhere; this listener keeps them
    // from being unhandled.
    request.on('error', reject);
    request.once('response', resolve);
    request.end();
  });
}

function readBody(
  response: IncomingMessage,
  limits: FetchLimits,
  budget: Budget,
  onProgress: FetchOptions['onProgress'],
  hop: string,
  fail: Fail,
): Promise<Buffer> {
  const total = Number(response.headers['content-length'] ?? 0) || 0;
  const tooLarge = (what: string) =>
    fail('FETCH_TOO_LARGE', `${hop}${what} more than the ${limits.maxBytes} bytes allowed`);
  // A compressed body as large as the limit would not be smaller once decompressed.
  if (total > limits.maxBytes) {
    response.destroy();
    return Promise.reject(tooLarge(`the answer says it is ${total} bytes,`));
  }
  let decoder: Transform | undefined;
  const encoding = String(response.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
  else if (encoding === 'deflate') decoder = createInflate();
  else if (encoding === 'br') decoder = createBrotliDecompress();
  else if (encoding !== 'identity' && encoding !== '') {
    response.destroy();
    return Promise.reject(
      fail('FETCH_ENCODING', `${hop}the body is encoded as '${encoding}', not gzip, deflate or br`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let received = 0;
    let settled = false;
    const stop = (error: unknown) => {
      if (settled) return;
      settled = true;
      budget.signal.removeEventListener('abort', onAbort);
      response.destroy();
      decoder?.destroy();
      reject(budget.failure ?? error);
    };
    const onAbort = () => stop(budget.failure);
    budget.signal.addEventListener('abort', onAbort, { once: true });
    const take = (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limits.maxBytes) stop(tooLarge(decoder ? 'the body decompresses to' : 'the body is'));
      else chunks.push(chunk);
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      budget.signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks, size));
    };
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      budget.touch();
      onProgress?.(received, total);
      if (decoder) decoder.write(chunk);
      else take(chunk);
    });
    response.on('error', (error) =>
      stop(fail('FETCH_CONNECT', `${hop}the connection broke before the end: ${reasonOf(error)}`, error)),
    );
    response.on('end', () => {
      if (!response.complete) stop(fail('FETCH_CONNECT', `${hop}the connection closed before the end`));
      else if (decoder) decoder.end();
      else finish();
    });
    if (decoder) {
      decoder.on('data', take);
      decoder.on('end', finish);
      decoder.on('error', (error) =>
        stop(
          fail('FETCH_ENCODING', `${hop}cannot decompress the ${encoding} body: ${reasonOf(error)}`, error),
        ),
      );
    }
  });
}

/**
 * The time a download may take, in all and without progress, and the caller's signal: whichever
 * runs out first aborts the download, and its error is the one reported.
 */
class Budget {
  private readonly controller = new AbortController();
  private readonly total: NodeJS.Timeout;
  private idle?: NodeJS.Timeout;
  private stopped = false;
  failure?: VigilError;

  constructor(
    private readonly url: string,
    private readonly limits: FetchLimits,
    private readonly outer?: AbortSignal,
  ) {
    this.total = setTimeout(
      () => this.end('FETCH_TIMEOUT', `not done within ${seconds(limits.timeoutMs)} in all`),
      limits.timeoutMs,
    );
    this.touch();
    if (outer?.aborted) this.onOuterAbort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Progress: the idle time starts again. */
  touch(): void {
    if (this.stopped) return;
    clearTimeout(this.idle);
    this.idle = setTimeout(
      () => this.end('FETCH_TIMEOUT', `nothing received for ${seconds(this.limits.idleTimeoutMs)}`),
      this.limits.idleTimeoutMs,
    );
  }

  /** Settles as the promise does, or fails as soon as the budget ends (a lookup cannot be cancelled). */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.failure);
      this.signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          this.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          this.signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.total);
    clearTimeout(this.idle);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  private readonly onOuterAbort = () => this.end('FETCH_ABORTED', 'the download was cancelled');

  private end(code: string, message: string): void {
    if (this.failure) return;
    this.failure = new VigilError(code, message, { file: this.url });
    this.stop();
    this.controller.abort(this.failure);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function reasonOf(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (message && code && !message.includes(code)) return `${message} (${code})`;
  return message ?? code ?? String(error);
}
