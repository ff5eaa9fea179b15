/**
 * The load side of bench:serve and bench:cluster, run as its own process so that sending does not
 * share a thread with the service: posts NDJSON batches of a file's lines (over and over) to
 * /api/v1/events.
 *
 *   tsx bench/serve-load.ts URL[,URL...] TOKEN[,TOKEN...] FILE --events N [--rate EVENTS_PER_S] [--batch N] [--concurrency N]
 *
 * With several URLs (the nodes of a cluster) or tokens (tenants), each batch goes to the next URL
 * and the next token in turn. Without --rate it sends as fast as the services accept (429 answers
 * are waited out and retried); with it, at that rate. Prints one JSON line: events sent, when the
 * first request left (ms since the epoch, so that the caller times the service from there and not
 * from this process's start), seconds, rate, 429 answers and this process's own processor time.
 *
 * The bodies are encoded once, before the first request, and sent over kept-alive connections: the
 * senders this stands for run elsewhere, so what this process spends is taken from the service's
 * two cores and is kept as small as it can be.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { argNumber, argText } from './common.js';

const [urlList, tokenList, file] = process.argv.slice(2);
if (!urlList || !tokenList || !file) {
  console.error('usage: serve-load URL TOKEN FILE --events N [--rate R] [--batch N] [--concurrency N]');
  process.exit(2);
}
const urls = urlList.split(',').map((url) => new URL('/api/v1/events', url));
const tokens = tokenList.split(',');
const total = argNumber('events', 100_000);
const batchSize = argNumber('batch', 1000);
const rate = argText('rate') === undefined ? undefined : argNumber('rate', 0);
const concurrency = rate === undefined ? argNumber('concurrency', 4) : 1_000;

/** Batches of whole lines, as the bytes sent, each with where its lines end. */
interface Batch {
  body: Buffer;
  lineEnds: number[];
}

function batchesOf(text: Buffer): Batch[] {
  const batches: Batch[] = [];
  let start = 0;
  while (start < text.length) {
    const lineEnds: number[] = [];
    let at = start;
    while (lineEnds.length < batchSize && at < text.length) {
      const newline = text.indexOf(0x0a, at);
      const end = newline < 0 ? text.length : newline + 1;
      if (end - at > 1) lineEnds.push(end - start);
      at = end;
    }
    if (lineEnds.length) batches.push({ body: text.subarray(start, at), lineEnds });
    start = at;
  }
  return batches;
}

const batches = batchesOf(readFileSync(file));
const agent = new Agent({ keepAlive: true, maxSockets: Math.min(concurrency, 64) });

let next = 0;
let sent = 0;
let turn = 0;
let throttled = 0;
let firstRequestAt: number | undefined;
const cpuBefore = process.cpuUsage();
let started = 0;

function postOnce(url: URL, token: string, body: Buffer): Promise<{ status: number; retryAfter: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-ndjson',
          'content-length': body.length,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: Number(response.headers['retry-after'] ?? 1),
          }),
        );
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function post(body: Buffer): Promise<void> {
  const url = urls[turn % urls.length]!;
  const token = tokens[turn % tokens.length]!;
  turn++;
  for (;;) {
    firstRequestAt ??= performance.timeOrigin + performance.now();
    const { status, retryAfter } = await postOnce(url, token, body);
    if (status === 200) return;
    if (status !== 429) throw new Error(`the service answered ${status}`);
    throttled++;
    await new Promise((r) => setTimeout(r, 1000 * retryAfter));
  }
}

async function sender(): Promise<void> {
  while (sent < total) {
    const batch = batches[next++ % batches.length]!;
    const n = Math.min(batch.lineEnds.length, total - sent);
    sent += n;
    if (rate !== undefined) {
      // Paced: this batch leaves when the rate says the events before it have had their time.
      const due = started + ((sent - n) / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await post(n === batch.lineEnds.length ? batch.body : batch.body.subarray(0, batch.lineEnds[n - 1]));
  }
}

started = performance.now();
await Promise.all(Array.from({ length: concurrency }, sender));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
agent.destroy();
console.log(
  JSON.stringify({
    events: sent,
    firstRequestAt,
    seconds,
    rate: sent / seconds,
    throttled,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }),
);
