import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileEventLog } from '../../src/service/file-event-log.js';
import { storedEventUnits } from '../../src/service/stored-units.js';

function records(n: number, from = 0) {
  return Array.from({ length: n }, (_, i) => ({
    received: 1_700_000_000_000 + from + i,
    source: 'http',
    event: JSON.stringify({ n: from + i, text: `é ${'x'.repeat((from + i) % 50)}` }),
  }));
}

describe('FileEventLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-eventlog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('numbers appends per tenant without gaps, in the order they were asked, and reads them back', async () => {
    const log = new FileEventLog(dir);
    const [a, b, c] = await Promise.all([
      log.append('acme', records(3)),
      log.append('acme', records(2, 3)),
      log.append('globex', records(1)),
    ]);
    expect([a, b, c]).toEqual([
      { first: 1, last: 3 },
      { first: 4, last: 5 },
      { first: 1, last: 1 },
    ]);
    const read = await log.read('acme', 2, 10);
    expect(read.map((r) => r.seq)).toEqual([2, 3, 4, 5]);
    expect(JSON.parse(read[3]!.event)).toEqual({ n: 4, text: `é ${'x'.repeat(4)}` });
    expect(await log.read('acme', 6, 10)).toEqual([]);
    expect(await log.read('nobody', 1, 10)).toEqual([]);
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
    expect(await again.append('acme', records(1, 5))).toEqual({ first: 6, last: 6 });
    expect((await again.read('acme', 1, 100)).map((r) => JSON.parse(r.event).n)).toEqual([0, 1, 2, 3, 4, 5]);
    await again.close();
  });

  it('seals and compresses full segments, reads across them, and keeps numbering after a restart', async () => {
    const log = new FileEventLog(dir, { segmentBytes: 2000 });
    for (let i = 0; i < 20; i++) await log.append('acme', records(10, i * 10));
    await log.close();
    const files = readdirSync(join(dir, 'acme'));
    expect(files.filter((f) => f.endsWith('.jsonl.gz')).length).toBeGreaterThan(3);
    expect(files.filter((f) => f.endsWith('.jsonl')).length).toBeLessThanOrEqual(1);
    const again = new FileEventLog(dir, { segmentBytes: 2000 });
    expect(again.head('acme')).toBe(200);
    const all = [];
    for (let from = 1; from <= 200; ) {
      const batch = await again.read('acme', from, 33);
      all.push(...batch);
      from = batch.at(-1)!.seq + 1;
    }
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(all.map((r) => JSON.parse(r.event).n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await again.close();
  });

  it('retention removes the oldest sealed segments, never events not yet processed', async () => {
    const log = new FileEventLog(dir, { segmentBytes: 2000 });
    for (let i = 0; i < 20; i++) await log.append('acme', records(10, i * 10));
    await log.close();
    const again = new FileEventLog(dir, { segmentBytes: 2000 });
    const size = again.size('acme');
    const none = await again.applyRetention('acme', { maxBytes: 1 }, 1);
    expect(none.removedSegments).toBe(0);
    const some = await again.applyRetention('acme', { maxBytes: size / 2 }, 201);
    expect(some.removedSegments).toBeGreaterThan(0);
    expect(again.size('acme')).toBeLessThanOrEqual(size / 2 + 2000);
    expect(again.tail('acme')).toBe(some.firstSeq);
    const rest = await again.read('acme', 1, 1000);
    expect(rest[0]!.seq).toBe(some.firstSeq);
    expect(rest.at(-1)!.seq).toBe(200);
    const aged = await again.applyRetention('acme', { maxAgeMs: 0 }, 201, Date.now() + 1000);
    expect(again.tail('acme')).toBe(aged.firstSeq);
    expect((await again.read('acme', 1, 1000)).at(-1)!.seq).toBe(200);
    await again.close();
  });

  it("gives a tenant's stored events as hunting units, all of them or only the newest (a backtest's bound)", async () => {
    const log = new FileEventLog(dir);
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
  });
});
