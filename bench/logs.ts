/**
 * Text log readers against the JSON reader, on the same records: each sample of
 * datasets/logs-beyond-windows is repeated into a file of about `--mb` MiB, read by its text reader
 * (format told by content, as `vigil hunt` reads it), then the same records are written as JSONL
 * (one object per line) and read by the JSON reader. Both on this thread, fastest of five passes
 * after a warm-up, the two readers taking turns; records per second, and the text reader's speed over the JSON one.
 *
 * A record is a line, and for every format but auditd an event. An auditd event joins the lines
 * of one serial: its JSON is one object per audit record (line), as auditbeat and Zircolite
 * write them, and both sides count records.
 *
 * Formats with no public sample (Exchange message tracking, Get-MessageTrace CSV) are read from
 * the hand-made files of test/fixtures/logs. A second table times JSON documents the reader adds
 * names to (Auditbeat's auditd documents, eslogger's ESF events) against the same documents with
 * the key that tells them apart renamed, so that no names are added.
 *
 *   npm run bench:logs [-- --mb 16]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHelp, locateContent } from '../src/content/index.js';
import { detectFormat, readEvents, sniffFormat } from '../src/logs/index.js';
import { readAuditHeader, readAuditRecord } from '../src/logs/text/auditd.js';
import { argNumber, count } from './common.js';

const MB = argNumber('mb', 16);

const SAMPLES = [
  'linux-auditd/otrf_T1018_arp_cache_discovery.audit.log',
  'linux-auth/elastic-examples_ec2_auth.log',
  'web-apache-elastic-examples/apache_combined_access.log',
  'web-attack-evtx-samples/iis_tunna_rdp_tunnel_webshell.w3c.log',
  'zeek-stratosphere-simda/dns.log',
  'proxy-squid-fail2ban/squid_access.log',
  'email-fail2ban/exim_mainlog.log',
];

const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures', 'logs');

/** Text formats with no public sample: hand-made files from the products' documented formats. */
const FIXTURE_SAMPLES = ['MSGTRK2024050110-1.LOG', 'message-trace.csv'];

/** JSON documents given names by the reader, and the key whose renaming stops that. */
const NAMED_JSON: [string, string][] = [
  ['auditbeat.ndjson', '"auditd":'],
  ['eslogger.ndjson', '"event_type":'],
];

function samplesDir(): string {
  const content = locateContent();
  const dir = content && join(content.dir, '..', 'datasets', 'logs-beyond-windows');
  if (!dir || !existsSync(dir)) {
    console.error(contentHelp());
    console.error('The benchmark reads datasets/logs-beyond-windows beside the content folder.');
    process.exit(2);
  }
  return dir;
}

/**
 * The sample's records repeated to about `bytes`, its header lines (Zeek, W3C, message tracking;
 * a CSV's first line) written once.
 */
function grown(sample: string, bytes: number): string {
  const text = readFileSync(sample, 'utf8');
  const lines = text.split(/\r?\n/);
  const header = lines.filter((line) => line.startsWith('#') && !line.startsWith('#close'));
  const records = lines.filter((line) => line.trim() !== '' && !line.startsWith('#'));
  if (sniffFormat(Buffer.from(text)) === 'csv') header.push(records.shift()!);
  const body = records.join('\n');
  const copies = Math.max(1, Math.ceil(bytes / (body.length + 1)));
  return `${[...header, ...Array.from({ length: copies }, () => body)].join('\n')}\n`;
}

interface Read {
  events: number;
  records: number;
  seconds: number;
}

async function readOnce(file: string): Promise<Read> {
  const started = performance.now();
  let events = 0;
  let records = 0;
  for await (const event of readEvents(file, { onError: () => {} })) {
    events++;
    records += typeof event.raw === 'string' ? event.raw.split('\n').length : 1;
  }
  return { events, records, seconds: (performance.now() - started) / 1000 };
}

