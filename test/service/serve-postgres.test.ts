import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_SCHEMA_VERSION } from '../../src/service/postgres-schema.js';
import { vigil } from '../helpers/cli.js';
import { freshSchema, hasPostgres } from '../helpers/postgres.js';
import { api, type RunningService, startService } from '../helpers/serve.js';

const RULE = `title: Evil action
id: 5b0e1f7e-0000-4000-8000-00000000e412
status: test
logsource: { product: lab }
detection:
  selection: { action: evil }
  condition: selection
level: high
tags: [attack.execution, attack.t1059]
`;

function events(host: string, n: number): string {
  const start = Date.parse('2026-01-01T10:00:00Z');
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ host, action: 'evil', user: `u${i}`, time: new Date(start + i * 60_000).toISOString() }),
  ).join('\n');
}

describe.skipIf(!hasPostgres)('vigil serve and vigil admin on a PostgreSQL store', () => {
  const schema = freshSchema();
  // Trust authentication ignores the password: it is there to be kept out of every output.
  const url = schema.url.replace('postgres://postgres@', 'postgres://postgres:hunter2@');
  let dir: string;
  let data: string;
  let env: NodeJS.ProcessEnv;
  let service: RunningService | undefined;
  const admin = (...args: string[]) => vigil(['admin', '--store', url, ...args], env);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-serve-pg-'));
    data = join(dir, 'data');
    env = { VIGIL_HOME: join(dir, 'home') };
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'evil.yml'), RULE);
  });

  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
    await schema.drop();
  });

  it('refuses to work before vigil admin migrate, which then says the versions', () => {
    const early = admin('tenant', 'list');
    expect(early.status).not.toBe(0);
    expect(early.stderr).toContain('vigil admin migrate');
    expect(early.stderr).not.toContain('hunter2');
    const migrated = admin('migrate');
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(`schema version 0 -> ${POSTGRES_SCHEMA_VERSION}`);
    expect(admin('migrate').stdout).toContain(`schema version ${POSTGRES_SCHEMA_VERSION}, up to date`);
    expect(migrated.stdout + migrated.stderr).not.toContain('hunter2');
  });

  it('serves from the store: events in, alerts out; vigil admin lists the same tenant and tokens', async () => {
    expect(admin('tenant', 'add', 'acme').status).toBe(0);
    const token = (role: string) => admin('token', 'add', '--role', role, '--tenant', 'acme').stdout.trim();
    const ingest = token('ingest');
    const viewer = token('viewer');
    service = await startService(data, ['--store', url, '--rules', join(dir, 'rules')], env);
    expect(service.log()).toContain('postgres:***@');
    const sent = await api(
      service,
      ingest,
      'POST',
      '/api/v1/events',
      events('web1', 3),
      'application/x-ndjson',
    );
    expect(sent.body).toEqual({ accepted: 3, rejected: [] });
    let stats = (await api(service, viewer, 'GET', '/api/v1/stats')).body;
    for (let i = 0; i < 300 && stats.processed !== stats.accepted; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = (await api(service, viewer, 'GET', '/api/v1/stats')).body;
    }
    const alerts = await api(service, viewer, 'GET', '/api/v1/alerts');
    expect(alerts.body.alerts).toHaveLength(1);
    expect(alerts.body.alerts[0]).toMatchObject({ tenant: 'acme', host: 'web1', count: 3, status: 'open' });
    // Nothing of the service's state went to SQLite in the data folder.
    expect(existsSync(join(data, 'vigil.db'))).toBe(false);
    // A second service with events of its own in files may not share the store: only a cluster may.
    const second = await startService(
      join(dir, 'data2'),
      ['--store', url, '--rules', join(dir, 'rules')],
      env,
    ).then(
      (started) => {
        started.process.kill('SIGTERM');
        return 'it started';
      },
      (error: Error) => error.message,
    );
    expect(second).toContain('nodes sharing a store must share the event log too (--bus');
    expect(second).not.toContain('hunter2');
    expect(second).not.toMatch(/\n\s+at /);

    const tenants = admin('tenant', 'list');
    expect(tenants.stdout).toContain('acme');
    const tokens = admin('token', 'list');
    expect(tokens.stdout.match(/acme/g)).toHaveLength(2);
    expect(tokens.stdout).toMatch(/ingest/);
    expect(admin('audit', 'verify').stdout).toMatch(/intact: \d+ entries/);
    expect(service.log()).not.toContain('hunter2');

    // vigil respond reads the alert from the same store, and keeps its steps there.
    mkdirSync(join(dir, 'playbooks'));
    writeFileSync(
      join(dir, 'playbooks', 'tell.yml'),
      "name: tell\nmode: auto\ntrigger: {}\nsteps:\n  - { name: tell, action: notify.message, with: { text: '{{ alert.rule }}' } }\n",
    );
    const alertId = String(alerts.body.alerts[0].id);
    const respond = (id: string) =>
      vigil(
        ['respond', id, '--data', data, '--store', url, '--playbooks', join(dir, 'playbooks'), '--dry-run'],
        env,
      );
    const planned = respond(alertId);
    expect(planned.status, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/Response to alert \d+: Evil action on web1, tenant acme/);
    expect(planned.stdout).toContain('notify.message');
    const steps = await api(service, viewer, 'GET', `/api/v1/alerts/${alertId}/responses`);
    expect(steps.status).toBe(200);
    expect(JSON.stringify(steps.body)).toContain('notify.message');
    const missing = vigil(
      ['respond', '999999', '--data', data, '--store', url, '--playbooks', join(dir, 'playbooks')],
      env,
    );
    expect(missing.stderr).toContain('no alert 999999 in postgres://postgres:***@');
  });

  it("takes the store from the data folder's config.yml, and names the file and key when it is wrong", () => {
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'config.yml'), `store: ${url}\n`);
    const listed = vigil(['admin', '--data', other, 'tenant', 'list'], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('acme');
    writeFileSync(join(other, 'config.yml'), 'listen: 127.0.0.1:8601\nstore: mysql://db/vigil\n');
    const wrong = vigil(['admin', '--data', other, 'tenant', 'list'], env);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/config\.yml:2: store: a postgres:\/\/ URL/);
  });
});
