import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VigilError } from '../../src/core/index.js';
import { loadServiceConfig, SqliteServiceStore } from '../../src/service/index.js';

const LONG = { idleMs: 3_600_000, absoluteMs: 3_600_000 };

function pause(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('console sessions in the store', () => {
  let dir: string;
  let store: SqliteServiceStore;
  let analyst: { tokenId: number; label: string | null; role: 'analyst'; tenant: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-sessions-'));
    store = new SqliteServiceStore(join(dir, 'vigil.db'));
    await store.addTenant('acme', 'test');
    const { secret } = await store.addToken({ role: 'analyst', tenant: 'acme', label: 'ana' }, 'test');
    const principal = await store.authenticate(secret);
    analyst = principal as typeof analyst;
  });

  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps only the hash of the cookie, and finds the session by the cookie', async () => {
    const { secret, session } = await store.startSession(analyst, LONG);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.csrf).not.toBe(secret);
    const found = await store.session(secret, LONG);
    expect(found).toMatchObject({ id: session.id, tenant: 'acme', csrf: session.csrf });
    expect(found?.principal).toEqual(analyst);
    expect(await store.session(`${secret}x`, LONG)).toBeUndefined();
    const listed = (await store.listSessions()).find((s) => s.id === session.id);
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it('ends a session after its idle time and after its absolute time, whichever comes first', async () => {
    const idle = await store.startSession(analyst, { idleMs: 40, absoluteMs: 3_600_000 });
    expect(await store.session(idle.secret, { idleMs: 40, absoluteMs: 3_600_000 })).toBeDefined();
    await pause(60);
    expect(await store.session(idle.secret, { idleMs: 40, absoluteMs: 3_600_000 })).toBeUndefined();
    // Background use (a page's live stream) does not renew the idle time; a person's use does.
    const limits = { idleMs: 1000, absoluteMs: 3_600_000 };
    const watched = await store.startSession(analyst, limits);
    const used = await store.startSession(analyst, limits);
    await pause(600);
    expect(await store.session(watched.secret, limits, false)).toBeDefined();
    expect(await store.session(used.secret, limits, true)).toBeDefined();
    await pause(600);
    expect(await store.session(watched.secret, limits, false)).toBeUndefined();
    expect(await store.session(used.secret, limits, false)).toBeDefined();
    const capped = await store.startSession(analyst, { idleMs: 3_600_000, absoluteMs: 40 });
    await pause(60);
    expect(await store.session(capped.secret, { idleMs: 3_600_000, absoluteMs: 40 })).toBeUndefined();
  });

  it('ends sessions on sign-out, on revocation, and with their token; each end is audited', async () => {
    const a = await store.startSession(analyst, LONG);
    const b = await store.startSession(analyst, LONG);
    expect(await store.endSession(a.session.id, 'token:1', 'sign-out')).toBe(true);
    expect(await store.endSession(a.session.id, 'token:1', 'sign-out')).toBe(false);
    expect(await store.session(a.secret, LONG)).toBeUndefined();
    expect(await store.session(b.secret, LONG)).toBeDefined();
    expect(await store.endSession(b.session.id, 'admin-cli:root', 'revoked')).toBe(true);
    expect(await store.session(b.secret, LONG)).toBeUndefined();
    const c = await store.startSession(analyst, LONG);
    await store.revokeToken(analyst.tokenId, 'admin-cli:root');
    expect(await store.session(c.secret, LONG)).toBeUndefined();
    const actions = (await store.auditEntries(0, 100)).map((e) => `${e.action}:${e.details.reason ?? ''}`);
    expect(actions).toContain('session.start:');
    expect(actions).toContain('session.end:sign-out');
    expect(actions).toContain('session.end:revoked');
    expect((await store.verifyAudit()).broken).toBeUndefined();
  });
});

describe('console session limits in config.yml', () => {
  it('defaults to 30 minutes idle and 12 hours in all, takes durations, and names a bad key with its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-console-config-'));
    try {
      expect(loadServiceConfig(dir).console).toEqual({ sessionIdleMs: 1_800_000, sessionMaxMs: 43_200_000 });
      writeFileSync(join(dir, 'config.yml'), 'console:\n  session_idle: 10m\n  session_max: 8h\n');
      expect(loadServiceConfig(dir).console).toEqual({ sessionIdleMs: 600_000, sessionMaxMs: 28_800_000 });
      writeFileSync(join(dir, 'config.yml'), 'threads: 1\nconsole:\n  session_idle: soon\n');
      let error: unknown;
      try {
        loadServiceConfig(dir);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(VigilError);
      expect((error as VigilError).location).toMatchObject({ field: 'console.session_idle', line: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