/**
 * Both files read in turns (so that load from elsewhere on the machine falls on both alike), a
 * warm-up pass and then PASSES timed ones; the fastest of each counts.
 */
async function timeBoth(text: string, json: string): Promise<[Read, Read]> {
  let best: [Read, Read] | undefined;
  for (let pass = 0; pass <= PASSES; pass++) {
    const a = await readOnce(text);
    const b = await readOnce(json);
    if (pass === 0) continue;
    best = best
      ? [a.seconds < best[0].seconds ? a : best[0], b.seconds < best[1].seconds ? b : best[1]]
      : [a, b];
  }
  return best!;
}

const PASSES = 5;

/** The JSON the JSON reader gets: each event's fields, or for auditd each record's. */
async function asJsonLines(file: string, format: string | undefined): Promise<string> {
  const lines: string[] = [];
  if (format === 'auditd') {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const header = readAuditHeader(line);
      const fields: string[] = [];
      if (!header || !readAuditRecord(header.type, line, header.end, fields)) continue;
      const record: Record<string, string> = { type: header.type, msg: header.id };
      for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
      lines.push(JSON.stringify(record));
    }
  } else {
    for await (const event of readEvents(file)) lines.push(JSON.stringify(event.fields));
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const dir = samplesDir();
  const work = await mkdtemp(join(tmpdir(), 'vigil-bench-logs-'));
  console.log(
    `Text readers vs the JSON reader on the same records (~${MB} MiB of text per format, fastest of 5)\n`,
  );
  const rows: string[][] = [
    ['format', 'sample', 'records', 'events', 'text rec/s', 'JSON rec/s', 'text/JSON'],
  ];
  const named: string[][] = [['documents', 'records', 'named rec/s', 'plain rec/s', 'named/plain']];
  try {
    const samples = [
      ...SAMPLES.map((name) => join(dir, name)),
      ...FIXTURE_SAMPLES.map((name) => join(FIXTURES, name)),
    ];
    for (const sample of samples) {
      const name = sample.split('/').slice(-2).join('/');
      const text = join(work, name.replace('/', '_'));
      writeFileSync(text, grown(sample, MB * 1024 * 1024));
      const format = await detectFormat(text);
      const jsonl = `${text}.jsonl`;
      writeFileSync(jsonl, await asJsonLines(text, format));
      const [fromText, fromJson] = await timeBoth(text, jsonl);
      if (fromText.records !== fromJson.records)
        throw new Error(`${name}: ${fromText.records} vs ${fromJson.records} records`);
      const textRate = fromText.records / fromText.seconds;
      const jsonRate = fromJson.records / fromJson.seconds;
      rows.push([
        format ?? '?',
        name.split('/')[1]!,
        count(fromText.records),
        count(fromText.events),
        count(textRate),
        count(jsonRate),
        `${(textRate / jsonRate).toFixed(2)}x`,
      ]);
    }
    for (const [name, key] of NAMED_JSON) {
      const documents = grown(join(FIXTURES, name), MB * 1024 * 1024);
      const withNames = join(work, name);
      const plain = join(work, `plain-${name}`);
      writeFileSync(withNames, documents);
      writeFileSync(plain, documents.replaceAll(key, `${key.slice(0, -3)}_":`));
      const [fromNamed, fromPlain] = await timeBoth(withNames, plain);
      const namedRate = fromNamed.records / fromNamed.seconds;
      const plainRate = fromPlain.records / fromPlain.seconds;
      named.push([
        name,
        count(fromNamed.records),
        count(namedRate),
        count(plainRate),
        `${(namedRate / plainRate).toFixed(2)}x`,
      ]);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  print(rows, 2);
  console.log('\nJSON documents given their source names, against the same documents left plain\n');
  print(named, 1);
}

function print(rows: string[][], textColumns: number): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows)
    console.log(
      `  ${row.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`,
    );
}

await main();
