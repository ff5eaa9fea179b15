import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const RULES = `title: Failed logon
id: 0d7c5b7a-0000-4000-8000-0000000f4625
status: test
logsource: { product: windows, service: security }
detection:
  selection: { EventID: 4625 }
  condition: selection
level: low
---
title: Many failed logons for one account
id: 0d7c5b7a-0000-4000-8000-0000000b7f00
status: test
correlation:
  type: event_count
  rules: [0d7c5b7a-0000-4000-8000-0000000f4625]
  group-by: [TargetUserName]
  timespan: 10m
  condition: { gte: 5 }
generate: true
level: high
tags: [attack.credential-access, attack.t1110.001]
`;

function failedLogon(user: string, minute: number, record: number): string {
  return JSON.stringify({
    Event: {
      System: {
        Provider: { '#attributes': { Name: 'Microsoft-Windows-Security-Auditing' } },
        EventID: 4625,
        EventRecordID: record,
        Channel: 'Security',
        Computer: 'dc1.example.org',
        TimeCreated: {
          '#attributes': {
            SystemTime: new Date(Date.parse('2026-03-01T08:00:00Z') + minute * 60_000).toISOString(),
          },
        },
      },
      EventData: { TargetUserName: user, IpAddress: '203.0.113.7', LogonType: 3 },
    },
  });
}

async function until<T>(
  what: () => Promise<T | undefined>,
  log: () => string,
  timeoutMs = 30_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    let found: T | undefined;
    try {
      found = await what();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${log()}`);
    }
    if (found !== undefined) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`gave up waiting\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('vigil serve: correlations on a live stream', () => {
  let dir: string;
  let data: string;
  let tokens: Record<string, string>;
  let service: RunningService;
  const env = () => ({ VIGIL_HOME: join(dir, 'home') });
  const start = () => startService(data, ['--rules', join(dir, 'rules')], env());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-serve-corr-'));
    data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'brute-force.yml'), RULES);
    tokens = await provision(data, 'acme', ['ingest', 'viewer']);
    mkdirSync(data, { recursive: true });
    // A short lateness, so that a quiet stream lets windows go on within the test.
    writeFileSync(join(data, 'config.yml'), 'lateness: 2s\n');
  });
  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a window that spans a crash and a restart still fires, once', async () => {
    service = await start();
    const send = (lines: string[]) =>
      api(service, tokens.ingest, 'POST', '/api/v1/events', `${lines.join('\n')}\n`, 'application/x-ndjson');
    expect((await send([0, 1, 2].map((m) => failedLogon('alice', m, 100 + m)))).body.accepted).toBe(3);
    // Bob fails four times (at the newest time the stream has seen, so none is late): one short of the
    // threshold, and his group must not be confused with alice's.
    expect((await send([2, 2, 2, 2].map((m, i) => failedLogon('bob', m, 200 + i)))).body.accepted).toBe(4);
    let last = '';
    await until(
      async () => {
        const stats = await api(service, tokens.viewer, 'GET', '/api/v1/stats');
        last = JSON.stringify(stats.body);
        return stats.body.processed === 7 && stats.body.detections === 7 ? true : undefined;
      },
      () => `${last}\n${service.log()}`,
    );
    // Give the state a moment to be saved, then die without warning.
    await new Promise((r) => setTimeout(r, 1500));
    service.process.kill('SIGKILL');
    await service.exited;

    service = await start();
    await send([3, 4].map((m) => failedLogon('alice', m, 100 + m)));
    const alert = await until(async () => {
      const list = await api(
        service,
        tokens.viewer,
        'GET',
        '/api/v1/alerts?rule=Many%20failed%20logons%20for%20one%20account',
      );
      return list.body.alerts[0];
    }, service.log);
    expect(alert).toMatchObject({
      rule: { level: 'high' },
      host: 'dc1.example.org',
      count: 1,
      techniques: ['T1110.001'],
    });
    const detail = await api(service, tokens.viewer, 'GET', `/api/v1/alerts/${alert.id}`);
    const [correlation] = detail.body.detections;
    expect(correlation.correlation).toMatchObject({
      type: 'event_count',
      group: { TargetUserName: 'alice' },
      value: 5,
    });
    expect(correlation.events).toHaveLength(5);
    expect(
      correlation.events.map(
        (e: { Event: { System: { EventRecordID: number } } }) => e.Event.System.EventRecordID,
      ),
    ).toEqual([100, 101, 102, 103, 104]);
    // Nothing for bob, and no second alert for alice once things are quiet.
    await new Promise((r) => setTimeout(r, 3000));
    const all = await api(service, tokens.viewer, 'GET', '/api/v1/alerts?level=high');
    expect(all.body.alerts).toHaveLength(1);
  }, 120_000);

  it('events later than the lateness are detected but not correlated', async () => {
    const send = (lines: string[]) =>
      api(service, tokens.ingest, 'POST', '/api/v1/events', `${lines.join('\n')}\n`, 'application/x-ndjson');
    // Carol's five failures within ten minutes: four on time, then, once the quiet stream has moved
    // on past them, one from before: with it the count would reach five.
    await send([100, 101, 102, 103].map((m) => failedLogon('carol', m, 300 + m)));
    await new Promise((r) => setTimeout(r, 3500));
    await send([failedLogon('carol', 99, 399)]);
    await until(async () => {
      const stats = await api(service, tokens.viewer, 'GET', '/api/v1/stats');
      return stats.body.processed === stats.body.accepted ? true : undefined;
    }, service.log);
    await new Promise((r) => setTimeout(r, 3000));
    const detections = await api(
      service,
      tokens.viewer,
      'GET',
      '/api/v1/detections?rule=Failed%20logon&limit=100',
    );
    expect(detections.body.detections.filter((d: { record: number }) => d.record === 399)).toHaveLength(1);
    const alerts = await api(service, tokens.viewer, 'GET', '/api/v1/alerts?level=high');
    expect(alerts.body.alerts).toHaveLength(1);
    const metrics = (await api(service, tokens.viewer, 'GET', '/metrics')).body as string;
    expect(metrics).toContain('vigil_correlation_late_total{tenant="acme"} 1');
  }, 120_000);
});
