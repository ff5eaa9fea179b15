import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';

const FAILED = (n: number) =>
  `Mar 27 13:06:${String(10 + n).padStart(2, '0')} web1 sshd[${1000 + n}]: Failed password for root from 203.0.113.${n} port 4242 ssh2\n`;

async function until(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('vigil serve --watch takes text logs', () => {
  let dir: string;
  let service: RunningService | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-watch-text-'));
  });
  afterAll(() => {
    if (service && service.process.exitCode === null) service.process.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads auth.log line by line as it grows, recognized as sshd; says which text logs it does not take', async () => {
    const data = join(dir, 'data');
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    mkdirSync(join(dir, 'rules'));
    writeFileSync(
      join(dir, 'rules', 'ssh.yml'),
      "title: Failed password for root\nstatus: test\nlogsource: { product: linux, service: sshd }\ndetection: { keywords: ['Failed password for root'], condition: keywords }\nlevel: medium\n",
    );
    const tokens = await provision(data, 'acme', ['viewer']);
    writeFileSync(join(drop, 'auth.log'), `${FAILED(1)}${FAILED(2)}not a syslog line\n`);
    writeFileSync(join(drop, 'conn.log'), '#separator \\x09\n#fields\tts\tuid\n1.0\tC1\n');
    service = await startService(data, ['--rules', join(dir, 'rules'), '--watch', drop, '--tenant', 'acme'], {
      VIGIL_HOME: join(dir, 'home'),
    });
    const stats = async () => (await api(service!, tokens.viewer, 'GET', '/api/v1/stats')).body;
    expect(await until(async () => (await stats()).processed === 2)).toBe(true);
    appendFileSync(join(drop, 'auth.log'), FAILED(3));
    expect(await until(async () => (await stats()).processed === 3)).toBe(true);
    const detections = await api(service, tokens.viewer, 'GET', '/api/v1/detections?limit=10');
    expect(detections.body.detections).toHaveLength(3);
    expect(detections.body.detections[0].event).toMatchObject({ host: 'web1', app: 'sshd' });
    expect(service.log()).toMatch(/auth\.log: the line at byte \d+: not a syslog line/);
    expect(service.log()).toMatch(/conn\.log: zeek-tsv logs are not taken by the folder watch/);
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  }, 60_000);
});
