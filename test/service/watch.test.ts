import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const line = (n: number) => JSON.stringify({ host: 'web', action: 'evil', n, time: '2026-01-01T10:00:00Z' });

async function accepted(service: RunningService, token: string, want: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 150; i++) {
    last = (await api(service, token, 'GET', '/api/v1/stats')).body.accepted;
    if (last === want) {
      // Stays there: nothing read twice.
      await new Promise((r) => setTimeout(r, 2500));
      return (await api(service, token, 'GET', '/api/v1/stats')).body.accepted;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe.skipIf(!hasContent)('vigil serve --watch', () => {
  let dir: string;
  let data: string;
  let drop: string;
  let tokens: Record<string, string>;
  let service: RunningService | undefined;
  let evtxRecords: number;
  const start = () =>
    startService(data, ['--rules', join(dir, 'rules'), '--watch', drop, '--tenant', 'acme'], {
      VIGIL_HOME: join(dir, 'home'),
    });
  const stop = async () => {
    service!.process.kill('SIGTERM');
    expect(await service!.exited).toBe(0);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-watch-'));
    data = join(dir, 'data');
    drop = join(dir, 'drop');
    mkdirSync(join(drop, 'host1'), { recursive: true });
    mkdirSync(join(dir, 'rules'));
    writeFileSync(
      join(dir, 'rules', 'evil.yml'),
      'title: Evil\nstatus: test\nlogsource: { product: lab }\ndetection: { selection: { action: evil }, condition: selection }\nlevel: high\n',
    );
    tokens = await provision(data, 'acme', ['viewer']);
    const sample = join(
      contentPath(),
      '..',
      'datasets',
      'evtx-attack-samples',
      'Execution',
      'exec_sysmon_1_lolbin_pcalua.evtx',
    );
    copyFileSync(sample, join(drop, 'host1', 'sysmon.evtx'));
    const dumped = vigil(['dump', sample]);
    evtxRecords = dumped.stdout.split('\n').filter(Boolean).length;
    // Three whole lines and one still being written.
    writeFileSync(join(drop, 'app.jsonl'), `${line(1)}\n${line(2)}\n${line(3)}\n${line(4).slice(0, 20)}`);
  });
  afterAll(async () => {
    if (service && service.process.exitCode === null) service.process.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes whole lines and EVTX records once, goes on as files grow, and keeps its place across restarts and crashes', async () => {
    service = await start();
    expect(await accepted(service, tokens.viewer!, 3 + evtxRecords)).toBe(3 + evtxRecords);
    appendFileSync(join(drop, 'app.jsonl'), `${line(4).slice(20)}\n${line(5)}\n`);
    expect(await accepted(service, tokens.viewer!, 5 + evtxRecords)).toBe(5 + evtxRecords);
    const alerts = await api(service, tokens.viewer, 'GET', '/api/v1/detections?rule=Evil');
    expect(alerts.body.detections.map((d: { event: { n: number } }) => d.event.n).sort()).toEqual([
      1, 2, 3, 4, 5,
    ]);
    await stop();

    // A crash between writing events and storing the position: the store still says the old place.
    const db = new Database(join(data, 'vigil.db'));
    db.prepare("UPDATE watched_files SET offset = 0 WHERE path LIKE '%app.jsonl'").run();
    db.prepare("UPDATE watched_files SET record = 0 WHERE path LIKE '%.evtx'").run();
    db.close();
    service = await start();
    expect(await accepted(service, tokens.viewer!, 5 + evtxRecords)).toBe(5 + evtxRecords);

    // Rotation: a new file under the same name is read from its start.
    renameSync(join(drop, 'app.jsonl'), join(dir, 'app.jsonl.1'));
    writeFileSync(join(drop, 'app.jsonl'), `${line(6)}\n`);
    expect(await accepted(service, tokens.viewer!, 6 + evtxRecords)).toBe(6 + evtxRecords);
    await stop();
  }, 120_000);
});
