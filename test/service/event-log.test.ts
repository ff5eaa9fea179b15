import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EventLog, parseRecordLine } from '../../src/service/event-log.js';
import { FileEventLog } from '../../src/service/file-event-log.js';
import { JetStreamEventLog } from '../../src/service/jetstream-event-log.js';
import { storedEventUnits } from '../../src/service/stored-units.js';
import { deleteStreams, hasNats, natsUrl, testPrefix } from '../helpers/nats.js';

function records(n: number, from = 0) {
  return Array.from({ length: n }, (_, i) => ({
    received: 1_700_000_000_000 + from + i,
    source: 'http',
    event: JSON.stringify({ n: from + i, text: `é ${'x'.repeat((from + i) % 50)}` }),
  }));
}

/** Every record from position 1 on, read `batch` at a time. */
async function readAll(log: EventLog, tenant: string, batch = 1000) {
  const all = [];
  for (let from = 1; ; ) {
    const got = await log.read(tenant, from, batch);
    if (got.length === 0) return all;
    all.push(...got);
    from = got.at(-1)!.seq + 1;
  }
}

/** One implementation of the event log, opened (and opened again) over the same storage by each test. */
interface Implementation {
  name: string;
  available: boolean;
  setUp(): void;
  /** Opens the log of this test (again, after a close: the same data). */
  open(options?: { segmentBytes?: number }): Promise<EventLog>;
  tearDown(): Promise<void>;
}

