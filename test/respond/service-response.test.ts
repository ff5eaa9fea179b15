import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';
import { namespacesWork, sh } from '../helpers/system.js';
import { failedLogons } from '../helpers/windows-events.js';

/**
 * Playbooks inside `vigil serve`: an alert runs them at once (auto), waits for an analyst over the API
 * (approval), lets an approval lapse, and ends a containment when its time to live is up, all against
 * a real nftables set: the firewall of a network namespace the test makes, which the service reaches
 * through its connector's command (`ip netns exec NS nft`, as `sudo nft` would be configured).
 */

const suffix = `r${process.pid}`;
const NS = `vigil-svc-${suffix}`;

const canRun = namespacesWork('service response tests');

const blocked = () =>
  sh(['ip', 'netns', 'exec', NS, 'nft', 'list', 'set', 'inet', 'vigil_svc', 'blocked_v4']).stdout;

async function until<T>(
  what: () => Promise<T | undefined>,
  log: () => string,
  timeoutMs = 30_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const found = await what();
    if (found !== undefined) return found;
    if (Date.now() - started > timeoutMs) throw new Error(`gave up waiting\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!canRun)('vigil serve runs playbooks on its alerts', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-svc-response-'));
    data = join(dir, 'data');
    if (sh(['ip', 'netns', 'add', NS]).status !== 0) throw new Error(`cannot make namespace ${NS}`);
    tokens = await provision(data, 'acme', ['ingest', 'viewer', 'analyst']);
    writeFileSync(join(data, 'config.yml'), 'lateness: 2s\nresponse:\n  tick: 1s\n');
    writeFileSync(
      join(data, 'connectors.yml'),
      `firewall:\n  type: nftables\n  table: vigil_svc\n  nft: [ip, netns, exec, ${NS}, nft]\n`,
    );
    mkdirSync(join(data, 'playbooks'));
    const playbook = (name: string, mode: string, ttl: string, extra = '') => `name: ${name}
mode: ${mode}
${extra}trigger: { techniques: [T1110.001] }
inputs:
  address: { type: ip, from: [fields.IpAddress] }
steps:
  - name: block
    action: firewall.block_address
    with: { address: '{{ address }}' }
    ttl: ${ttl}
`;
    writeFileSync(join(data, 'playbooks', 'short.yml'), playbook('block-briefly', 'auto', '3s'));
    writeFileSync(join(data, 'playbooks', 'ask.yml'), playbook('block-if-approved', 'approval', '1h'));
    writeFileSync(
      join(data, 'playbooks', 'lapse.yml'),
      playbook('block-lapsing', 'approval', '1h', 'approval_timeout: 2s\n'),
    );

    service = await startService(data, ['--rules', join(VIGIL_RULES_DIR, 'identity')], {
      VIGIL_HOME: join(dir, 'home'),
    });
  }, 60_000);

  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    sh(['ip', 'netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('acts on its own, asks, lets an approval lapse, and ends a containment on time', async () => {
    const lines = failedLogons(12, { ip: '203.0.113.50', firstRecord: 900 });
    await api(
      service,
      tokens.ingest,
      'POST',
      '/api/v1/events',
      `${lines.join('\n')}\n`,
      'application/x-ndjson',
    );
    const alert = await until(
      async () => (await api(service, tokens.viewer!, 'GET', '/api/v1/alerts')).body.alerts?.[0],
      service.log,
    );
    expect(alert.rule.title).toBe('Brute Force Of One Windows Account From One Source');

    const steps = () =>
      api(service, tokens.viewer!, 'GET', `/api/v1/alerts/${alert.id}/responses`).then(
        // biome-ignore lint/suspicious/noExplicitAny: the test reads the JSON it is given
        (r) => r.body.responses as any[],
      );
    const byPlaybook = async () => Object.fromEntries((await steps()).map((s) => [s.playbook, s]));
    const first = await until(async () => {
      const now = await byPlaybook();
      return Object.keys(now).length === 3 && now['block-briefly'].state !== 'running' ? now : undefined;
    }, service.log);
    expect(first['block-briefly']).toMatchObject({ state: 'done', mode: 'auto' });
    expect(first['block-if-approved']).toMatchObject({
      state: 'awaiting-approval',
      expires_at: expect.any(String),
    });
    expect(blocked()).toContain('203.0.113.50');

    // A viewer may not decide; a tenant's analyst may.
    const approve = `/api/v1/responses/${first['block-if-approved'].id}/approve`;
    expect((await api(service, tokens.viewer!, 'POST', approve)).status).toBe(403);
    const approved = await api(service, tokens.analyst!, 'POST', approve);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'done', decided_by: expect.stringContaining('token:') });
    expect((await api(service, tokens.analyst!, 'POST', approve)).status).toBe(409);

    // The short block ends by itself, the lapsing request expires; the approved one stands until released.
    const later = await until(async () => {
      const now = await byPlaybook();
      return now['block-briefly'].state === 'reverted' && now['block-lapsing'].state === 'expired'
        ? now
        : undefined;
    }, service.log);
    expect(later['block-if-approved'].state).toBe('done');
    const released = await api(
      service,
      tokens.analyst!,
      'POST',
      `/api/v1/responses/${later['block-if-approved'].id}/release`,
    );
    expect(released.body).toMatchObject({ state: 'reverted' });
    expect(blocked()).not.toContain('203.0.113.50');
  });
});
