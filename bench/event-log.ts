/**
 * Event log benchmark: the service's two event logs side by side, files in a folder against NATS
 * JetStream (the local server, nats://127.0.0.1:4222, or --bus URL), on the same records.
 *
 *   1. append: --events records of about 600 bytes in requests of --batch (what an HTTP ingest
 *      of that many lines asks), --concurrent requests at a time: records/s acknowledged;
 *   2. read: the whole log again in reads of 2,000 records (what detection asks): records/s;
 *   3. one record at a time (what a correlation asks for its events), 1,000 of them: reads/s.
 *
 *   npm run bench:eventlog [-- --events N] [-- --batch B] [-- --concurrent C] [-- --bus nats://HOST:PORT]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { EventLog, NewRecord } from '../src/service/event-log.js';
import { FileEventLog } from '../src/service/file-event-log.js';
import { JetStreamEventLog } from '../src/service/jetstream-event-log.js';
import { argNumber, argText, count, printRows } from './common.js';

const events = argNumber('events', 100_000);
const batch = argNumber('batch', 500);
const concurrent = argNumber('concurrent', 4);
const bus = argText('bus') ?? 'nats://127.0.0.1:4222';
const READ_BATCH = 2000;
const SINGLE_READS = 1000;

function record(i: number): NewRecord {
  const event = {
    EventID: 4688,
    Channel: 'Security',
    Computer: `host-${i % 97}.corp.example`,
    TimeCreated: new Date(1_700_000_000_000 + i * 10).toISOString(),
    NewProcessName: 'C:\\Windows\\System32\\cmd.exe',
    CommandLine: `cmd.exe /c whoami /all ${'x'.repeat(i % 200)} ${i}`,
    ParentProcessName: 'C:\\Windows\\explorer.exe',
    SubjectUserName: `user${i % 13}`,
    Padding: 'p'.repeat(250),
  };
  return { received: Date.now(), source: 'http', event: JSON.stringify(event) };
}

async function measure(name: string, log: EventLog): Promise<[string, string][]> {
  const requests = Array.from({ length: Math.ceil(events / batch) }, (_, r) =>
    Array.from({ length: Math.min(batch, events - r * batch) }, (_, i) => record(r * batch + i)),
  );
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrent }, async () => {
      while (next < requests.length) await log.append('bench', requests[next++]!);
    }),
  );
  const appendSeconds = (performance.now() - started) / 1000;

  const readStarted = performance.now();
  let read = 0;
  for (let from = 1; ; ) {
    const got = await log.read('bench', from, READ_BATCH);
    if (got.length === 0) break;
    read += got.length;
    from = got.at(-1)!.seq + 1;
  }
  const readSeconds = (performance.now() - readStarted) / 1000;
  if (read !== events) throw new Error(`${name}: read ${read} records of ${events}`);

  const singleStarted = performance.now();
  for (let i = 0; i < SINGLE_READS; i++) {
    const seq = 1 + Math.floor((i * 7919) % events);
    const [one] = await log.read('bench', seq, 1);
    if (one?.seq !== seq) throw new Error(`${name}: record ${seq} not found`);
  }
  const singleSeconds = (performance.now() - singleStarted) / 1000;
  return [
    [
      `${name} append`,
      `${count(events / appendSeconds)} records/s (${count(log.size('bench') / 1e6)} MB kept)`,
    ],
    [`${name} read`, `${count(read / readSeconds)} records/s in reads of ${READ_BATCH}`],
    [`${name} read one`, `${count(SINGLE_READS / singleSeconds)} reads/s`],
  ];
}

async function main(): Promise<void> {
  console.log(
    `Event log: ${count(events)} records of about 600 bytes, appended in requests of ${batch}, ${concurrent} at a time`,
  );
  const rows: [string, string][] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-eventlog-'));
  try {
    const files = new FileEventLog(dir);
    rows.push(...(await measure('files', files)));
    await files.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const prefix = `bench-${process.pid}`;
  const jetStream = await JetStreamEventLog.open({ url: bus, prefix });
  try {
    rows.push(...(await measure('JetStream', jetStream)));
  } finally {
    await jetStream.close();
    const nc = await connect({ servers: bus });
    await (await jetstreamManager(nc)).streams.delete(`${prefix}_bench`);
    await nc.close();
  }
  printRows(rows);
}

await main();
