/**
 * The load side of bench:serve and bench:cluster, run as its own process so that sending does not
 * share a thread with the service: posts NDJSON batches of a file's lines (over and over) to
 * /api/v1/events.
 *
 *   tsx bench/serve-load.ts URL[,URL...] TOKEN[,TOKEN...] FILE --events N [--rate EVENTS_PER_S] [--batch N] [--concurrency N]
 *
 * With several URLs (the nodes of a cluster) or tokens (tenants), each batch goes to the next URL
 * and the next token in turn. Without --rate it sends as fast as the services accept (429 answers
 * are waited out and retried); with it, at that rate. Prints one JSON line: events sent, seconds,
 * rate, 429 answers.
 */
import { readFileSync } from 'node:fs';
import { argNumber, argText } from './common.js';

const [urlList, tokenList, file] = process.argv.slice(2);
if (!urlList || !tokenList || !file) {
  console.error('usage: serve-load URL TOKEN FILE --events N [--rate R] [--batch N] [--concurrency N]');
  process.exit(2);
}
const urls = urlList.split(',');
const tokens = tokenList.split(',');
const total = argNumber('events', 100_000);
const batchSize = argNumber('batch', 1000);
const rate = argText('rate') === undefined ? undefined : argNumber('rate', 0);
const concurrency = rate === undefined ? argNumber('concurrency', 4) : 1_000;

const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
const bodies: string[] = [];
for (let i = 0; i < lines.length; i += batchSize)
  bodies.push(`${lines.slice(i, i + batchSize).join('\n')}\n`);
const sizes = bodies.map((body) => body.split('\n').length - 1);

let next = 0;
let sent = 0;
let turn = 0;
let throttled = 0;
const started = performance.now();

async function post(body: string): Promise<void> {
  const url = urls[turn % urls.length]!;
  const token = tokens[turn % tokens.length]!;
  turn++;
  for (;;) {
    const response = await fetch(`${url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    await response.arrayBuffer();
    if (response.status === 200) return;
    if (response.status !== 429) throw new Error(`the service answered ${response.status}`);
    throttled++;
    await new Promise((r) => setTimeout(r, 1000 * Number(response.headers.get('retry-after') ?? 1)));
  }
}

async function sender(): Promise<void> {
  while (sent < total) {
    const index = next++ % bodies.length;
    const n = Math.min(sizes[index]!, total - sent);
    sent += n;
    if (rate !== undefined) {
      // Paced: this batch leaves when the rate says the events before it have had their time.
      const due = started + ((sent - n) / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await post(
      n === sizes[index] ? bodies[index]! : `${bodies[index]!.split('\n').slice(0, n).join('\n')}\n`,
    );
  }
}

await Promise.all(Array.from({ length: concurrency }, sender));
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ events: sent, seconds, rate: sent / seconds, throttled }));
