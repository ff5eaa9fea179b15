import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const RULE = `title: Failed password for root
id: 7c1e0f55-0000-4000-8000-00000000ssh1
status: test
logsource: { product: linux, service: sshd }
detection:
  keywords: ['Failed password for root']
  condition: keywords
level: medium
tags: [attack.credential-access, attack.t1110]
`;

type Readable = Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0][number];

function otlpRecord(host: string, body: string): Readable {
  return {
    hrTime: [1_767_261_600, 0],
    hrTimeObserved: [1_767_261_601, 0],
    severityNumber: 9,
    severityText: 'INFO',
    body,
    attributes: {},
    droppedAttributesCount: 0,
    resource: { attributes: { 'host.name': host, 'service.name': 'sshd' } },
    instrumentationScope: { name: 'filelog' },
  } as unknown as Readable;
}

async function waitAlerts(service: RunningService, token: string, n: number) {
  for (let i = 0; i < 200; i++) {
    const list = await api(service, token, 'GET', '/api/v1/alerts');
    if (list.body.alerts.length >= n) return list.body.alerts as { host: string; count: number }[];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${n} alerts:\n${service.log()}`);
}

describe('vigil serve: syslog and OpenTelemetry inputs', () => {
  let dir: string;
  let service: RunningService;
  let tokens: Record<string, string>;
  let globex: Record<string, string>;
  let udpPort: number;
  let tcpPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-inputs-'));
    const data = join(dir, 'data');
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'ssh.yml'), RULE);
    tokens = await provision(data, 'acme', ['ingest', 'viewer']);
    globex = await provision(data, 'globex', ['viewer']);
    // TCP routes by source address: loopback is globex's; UDP goes to acme.
    writeFileSync(
      join(data, 'config.yml'),
      'syslog:\n  - { protocol: tcp, listen: "127.0.0.1:0", sources: [{ network: 127.0.0.0/8, tenant: globex }] }\nlimits: { body_bytes: 64KiB, line_bytes: 2KiB }\n',
    );
    service = await startService(
      data,
      ['--rules', join(dir, 'rules'), '--syslog-udp', '127.0.0.1:0', '--tenant', 'acme'],
      { VIGIL_HOME: join(dir, 'home') },
    );
    udpPort = Number(/syslog over UDP on 127\.0\.0\.1:(\d+)/.exec(service.log())![1]);
    tcpPort = Number(/syslog over TCP on 127\.0\.0\.1:(\d+)/.exec(service.log())![1]);
  }, 60_000);
  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads RFC 3164 over UDP and RFC 5424 over TCP (octet-counted and newline framing), each into its tenant', async () => {
    const udp = createSocket('udp4');
    for (const host of ['web1', 'web1', 'web2']) {
      const message = `<38>Jan  1 10:00:00 ${host} sshd[4242]: Failed password for root from 203.0.113.9 port 50022 ssh2`;
      await new Promise<void>((resolve, reject) =>
        udp.send(message, udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    }
    udp.close();
    const m5424 =
      '<38>1 2026-01-01T10:00:05.120+01:00 db1 sshd 977 - [origin ip="10.0.0.5"] Failed password for root from 203.0.113.9';
    const tcp = connect(tcpPort, '127.0.0.1');
    await new Promise<void>((resolve) => tcp.once('connect', () => resolve()));
    tcp.write(`${Buffer.byteLength(m5424)} ${m5424}`);
    tcp.write(`${m5424.replace('db1', 'db2')}\n`);
    await new Promise<void>((resolve) => tcp.end(() => resolve()));

    const acme = await waitAlerts(service, tokens.viewer!, 2);
    expect(acme.map((a) => [a.host, a.count]).sort()).toEqual([
      ['web1', 2],
      ['web2', 1],
    ]);
    const detections = await api(service, tokens.viewer, 'GET', '/api/v1/detections?limit=10');
    expect(detections.body.detections[0].event).toMatchObject({
      app: 'sshd',
      pid: 4242,
      facility_name: 'auth',
    });
    expect(detections.body.detections[0].time).toMatch(/-01-01T10:00:00\.000Z$/);
    const metrics = (await api(service, tokens.viewer, 'GET', '/metrics')).body as string;
    expect(metrics).toContain('vigil_events_accepted_total{tenant="acme",source="syslog-udp"} 3');
    // The TCP messages (one octet-counted, one newline-framed) went to globex, by their source address.
    const theirs = await waitAlerts(service, globex.viewer!, 2);
    expect(theirs.map((a) => a.host).sort()).toEqual(['db1', 'db2']);
    expect(JSON.stringify(acme)).not.toMatch(/db1|db2/);
  });

  it('takes OTLP/HTTP logs in protobuf (gzip or not) and JSON, and answers partial success for bad records', async () => {
    const records = [
      otlpRecord('app1', 'Failed password for root from 198.51.100.4'),
      otlpRecord('app1', 'session opened'),
    ];
    const protobuf = Buffer.from(ProtobufLogsSerializer.serializeRequest(records)!);
    const send = (body: Buffer | string, type: string, encoding?: string) =>
      fetch(`${service.url}/v1/logs`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens.ingest}`,
          'content-type': type,
          ...(encoding && { 'content-encoding': encoding }),
        },
        body,
      });
    const plain = await send(protobuf, 'application/x-protobuf');
    expect(plain.status).toBe(200);
    expect((await plain.arrayBuffer()).byteLength).toBe(0);
    expect((await send(gzipSync(protobuf), 'application/x-protobuf', 'gzip')).status).toBe(200);
    const json = Buffer.from(
      JsonLogsSerializer.serializeRequest([otlpRecord('app2', 'Failed password for root')])!,
    );
    const answer = await send(json, 'application/json');
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({});
    const partial = await send(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              {
                logRecords: [{ body: { stringValue: 'Failed password for root' } }, { timeUnixNano: 'soon' }],
              },
            ],
          },
        ],
      }),
      'application/json',
    );
    expect(await partial.json()).toMatchObject({ partialSuccess: { rejectedLogRecords: '1' } });
    expect((await send('x', 'text/plain')).status).toBe(415);
    expect((await send(Buffer.from('not gzip'), 'application/x-protobuf', 'gzip')).status).toBe(400);

    const alerts = await waitAlerts(service, tokens.viewer!, 4);
    expect(alerts.find((a) => a.host === 'app1')?.count).toBe(2);
    expect(alerts.find((a) => a.host === 'app2')?.count).toBe(1);
    const detections = await api(service, tokens.viewer, 'GET', '/api/v1/detections?limit=50');
    const app1 = detections.body.detections.find((d: { host: string }) => d.host === 'app1');
    expect(app1.time).toBe('2026-01-01T10:00:00.000Z');
    expect(app1.event).toMatchObject({
      message: 'Failed password for root from 198.51.100.4',
      'service.name': 'sshd',
    });
  });

  it('answers 413 with the limit for a body or a line over it, and writes none of it', async () => {
    const before = (await api(service, tokens.viewer, 'GET', '/api/v1/stats')).body.accepted;
    const line = JSON.stringify({ message: 'x'.repeat(3000) });
    const longLine = await api(
      service,
      tokens.ingest,
      'POST',
      '/api/v1/events',
      `{"a":1}\n${line}\n`,
      'application/x-ndjson',
    );
    expect(longLine.status).toBe(413);
    expect(longLine.body.error.message).toMatch(/line 2 is longer than the limit of 2048 bytes/);
    const big = Array.from({ length: 200 }, (_, i) => JSON.stringify({ n: i, pad: 'y'.repeat(400) })).join(
      '\n',
    );
    const body = await api(service, tokens.ingest, 'POST', '/api/v1/events', big, 'application/x-ndjson');
    expect(body.status).toBe(413);
    expect(body.body.error.message).toMatch(/larger than the limit of 65536 bytes/);
    expect((await api(service, tokens.viewer, 'GET', '/api/v1/stats')).body.accepted).toBe(before);
  });
});
