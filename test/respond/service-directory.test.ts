import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';
import { ADMIN, BASE, hasSlapd, type Slapd, startSlapd } from '../helpers/slapd.js';
import { failedLogons, securityEvent } from '../helpers/windows-events.js';

/**
 * A detection carried by `vigil serve` through a playbook to a real directory account and back:
 * a brute force followed by a successful logon of the same account (its password was guessed)
 * disables the account in slapd once an analyst approves; the account cannot bind until the
 * analyst releases it; a rejected request changes nothing; everything is in the audit log.
 */
describe.skipIf(!hasSlapd)('vigil serve disables a guessed account in a real directory', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let slapd: Slapd;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-svc-directory-'));
    data = join(dir, 'data');
    slapd = await startSlapd();
    await slapd.addPerson('alice');
    await slapd.addPerson('bob');
    tokens = await provision(data, 'acme', ['ingest', 'viewer', 'analyst', 'admin']);
    writeFileSync(join(data, 'config.yml'), 'lateness: 2s\n');
    writeFileSync(
      join(data, 'connectors.yml'),
      `directory:\n  type: ldap\n  url: ${slapd.url}\n  kind: openldap\n  base_dn: ${BASE}\n  bind_dn: ${ADMIN}\n  bind_password_env: VIGIL_TEST_LDAP_PASSWORD\n`,
    );
    mkdirSync(join(data, 'playbooks'));
    writeFileSync(
      join(data, 'playbooks', 'disable.yml'),
      `name: disable-guessed-account
mode: approval
trigger: { rules: [Successful Windows Logon After Repeated Failures] }
inputs:
  account: { type: account, from: [fields.TargetUserName] }
steps:
  - name: disable
    action: directory.disable_account
    with: { account: '{{ account }}' }
    ttl: 8h
`,
    );
    service = await startService(data, ['--rules', join(VIGIL_RULES_DIR, 'identity')], {
      VIGIL_HOME: join(dir, 'home'),
      VIGIL_TEST_LDAP_PASSWORD: 'secret',
    });
  }, 60_000);

  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    slapd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Twelve failures then a success of one account: the alert the playbook is for. */
  async function guessed(user: string, start: string, firstRecord: number): Promise<{ id: number }> {
    const success = securityEvent({
      id: 4624,
      at: Date.parse(start) + 3 * 60_000,
      record: firstRecord + 100,
      data: { TargetUserName: user, IpAddress: '203.0.113.60', LogonType: 3 },
    });
    const lines = [...failedLogons(12, { user, ip: '203.0.113.60', start, firstRecord }), success];
    await api(
      service,
      tokens.ingest!,
      'POST',
      '/api/v1/events',
      `${lines.join('\n')}\n`,
      'application/x-ndjson',
    );
    for (let i = 0; ; i++) {
      const alerts = (
        await api(
          service,
          tokens.viewer!,
          'GET',
          '/api/v1/alerts?rule=Successful%20Windows%20Logon%20After%20Repeated%20Failures',
        )
      ).body.alerts as { id: number; host: string }[];
      const steps = alerts.length
        ? (await api(service, tokens.viewer!, 'GET', `/api/v1/alerts/${alerts[0]!.id}/responses`)).body
            .responses
        : [];
      const mine = alerts.find(() =>
        steps.some((s: { params: { account: string } }) => s.params.account === user),
      );
      if (mine) return mine;
      if (i > 300) throw new Error(`no alert for ${user}:\n${service.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('approve disables, release enables again; reject changes nothing; the audit log holds each step', async () => {
    const alice = await guessed('alice', '2026-03-02T08:00:00Z', 1000);
    const [step] = (await api(service, tokens.viewer!, 'GET', `/api/v1/alerts/${alice.id}/responses`)).body
      .responses;
    expect(step).toMatchObject({ state: 'awaiting-approval', action: 'directory.disable_account' });
    expect(await slapd.canBind('alice')).toBe(true);

    const approved = await api(service, tokens.analyst!, 'POST', `/api/v1/responses/${step.id}/approve`);
    expect(approved.body).toMatchObject({ state: 'done', revert_at: expect.any(String) });
    expect(await slapd.canBind('alice')).toBe(false);
    const released = await api(service, tokens.analyst!, 'POST', `/api/v1/responses/${step.id}/release`);
    expect(released.body).toMatchObject({ state: 'reverted', result: expect.stringContaining('unlocked') });
    expect(await slapd.canBind('alice')).toBe(true);

    const bob = await guessed('bob', '2026-03-03T08:00:00Z', 2000);
    const [bobStep] = (await api(service, tokens.viewer!, 'GET', `/api/v1/alerts/${bob.id}/responses`)).body
      .responses;
    expect(
      (await api(service, tokens.analyst!, 'POST', `/api/v1/responses/${bobStep.id}/reject`)).body.state,
    ).toBe('rejected');
    expect(await slapd.canBind('bob')).toBe(true);

    const audit = (await api(service, tokens.admin!, 'GET', '/api/v1/audit?limit=1000')).body;
    const trail = audit.entries
      .filter((e: { action: string }) => e.action.startsWith('response.'))
      .map((e: { action: string; details: { state: string } }) => `${e.action} ${e.details.state}`);
    expect(trail).toEqual([
      'response.step awaiting-approval',
      'response.approve running',
      'response.step done',
      'response.revert reverted',
      'response.step awaiting-approval',
      'response.reject rejected',
    ]);
  });
});