function files(): Implementation {
  let dir = '';
  return {
    name: 'FileEventLog',
    available: true,
    setUp: () => {
      dir = mkdtempSync(join(tmpdir(), 'vigil-eventlog-'));
    },
    open: async (options) => new FileEventLog(dir, options),
    tearDown: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function jetStream(): Implementation {
  let prefix = '';
  return {
    name: 'JetStreamEventLog',
    available: hasNats,
    setUp: () => {
      prefix = testPrefix();
    },
    open: () => JetStreamEventLog.open({ url: natsUrl, prefix }),
    tearDown: () => deleteStreams(prefix),
  };
}

/** What every event log does, whatever keeps it. */
describe.each([files(), jetStream()])('$name (the EventLog contract)', (impl) => {
  beforeEach(() => impl.setUp());
  afterEach(() => impl.tearDown());

  it.skipIf(!impl.available)(
    'gives each record of a tenant a position of its own, in the order given, and reads them back in position order',
    async () => {
      const log = await impl.open();
      const [a, b, c] = await Promise.all([
        log.append('acme', records(3)),
        log.append('acme', records(2, 3)),
        log.append('globex', records(1)),
      ]);
      for (const positions of [a!, b!]) expect(positions).toEqual([...positions].sort((x, y) => x - y));
      const acme = [...a!, ...b!].sort((x, y) => x - y);
      expect(new Set(acme).size).toBe(5);
      expect(c).toEqual([1]);
      expect(log.head('acme')).toBe(acme.at(-1));
      expect(log.tail('acme')).toBe(1);
      expect(log.tenants().sort()).toEqual(['acme', 'globex']);
      const read = await log.read('acme', 1, 10);
      expect(read.map((r) => r.seq)).toEqual(acme);
      expect(read.map((r) => JSON.parse(r.event).n).sort()).toEqual([0, 1, 2, 3, 4]);
      expect(read[0]).toMatchObject({ source: 'http' });
      expect(read.every((r) => r.received >= 1_700_000_000_000)).toBe(true);
      expect(await log.read('acme', log.head('acme') + 1, 10)).toEqual([]);
      expect(await log.read('nobody', 1, 10)).toEqual([]);
      expect(log.head('nobody')).toBe(0);
      expect(await log.append('acme', [])).toEqual([]);
      await log.close();
    },
  );

  it.skipIf(!impl.available)(
    'keeps the time and source given beside an event, and the event exactly as sent',
    async () => {
      const log = await impl.open();
      const event = '{"msg":"naïve \\"quoted\\" \\u2028 text","nested":{"a":[1,2.5,null]}}';
      // A watched file's name may hold anything a file name can, a line break included.
      const source = 'watch:/var/log/odd\nname é.jsonl';
      const [at] = await log.append('acme', [{ received: 5, source, event, time: 1_234_567 }]);
      const [record] = await log.read('acme', at!, 1);
      expect(record).toEqual({ seq: at, received: 5, source, event, time: 1_234_567 });
      await log.close();
    },
  );

  it.skipIf(!impl.available)(
    'finds its records again when opened anew, and numbers on from there',
    async () => {
      const first = await impl.open();
      await first.append('acme', records(5));
      await first.close();
      const again = await impl.open();
      expect(again.tenants()).toEqual(['acme']);
      expect(again.head('acme')).toBe(5);
      expect(await again.append('acme', records(1, 5))).toEqual([6]);
      expect((await readAll(again, 'acme')).map((r) => JSON.parse(r.event).n)).toEqual([0, 1, 2, 3, 4, 5]);
      await again.close();
    },
  );

  it.skipIf(!impl.available)(
    'reads in batches from any position, across whatever the log is made of',
    async () => {
      const log = await impl.open({ segmentBytes: 2000 });
      for (let i = 0; i < 20; i++) await log.append('acme', records(10, i * 10));
      const all = await readAll(log, 'acme', 33);
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(all.map((r) => JSON.parse(r.event).n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      // Out of order, as a page of the console reads around an alert's event.
      expect((await log.read('acme', 150, 3)).map((r) => r.seq)).toEqual([150, 151, 152]);
      expect((await log.read('acme', 7, 1)).map((r) => r.seq)).toEqual([7]);
      expect((await log.read('acme', 40, 2)).map((r) => r.seq)).toEqual([40, 41]);
      await log.close();
    },
  );

  it.skipIf(!impl.available)('tells of growth as appends complete, until told to stop', async () => {
    const log = await impl.open();
    const heard: string[] = [];
    const stop = log.onGrowth((tenant) => heard.push(tenant));
    await log.append('acme', records(2));
    await log.append('globex', records(1));
    expect(heard).toEqual(['acme', 'globex']);
    stop();
    await log.append('acme', records(1, 2));
    expect(heard).toEqual(['acme', 'globex']);
    await log.close();
  });

  it.skipIf(!impl.available)(
    'retention removes the oldest events as the policy asks, never any at or after keepFrom',
    async () => {
      const log = await impl.open({ segmentBytes: 2000 });
      for (let i = 0; i < 20; i++) await log.append('acme', records(10, i * 10));
      await log.close();
      const again = await impl.open({ segmentBytes: 2000 });
      const size = again.size('acme');
      expect(size).toBeGreaterThan(0);
      // Nothing processed yet: nothing may go, however small the limit.
      const none = await again.applyRetention('acme', { maxBytes: 1 }, 1);
      expect(none.removedEvents).toBe(0);
      expect(again.tail('acme')).toBe(1);
      const some = await again.applyRetention('acme', { maxBytes: size / 2 }, 201);
      expect(some.removedEvents).toBeGreaterThan(0);
      expect(some.removedBytes).toBeGreaterThan(0);
      expect(again.size('acme')).toBeLessThanOrEqual(size / 2 + 2000);
      expect(again.tail('acme')).toBe(some.firstSeq);
      const rest = await again.read('acme', 1, 1000);
      expect(rest[0]!.seq).toBe(some.firstSeq);
      expect(rest.at(-1)!.seq).toBe(200);
      // Everything is old by now, but events from 150 on are not processed yet.
      const later = Date.now() + 1000;
      await again.applyRetention('acme', { maxAgeMs: 0 }, 150, later);
      // Files go by whole segments: the one holding 150 stays whole.
      expect(again.tail('acme')).toBeGreaterThanOrEqual(some.firstSeq);
      expect(again.tail('acme')).toBeLessThanOrEqual(150);
      expect((await again.read('acme', 150, 1))[0]!.seq).toBe(150);
      expect((await again.read('acme', 1, 1000)).at(-1)!.seq).toBe(200);
      expect(again.head('acme')).toBe(200);
      await again.close();
    },
  );

  it.skipIf(!impl.available)(
    "gives a tenant's stored events as hunting units, all of them or only the newest (a backtest's bound)",
    async () => {
      const log = await impl.open();
      await log.append('acme', records(4500));
      const seqs = async (newest?: number) => {
        const found: number[] = [];
        for await (const unit of storedEventUnits(log, 'acme', undefined, newest)) {
          if (unit.kind !== 'json') throw new Error('stored events are JSON units');
          found.push(...unit.records.map((r) => r.number));
        }
        return found;
      };
      const all = await seqs();
      expect(all.length).toBe(4500);
      expect(all[0]).toBe(1);
      const newest = await seqs(10);
      expect(newest).toEqual([4491, 4492, 4493, 4494, 4495, 4496, 4497, 4498, 4499, 4500]);
      expect((await seqs(10_000)).length).toBe(4500);
      await log.close();
    },
  );
});

describe('FileEventLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-eventlog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers appends without gaps, in the order they were asked', async () => {
    const log = new FileEventLog(dir);
    const [a, b] = await Promise.all([log.append('acme', records(3)), log.append('acme', records(2, 3))]);
    expect([a, b]).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    await log.close();
  });

  it('keeps what it acknowledged across a restart and cuts off a torn last line', async () => {
    const first = new FileEventLog(dir);
    await first.append('acme', records(5));
    await first.close();
    // A crash in the middle of the next write leaves half a line.
    const [segment] = readdirSync(join(dir, 'acme'));
    appendFileSync(join(dir, 'acme', segment!), '{"seq":6,"at":1,"src":"http","event":{"n"');
    const again = new FileEventLog(dir);
    expect(again.head('acme')).toBe(5);
    expect(await again.append('acme', records(1, 5))).toEqual([6]);
    expect((await again.read('acme', 1, 100)).map((r) => JSON.parse(r.event).n)).toEqual([0, 1, 2, 3, 4, 5]);
    await again.close();
  });

  it('reads any run of records, as records or as kept lines, from memory and from the files (sealed and compressed, or plain)', async () => {
    const expectRuns = async (log: FileEventLog) => {
      for (const from of [1, 2, 255, 256, 257, 300, 333, 512, 700, 999, 1000, 1001]) {
        for (const max of [1, 7, 300]) {
          const got = await log.read('acme', from, max);
          const expected = Array.from({ length: Math.min(max, 1002 - from) }, (_, i) => from + i);
          expect(got.map((r) => r.seq)).toEqual(expected);
          expect(got.map((r) => JSON.parse(r.event).n)).toEqual(expected.map((seq) => seq - 1));
          const kept = await log.readLines('acme', from, max);
          expect(kept).toMatchObject({ count: expected.length, last: expected.at(-1) });
          expect(
            Buffer.from(kept.lines)
              .toString('utf8')
              .split('\n')
              .map((line) => parseRecordLine(line)),
          ).toEqual(got);
        }
      }
      expect(await log.read('acme', 1002, 10)).toEqual([]);
      expect((await log.readLines('acme', 1002, 10)).count).toBe(0);
    };
    const log = new FileEventLog(dir, { segmentBytes: 40_000 });
    for (let i = 0; i < 10; i++) await log.append('acme', records(100, i * 100));
    // One more, so that the last segment is one still plain.
    await log.append('acme', records(1, 1000));
    await expectRuns(log);
    await log.close();
    const files = readdirSync(join(dir, 'acme'));
    expect(files.filter((f) => f.endsWith('.jsonl.gz')).length).toBeGreaterThanOrEqual(2);
    expect(files.filter((f) => f.endsWith('.jsonl')).length).toBe(1);
    // Opened again, so nothing is read from memory.
    const again = new FileEventLog(dir, { segmentBytes: 40_000 });
    await expectRuns(again);
    await again.close();
  });

  it('reads back from the file an event longer than what it reads at once', async () => {
    const log = new FileEventLog(dir);
    const long = JSON.stringify({ n: 1, text: 'é'.repeat(1_500_000) });
    await log.append('acme', [...records(2), { received: 1, source: 'http', event: long }, ...records(2, 3)]);
    await log.close();
    const again = new FileEventLog(dir);
    expect((await again.read('acme', 2, 10)).map((r) => r.event.length)).toEqual([
      records(2)[1]!.event.length,
      long.length,
      ...records(2, 3).map((r) => r.event.length),
    ]);
    expect((await again.read('acme', 3, 1))[0]!.event).toBe(long);
    await again.close();
  });

  it('seals and compresses full segments, and retention removes whole ones', async () => {
    const log = new FileEventLog(dir, { segmentBytes: 2000 });
    for (let i = 0; i < 20; i++) await log.append('acme', records(10, i * 10));
    await log.close();
    const files = readdirSync(join(dir, 'acme'));
    expect(files.filter((f) => f.endsWith('.jsonl.gz')).length).toBeGreaterThan(3);
    expect(files.filter((f) => f.endsWith('.jsonl')).length).toBeLessThanOrEqual(1);
    const again = new FileEventLog(dir, { segmentBytes: 2000 });
    const removed = await again.applyRetention('acme', { maxAgeMs: 0 }, 201, Date.now() + 1000);
    // The segment being written stays, whatever its age.
    expect(removed.removedEvents).toBe(removed.firstSeq - 1);
    expect(removed.removedEvents).toBeGreaterThan(0);
    expect(removed.firstSeq).toBeLessThanOrEqual(200);
    expect(readdirSync(join(dir, 'acme')).length).toBeLessThan(files.length);
    expect((await again.read('acme', 1, 1))[0]!.seq).toBe(removed.firstSeq);
    await again.close();
  });
});
