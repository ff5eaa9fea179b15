import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VigilError } from '../../src/core/index.js';
import { loadServiceConfig } from '../../src/service/index.js';
import { vigil } from '../helpers/cli.js';
import { canStartNats, startNatsServer, stopNatsServer } from '../helpers/nats.js';
import { api, provision, startService } from '../helpers/serve.js';
import { freePort } from '../helpers/system.js';

const RULE = `title: Evil action
id: 5b0e1f7e-0000-4000-8000-00000000b005
status: test
logsource: { product: lab }
detection:
  selection: { action: evil }
  condition: selection
level: high
`;

function events(host: string, n: number): string {
  const start = Date.parse('2026-01-01T10:00:00Z');
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      host,
      action: i % 2 ? 'evil' : 'fine',
      n: i,
      time: new Date(start + i * 1000).toISOString(),
    }),
  ).join('\n');
}

describe('the bus in config.yml and on the command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-bus-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const load = (text: string) => {
    writeFileSync(join(dir, 'config.yml'), text);
    return loadServiceConfig(dir);
  };
  const refusal = (text: string) => {
    try {
      load(text);
    } catch (error) {
      expect(error).toBeInstanceOf(VigilError);
      return error as VigilError;
    }
    throw new Error('accepted');
  };

  it('takes an address alone or with a prefix and replicas; files stay the default', () => {
    expect(load('threads: 1\n').bus).toBeUndefined();
    expect(load('bus: nats://10.0.0.5:4222\n').bus).toEqual({
      url: 'nats://10.0.0.5:4222',
      prefix: 'vigil',
      replicas: 1,
    });
    expect(load('bus: { url: "nats://[::1]:4222", prefix: mssp-eu, replicas: 3 }\n').bus).toEqual({
      url: 'nats://[::1]:4222',
      prefix: 'mssp-eu',
      replicas: 3,
    });
  });

  it('refuses a bus it cannot use, naming the file, line and key', () => {
    expect(refusal('threads: 1\nbus:\n  url: http://10.0.0.5:4222\n')).toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'nats://HOST:PORT',
      location: { file: join(dir, 'config.yml'), field: 'bus.url', line: 3 },
    });
    expect(refusal('bus: { url: "nats://h:4222", prefix: a.b }\n')).toMatchObject({
      location: { field: 'bus.prefix', line: 1 },
    });
    expect(refusal('bus: { url: "nats://h:4222", replicas: 0 }\n')).toMatchObject({
      location: { field: 'bus.replicas' },
    });
  });

  it('vigil serve says which bus it cannot reach, without a stack trace', async () => {
    const port = await freePort();
    const data = join(dir, 'unreachable');
    mkdirSync(data);
    const run = vigil([
      'serve',
      '--data',
      data,
      '--listen',
      '127.0.0.1:0',
      '--rules',
      dir,
      '--bus',
      `nats://127.0.0.1:${port}`,
    ]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`cannot reach the event bus at nats://127.0.0.1:${port}`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const bad = vigil(['serve', '--data', data, '--bus', 'localhost:4222']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("--bus must be nats://HOST:PORT, not 'localhost:4222'");
    const hunt = vigil(['hunt', '--bus', 'nats://127.0.0.1:4222', '--rules', dir]);
    expect(hunt.stderr).toContain('--bus reads the events of a vigil serve data folder: give --data too');
  });
});

describe.skipIf(!canStartNats)('vigil serve --bus while the bus goes away and comes back', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-bus-serve-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers 503 while events cannot be stored, never acknowledges them, and carries on after', async () => {
    const rules = join(dir, 'rules');
    mkdirSync(rules);
    writeFileSync(join(rules, 'evil.yml'), RULE);
    const data = join(dir, 'data');
    const tokens = await provision(data, 'acme', ['ingest', 'viewer']);
    const port = await freePort();
    const store = join(dir, 'nats');
    let nats = await startNatsServer(port, store);
    const service = await startService(data, ['--rules', rules, '--bus', `nats://127.0.0.1:${port}`]);
    try {
      let acknowledged = 0;
      const send = async (host: string) => {
        const answer = await api(
          service,
          tokens.ingest,
          'POST',
          '/api/v1/events',
          events(host, 20),
          'application/x-ndjson',
        );
        if (answer.status === 200) acknowledged += 20;
        return answer;
      };
      expect((await send('before')).status).toBe(200);
      await stopNatsServer(nats);
      let refused: Awaited<ReturnType<typeof send>> | undefined;
      for (let i = 0; i < 50 && refused?.status !== 503; i++) {
        refused = await send('away');
        // Answered 200 only while the client had not yet seen the server go: then it was stored.
        if (refused.status === 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(refused!.status).toBe(503);
      expect(refused!.headers.get('retry-after')).toBe('5');
      expect(refused!.body.error.code).toBe('EVENT_LOG_UNAVAILABLE');
      expect(refused!.body.error.message).toContain(`nats://127.0.0.1:${port}`);
      nats = await startNatsServer(port, store);
      let after = await send('after');
      for (let i = 0; i < 100 && after.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await send('after');
      }
      expect(after.status).toBe(200);
      let stats = (await api(service, tokens.viewer, 'GET', '/api/v1/stats')).body;
      for (
        let i = 0;
        i < 100 && (stats.processed !== stats.accepted || stats.detections < stats.accepted / 2);
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
        stats = (await api(service, tokens.viewer, 'GET', '/api/v1/stats')).body;
      }
      // Every acknowledged event is in the log, and detection went through all of them. (A batch
      // refused while its publish was already on its way may be stored too: at least once.)
      expect(stats.accepted).toBeGreaterThanOrEqual(acknowledged);
      expect(stats.processed).toBe(stats.accepted);
      expect(stats.detections).toBe(stats.accepted / 2);
    } finally {
      service.process.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      await stopNatsServer(nats);
    }
  }, 120_000);
});
