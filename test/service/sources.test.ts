import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentPath, hasContent } from '../helpers/content.js';
import { api, provision, startService } from '../helpers/serve.js';

/**
 * Events posted to `vigil serve` are recognized as `vigil hunt` recognizes them: the Zeek RDP rule
 * fires on a Zeek rdp record, not on Suricata or CloudTrail records, and Cisco keyword rules never
 * see CloudTrail.
 */
describe.skipIf(!hasContent)('vigil serve recognizes the sources of posted events', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-serve-sources-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs each rule only on the events of its product', async () => {
    const samples = contentPath('..', 'datasets', 'logs-beyond-windows');
    const lines = (file: string, count: number) =>
      readFileSync(join(samples, file), 'utf8').split('\n').filter(Boolean).slice(0, count);
    const suricata = lines('suricata-ait-lds/eve.json', 400);
    const cloudtrail = lines('aws-cloudtrail-invictus-stratus/cloudtrail.ndjson', 2900).filter((line) =>
      line.includes('"eventName":"StopLogging"'),
    );
    // A Zeek rdp record (Zeek's rdp.log fields) of a connection from a public address.
    const rdp = JSON.stringify({
      _path: 'rdp',
      ts: 1711000000.5,
      uid: 'CZk3Dx1mXyuBnEqJ2',
      'id.orig_h': '198.51.100.23',
      'id.orig_p': 51234,
      'id.resp_h': '10.1.2.3',
      'id.resp_p': 3389,
      cookie: 'administrator',
      result: 'encrypted',
      security_protocol: 'HYBRID',
    });
    const data = join(dir, 'data');
    const tokens = await provision(data, 'acme', ['ingest', 'viewer']);
    const rules = ['network/zeek', 'cloud/aws', 'network/cisco'].map((folder) =>
      contentPath('sigma', 'rules', folder),
    );
    const service = await startService(data, ['--rules', ...rules], { VIGIL_HOME: join(dir, 'home') });
    try {
      const body = `${[...suricata, ...cloudtrail, rdp].join('\n')}\n`;
      const sent = await api(service, tokens.ingest, 'POST', '/api/v1/events', body, 'application/x-ndjson');
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
      const total = suricata.length + cloudtrail.length + 1;
      for (let i = 0; i < 600; i++) {
        const stats = await api(service, tokens.viewer, 'GET', '/api/v1/stats');
        if (stats.body.processed === total) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const page = await api(service, tokens.viewer, 'GET', '/api/v1/detections?limit=1000');
      const titles = (page.body.detections as { rule: { title: string } }[]).map((d) => d.rule.title).sort();
      expect(titles).toEqual([
        ...cloudtrail.map(() => 'AWS CloudTrail Important Change'),
        'Publicly Accessible RDP Service',
      ]);
    } finally {
      service.process.kill('SIGTERM');
      await service.exited;
    }
  }, 120_000);
});
