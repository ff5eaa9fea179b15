import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JetStreamEventLog } from '../../src/service/jetstream-event-log.js';
import {
  canStartNats,
  deleteStreams,
  hasNats,
  natsUrl,
  startNatsServer,
  stopNatsServer,
  testPrefix,
} from '../helpers/nats.js';
import { freePort } from '../helpers/system.js';

function records(n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => ({
    received: 1_700_000_000_000 + i,
    source: 'http',
    event: JSON.stringify({ tag, n: i }),
  }));
}

/** Waits until `check` holds (growth from another node arrives by message). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never came true: ${what}`);
}

describe.skipIf(!hasNats)('JetStreamEventLog', () => {
  let prefix: string;
  const open = (options: { readOnly?: boolean; refreshMs?: number } = {}) =>
    JetStreamEventLog.open({ url: natsUrl, prefix, ...options });
  beforeEach(() => {
    prefix = testPrefix();
  });
  afterEach(() => deleteStreams(prefix));

  it('keeps each tenant in a stream of its own under the prefix, with message ids against retried publishes', async () => {
    const log = await open();
    await log.append('acme-1', records(3, 'a'));
    await log.append('globex_2', records(1, 'g'));
    const nc = await connect({ servers: natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(`${prefix}_acme-1`);
      expect(info.config.subjects).toEqual([`${prefix}.events.acme-1`]);
      expect(info.config.duplicate_window).toBeGreaterThan(0);
      // No limit of JetStream's own: it would remove events detection has not seen.
      expect(info.config.max_age).toBe(0);
      expect(info.config.max_bytes).toBe(-1);
      expect(info.state.messages).toBe(3);
      const stored = await jsm.streams.getMessage(`${prefix}_acme-1`, { seq: 2 });
      expect(stored!.header.get('Nats-Msg-Id')).not.toBe('');
      expect(JSON.parse(stored!.string())).toEqual({ tag: 'a', n: 1 });
      expect((await jsm.streams.info(`${prefix}_globex_2`)).state.messages).toBe(1);
    } finally {
      await nc.close();
    }
    await log.close();
  });

  it('refuses a tenant name that is not one (it would be a subject wildcard) and a prefix that cannot be a token', async () => {
    const log = await open();
    for (const bad of ['a.b', '>', '*', 'Upper', ''])
      await expect(log.append(bad, records(1, 'x'))).rejects.toMatchObject({ code: 'BAD_TENANT_NAME' });
    expect(log.tenants()).toEqual([]);
    await log.close();
    for (const bad of ['a.b', 'a_b', 'x>', ''])
      await expect(JetStreamEventLog.open({ url: natsUrl, prefix: bad })).rejects.toMatchObject({
        code: 'BUS_PREFIX',
      });
  });

  it('two nodes appending to one tenant at once: every record stored once, both read one order', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const rounds = 20;
    const sent = await Promise.all(
      Array.from({ length: rounds }, (_, i) =>
        Promise.all([a.append('acme', records(25, `a${i}`)), b.append('acme', records(25, `b${i}`))]),
      ),
    );
    const positions = sent.flat(2);
    expect(new Set(positions).size).toBe(rounds * 50);
    await until(
      () => a.head('acme') === rounds * 50 && b.head('acme') === rounds * 50,
      'both heads at the end',
    );
    const readBy = async (log: JetStreamEventLog) => {
      const out = [];
      for (let from = 1; from <= log.head('acme'); ) {
        const got = await log.read('acme', from, 128);
        out.push(...got);
        from = got.at(-1)!.seq + 1;
      }
      return out;
    };
    const [fromA, fromB] = await Promise.all([readBy(a), readBy(b)]);
    expect(fromA.map((r) => r.seq)).toEqual(Array.from({ length: rounds * 50 }, (_, i) => i + 1));
    expect(fromB).toEqual(fromA);
    const events = fromA.map((r) => r.event);
    expect(new Set(events).size).toBe(rounds * 50);
    // Each node's records keep the order that node appended them in.
    for (const tag of ['a0', 'b7']) {
      const ns = fromA.map((r) => JSON.parse(r.event)).filter((e) => e.tag === tag);
      expect(ns.map((e) => e.n)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    }
    await Promise.all([a.close(), b.close()]);
  });

  // The server may answer the second of two simultaneous creations "subjects overlap" rather than
  // "name in use": either way the node goes on with the stream the other made. With 200 tenants the
  // second answer comes up in nearly every run.
  it('two nodes making the streams of the same new tenants at the same moment both use them', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const tenants = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const sent = await Promise.all(
      tenants.flatMap((tenant) => [a.append(tenant, records(2, 'a')), b.append(tenant, records(2, 'b'))]),
    );
    expect(sent.flat().length).toBe(tenants.length * 4);
    for (const tenant of tenants)
      expect((await a.read(tenant, 1, 10)).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a tenant whose subject another stream takes, naming both, instead of writing elsewhere', async () => {
    const nc = await connect({ servers: natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: `${prefix}_foreign`, subjects: [`${prefix}.events.acme`] });
    } finally {
      await nc.close();
    }
    const log = await open();
    const refused = log.append('acme', records(1, 'x'));
    await expect(refused).rejects.toMatchObject({ code: 'EVENT_LOG_CONFLICT' });
    await expect(refused).rejects.toThrow(`another stream on ${natsUrl} takes ${prefix}.events.acme`);
    await log.close();
  });

  it('a node learns of growth and of new tenants from the others, without asking', async () => {
    const reader = await open({ refreshMs: 3_600_000 });
    const heard: string[] = [];
    reader.onGrowth((tenant) => heard.push(tenant));
    const writer = await open();
    await writer.append('acme', records(4, 'w'));
    await until(() => reader.head('acme') === 4, 'the reader hears of the new tenant');
    expect(reader.tenants()).toEqual(['acme']);
    expect(heard).toContain('acme');
    await writer.append('acme', records(2, 'w'));
    await until(() => reader.head('acme') === 6, 'the reader hears of growth');
    expect((await reader.read('acme', 5, 10)).map((r) => r.seq)).toEqual([5, 6]);
    await Promise.all([reader.close(), writer.close()]);
  });

  it('tells the other nodes of the alerts one opens (their live queues), and not itself', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const heardByA: unknown[] = [];
    const heardByB: unknown[] = [];
    a.onAlertElsewhere((alert) => heardByA.push(alert));
    b.onAlertElsewhere((alert) => heardByB.push(alert));
    // A subscription reaches the server a moment after it is made: announce until it is heard.
    await until(() => {
      a.announceAlert({ tenant: 'acme', id: 7 });
      return heardByB.length > 0;
    }, 'the other node hears of the alert');
    await until(() => {
      b.announceAlert({ tenant: 'acme', id: 8 });
      return heardByA.length > 0;
    }, 'the first node hears of the second one’s alert');
    expect(new Set(heardByB.map((x) => JSON.stringify(x)))).toEqual(
      new Set([JSON.stringify({ tenant: 'acme', id: 7 })]),
    );
    expect(new Set(heardByA.map((x) => JSON.stringify(x)))).toEqual(
      new Set([JSON.stringify({ tenant: 'acme', id: 8 })]),
    );
    await Promise.all([a.close(), b.close()]);
  });

  it('a look at the streams catches growth whose announcement was missed', async () => {
    const writer = await open();
    await writer.append('acme', records(3, 'w'));
    const reader = await open({ refreshMs: 200 });
    // Appended straight to the stream: no announcement at all.
    const nc = await connect({ servers: natsUrl });
    const { jetstream } = await import('@nats-io/jetstream');
    const { headers } = await import('@nats-io/transport-node');
    const h = headers();
    h.set('Vigil-Received', '1');
    h.set('Vigil-Source', 'elsewhere');
    await jetstream(nc).publish(`${prefix}.events.acme`, '{"late":true}', { headers: h });
    await nc.close();
    await until(() => reader.head('acme') === 4, 'the periodic look finds record 4');
    expect((await reader.read('acme', 4, 1))[0]).toMatchObject({
      source: 'elsewhere',
      event: '{"late":true}',
    });
    await Promise.all([reader.close(), writer.close()]);
  });

  it('retention purges exactly up to keepFrom, and reads then start at the first record kept', async () => {
    const log = await open();
    await log.append('acme', records(300, 'r'));
    const result = await log.applyRetention('acme', { maxAgeMs: 0 }, 120, Date.now() + 1000);
    expect(result).toMatchObject({ removedEvents: 119, firstSeq: 120 });
    expect(log.tail('acme')).toBe(120);
    expect((await log.read('acme', 1, 3)).map((r) => r.seq)).toEqual([120, 121, 122]);
    expect(await log.read('acme', 50, 1)).toEqual([expect.objectContaining({ seq: 120 })]);
    // Young enough events stay whatever keepFrom allows.
    const none = await log.applyRetention('acme', { maxAgeMs: 3_600_000 }, 301);
    expect(none.removedEvents).toBe(0);
    const reader = await open({ readOnly: true });
    expect(reader.tail('acme')).toBe(120);
    await expect(reader.applyRetention('acme', { maxAgeMs: 0 }, 301)).rejects.toMatchObject({
      code: 'EVENT_LOG_READ_ONLY',
    });
    await expect(reader.append('acme', records(1, 'x'))).rejects.toMatchObject({
      code: 'EVENT_LOG_READ_ONLY',
    });
    await Promise.all([log.close(), reader.close()]);
  });

  it('a server that cannot be reached is an error naming its address', async () => {
    const port = await freePort();
    const error = await JetStreamEventLog.open({ url: `nats://127.0.0.1:${port}`, prefix }).catch((e) => e);
    expect(error).toMatchObject({ code: 'BUS_UNREACHABLE' });
    expect(error.message).toContain(`nats://127.0.0.1:${port}`);
  });

  describe.skipIf(!canStartNats)('with a server of its own, stopped and started again', () => {
    let store: string;
    beforeEach(() => {
      store = mkdtempSync(join(tmpdir(), 'vigil-nats-'));
    });
    afterEach(() => rmSync(store, { recursive: true, force: true }));

    it('refuses appends while the server is away, reconnects, and has lost nothing acknowledged', async () => {
      const port = await freePort();
      const url = `nats://127.0.0.1:${port}`;
      let server = await startNatsServer(port, store);
      const log = await JetStreamEventLog.open({ url, prefix, ackTimeoutMs: 1000 });
      try {
        await log.append('acme', records(10, 'before'));
        await stopNatsServer(server);
        await until(() => !log.connected, 'the log sees the server gone');
        const refused = await log.append('acme', records(1, 'away')).catch((e) => e);
        expect(refused).toMatchObject({ code: 'EVENT_LOG_UNAVAILABLE' });
        expect(refused.message).toContain(url);
        server = await startNatsServer(port, store);
        let after: number[] | undefined;
        for (let i = 0; i < 100 && !after; i++) {
          after = await log.append('acme', records(2, 'after')).catch(() => undefined);
          if (!after) await new Promise((r) => setTimeout(r, 100));
        }
        expect(after).toEqual([11, 12]);
        const all = await log.read('acme', 1, 100);
        expect(all.map((r) => JSON.parse(r.event).tag)).toEqual([
          ...Array(10).fill('before'),
          'after',
          'after',
        ]);
      } finally {
        await log.close();
        await stopNatsServer(server);
      }
    }, 60_000);

    it('closes at once while the server is away (a service stopping during an outage)', async () => {
      const port = await freePort();
      const server = await startNatsServer(port, store);
      const log = await JetStreamEventLog.open({ url: `nats://127.0.0.1:${port}`, prefix });
      await log.append('acme', records(3, 'x'));
      await stopNatsServer(server);
      await until(() => !log.connected, 'the log sees the server gone');
      await log.close();
      expect(log.connected).toBe(false);
      await expect(log.append('acme', records(1, 'y'))).rejects.toMatchObject({
        code: 'EVENT_LOG_UNAVAILABLE',
      });
    }, 30_000);
  });
});
