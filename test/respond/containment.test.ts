import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPaths, SqliteServiceStore } from '../../src/service/index.js';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';
import { namespacesWork, sh } from '../helpers/system.js';
import { failedLogons } from '../helpers/windows-events.js';

/**
 * A detection carried from the service through a playbook to a real nftables set and back. Two
 * network namespaces joined by a veth pair stand for an attacker (198.51.100.1) and a server
 * (198.51.100.2) that runs `vigil respond`: the attacker's connections stop while it is blocked and
 * flow again once the block is reverted.
 */

const BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const suffix = String(process.pid);
const ATTACKER = `vigil-a-${suffix}`;
const SERVER = `vigil-s-${suffix}`;

const canRun = namespacesWork('containment tests');

/** Whether the attacker can open a TCP connection to the server's port. */
function reachable(): boolean {
  const probe = `const s=require('net').connect({host:'198.51.100.2',port:7070,timeout:700});s.on('connect',()=>process.exit(0));s.on('timeout',()=>process.exit(1));s.on('error',()=>process.exit(1));`;
  return sh(['ip', 'netns', 'exec', ATTACKER, process.execPath, '-e', probe]).status === 0;
}

describe.skipIf(!canRun)('containment: alert -> playbook -> nftables -> revert', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let listener: ChildProcess;
  let alertId: number;

  const respond = (...args: string[]) => {
    const result = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        SERVER,
        process.execPath,
        BIN,
        'respond',
        String(alertId),
        '--data',
        data,
        '--json',
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    return {
      status: result.status,
      stderr: result.stderr,
      // biome-ignore lint/suspicious/noExplicitAny: the test reads the JSON it is given
      records: (result.stdout.startsWith('[') ? JSON.parse(result.stdout) : []) as any[],
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-contain-'));
    data = join(dir, 'data');
    for (const command of [
      ['ip', 'netns', 'add', ATTACKER],
      ['ip', 'netns', 'add', SERVER],
      ['ip', 'link', 'add', `va${suffix}`, 'type', 'veth', 'peer', 'name', `vs${suffix}`],
      ['ip', 'link', 'set', `va${suffix}`, 'netns', ATTACKER],
      ['ip', 'link', 'set', `vs${suffix}`, 'netns', SERVER],
      ['ip', '-n', ATTACKER, 'addr', 'add', '198.51.100.1/24', 'dev', `va${suffix}`],
      ['ip', '-n', SERVER, 'addr', 'add', '198.51.100.2/24', 'dev', `vs${suffix}`],
      ['ip', '-n', ATTACKER, 'link', 'set', `va${suffix}`, 'up'],
      ['ip', '-n', SERVER, 'link', 'set', `vs${suffix}`, 'up'],
      ['ip', '-n', SERVER, 'link', 'set', 'lo', 'up'],
    ]) {
      const result = sh(command);
      if (result.status !== 0) throw new Error(`${command.join(' ')}: ${result.stderr}`);
    }
    listener = spawn('ip', [
      'netns',
      'exec',
      SERVER,
      process.execPath,
      '-e',
      "require('net').createServer((s)=>{s.on('error',()=>{});s.end('hi')}).listen(7070,'198.51.100.2')",
    ]);
    for (let i = 0; i < 50 && !reachable(); i++) await new Promise((r) => setTimeout(r, 100));

    const tokens = await provision(data, 'acme', ['ingest', 'viewer']);
    // A short lateness, so that the correlation closes soon after the last event.
    writeFileSync(join(data, 'config.yml'), 'lateness: 2s\n');
    service = await startService(data, ['--rules', join(VIGIL_RULES_DIR, 'identity')], {
      VIGIL_HOME: join(dir, 'home'),
    });
    const lines = failedLogons(12, { ip: '198.51.100.1', stepMs: 20_000 });
    await api(
      service,
      tokens.ingest,
      'POST',
      '/api/v1/events',
      `${lines.join('\n')}\n`,
      'application/x-ndjson',
    );
    for (let waited = 0; ; waited += 100) {
      const list = await api(service, tokens.viewer!, 'GET', '/api/v1/alerts');
      if (list.body.alerts?.length) {
        alertId = list.body.alerts[0].id;
        break;
      }
      if (waited > 30_000) throw new Error(`no alert:\n${service.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    mkdirSync(join(dir, 'playbooks'));
    const playbook = (name: string, mode: string) => `name: ${name}
mode: ${mode}
trigger: { techniques: [T1110] }
inputs:
  address: { type: ip, from: [fields.IpAddress] }
steps:
  - name: block
    action: firewall.block_address
    with: { address: '{{ address }}' }
    ttl: 1h
`;
    writeFileSync(join(dir, 'playbooks', 'approval.yml'), playbook('block-with-approval', 'approval'));
    writeFileSync(join(dir, 'playbooks', 'refused.yml'), playbook('block-refused', 'approval'));
    writeFileSync(join(dir, 'playbooks', 'auto.yml'), playbook('block-now', 'auto'));
    writeFileSync(join(data, 'connectors.yml'), `firewall:\n  type: nftables\n  table: vigil_test\n`);
  }, 60_000);

  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    listener?.kill();
    sh(['ip', 'netns', 'del', ATTACKER]);
    sh(['ip', 'netns', 'del', SERVER]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('plans without acting in dry-run, waits for approval, records a rejection, blocks once approved, and reverts', () => {
    expect(reachable()).toBe(true);
    const pb = (name: string) => ['--playbooks', join(dir, 'playbooks'), '--playbook', name];

    const dry = respond(...pb('block-now'), '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.records[0]).toMatchObject({
      state: 'planned',
      request: 'nft add element inet vigil_test blocked_v4 { 198.51.100.1 timeout 3600s }',
    });
    expect(reachable()).toBe(true);

    expect(respond(...pb('block-refused')).records[0].state).toBe('awaiting-approval');
    const refused = respond(...pb('block-refused'), '--reject').records[0];
    expect(refused).toMatchObject({ state: 'rejected', decided_by: expect.stringMatching(/^respond-cli:/) });
    // A rejection is final: approving afterwards changes nothing.
    expect(respond(...pb('block-refused'), '--approve').records[0].state).toBe('rejected');
    expect(reachable()).toBe(true);

    const approved = respond(...pb('block-with-approval'), '--approve');
    expect(approved.status).toBe(0);
    expect(approved.records[0]).toMatchObject({
      state: 'done',
      result: expect.stringContaining('198.51.100.1 added'),
      revert_at: expect.any(String),
    });
    expect(reachable()).toBe(false);
    const set = sh(['ip', 'netns', 'exec', SERVER, 'nft', 'list', 'set', 'inet', 'vigil_test', 'blocked_v4']);
    expect(set.stdout).toMatch(/198\.51\.100\.1 timeout 1h/);

    // Carried out already under the same key: not done twice.
    const again = respond(...pb('block-with-approval'), '--approve');
    expect(again.records[0]).toMatchObject({ id: approved.records[0].id, state: 'done', attempts: 1 });

    const released = respond(...pb('block-with-approval'), '--revert');
    expect(released.status).toBe(0);
    expect(released.records[0]).toMatchObject({
      state: 'reverted',
      result: expect.stringContaining('198.51.100.1 removed'),
    });
    expect(reachable()).toBe(true);
  });

  it('auto mode acts at once; every step, decision and revert is in the audit log', async () => {
    const auto = respond('--playbooks', join(dir, 'playbooks'), '--playbook', 'block-now');
    expect(auto.records[0].state).toBe('done');
    expect(reachable()).toBe(false);
    expect(respond('--playbooks', join(dir, 'playbooks'), '--playbook', 'block-now', '--revert').status).toBe(
      0,
    );
    expect(reachable()).toBe(true);

    const store = new SqliteServiceStore(dataPaths(data).database);
    try {
      const entries = (await store.auditEntries(0, 1000)).filter((e) => e.action.startsWith('response.'));
      // Each hand run is audited as such (the playbook and the mode), then each of its steps.
      const runs = entries.filter((e) => e.action === 'response.run');
      expect(runs.length).toBeGreaterThan(0);
      expect(runs.map((e) => e.details.playbooks)).toContainEqual(['block-now']);
      expect(runs.some((e) => e.details.mode === 'dry-run')).toBe(true);
      const trail = entries
        .filter((e) => e.action !== 'response.run')
        .map((e) => [e.action, e.details.playbook, e.details.state]);
      expect(trail).toEqual([
        ['response.step', 'block-now', 'planned'],
        ['response.step', 'block-refused', 'awaiting-approval'],
        ['response.reject', 'block-refused', 'rejected'],
        ['response.step', 'block-with-approval', 'awaiting-approval'],
        ['response.approve', 'block-with-approval', 'running'],
        ['response.step', 'block-with-approval', 'done'],
        ['response.revert', 'block-with-approval', 'reverted'],
        ['response.start', 'block-now', 'running'],
        ['response.step', 'block-now', 'done'],
        ['response.revert', 'block-now', 'reverted'],
      ]);
      expect(
        entries.every(
          (e) => e.actor.startsWith('respond-cli:') && e.tenant === 'acme' && e.target === String(alertId),
        ),
      ).toBe(true);
    } finally {
      await store.close();
    }
  });
});
