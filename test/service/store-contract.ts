import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Detection } from '../../src/detect/index.js';
import type { NewDetection, ServiceStore } from '../../src/service/index.js';

/**
 * What every ServiceStore must do, whichever database is under it: run inside a describe of the
 * store's own test file. `open` gives a store on the test's data; each call another instance on
 * the same data (another node of a cluster, for PostgreSQL).
 */
export interface StoreUnderTest {
  open(): Promise<ServiceStore>;
  cleanup(): Promise<void>;
}

const T0 = Date.parse('2026-03-01T10:00:00Z');
const HOUR = 3_600_000;

function rule(id: string, level = 'high', title = `Rule ${id}`): Detection['rule'] {
  return { id, title, level, file: `${id}.yml` } as Detection['rule'];
}

/** A detection as the processor hands it to the store. */
function found(
  key: string,
  options: {
    rule?: Detection['rule'];
    host?: string;
    time?: number;
    techniques?: string[];
    user?: string;
  } = {},
): NewDetection {
  const time = options.time ?? T0;
  const event = {
    host: options.host ?? 'web1',
    user: options.user ?? 'alice',
    time: new Date(time).toISOString(),
  };
  return {
    key,
    seq: Number(key.replace(/\D/g, '') || 1),
    received: time + 1000,
    detection: {
      rule: options.rule ?? rule('r-exec'),
      host: options.host ?? 'web1',
      timeMs: time,
      techniques: options.techniques ?? ['T1059.001'],
      tactics: ['execution'],
      matched: { user: event.user },
    } as unknown as Detection,
    events: JSON.stringify([event]),
    fields: () => event,
    alertWindowMs: HOUR,
  };
}

export function storeContract(subject: StoreUnderTest): void {
  let store: ServiceStore;
  let other: ServiceStore;

  beforeAll(async () => {
    store = await subject.open();
    other = await subject.open();
    for (const tenant of ['acme', 'globex', 'twice', 'race', 'queue', 'supp', 'iso-a', 'iso-b'])
      await store.addTenant(tenant, 'test');
  });

  afterAll(async () => {
    await store?.close();
    await other?.close();
    await subject.cleanup();
  });

  it('keeps tenants, and tokens by the hash of their secret only; revocation ends a token and its sessions', async () => {
    expect(await store.hasTenant('acme')).toBe(true);
    expect(await other.hasTenant('nobody')).toBe(false);
    expect((await store.tenants()).map((t) => t.name)).toContain('globex');
    const { id, secret } = await store.addToken({ role: 'analyst', tenant: 'acme', label: 'ana' }, 'test');
    expect(secret).toMatch(/^vgl_/);
    expect(await other.authenticate(secret)).toEqual({
      tokenId: id,
      label: 'ana',
      role: 'analyst',
      tenant: 'acme',
    });
    expect(await store.authenticate(`${secret}x`)).toBeUndefined();
    const listed = (await store.listTokens()).find((t) => t.id === id)!;
    expect(listed).toMatchObject({ role: 'analyst', tenant: 'acme', revokedAt: null });
    expect(JSON.stringify(await store.listTokens())).not.toContain(secret);

    const principal = (await store.authenticate(secret))!;
    const limits = { idleMs: HOUR, absoluteMs: HOUR };
    const started = await store.startSession(principal, limits);
    const live = await other.session(started.secret, limits);
    expect(live).toMatchObject({ id: started.session.id, tenant: 'acme', csrf: started.session.csrf });
    await store.chooseSessionTenant(started.session.id, 'globex');
    // A bound token's session stays on its tenant whatever is chosen.
    expect((await store.session(started.secret, limits))?.tenant).toBe('acme');
    expect(await store.revokeToken(id, 'test')).toBe(true);
    expect(await other.revokeToken(id, 'test')).toBe(false);
    expect(await store.authenticate(secret)).toBeUndefined();
    expect(await store.session(started.secret, limits)).toBeUndefined();
    const session = (await store.listSessions()).find((s) => s.id === started.session.id)!;
    expect(session.endedAt).not.toBeNull();
    expect(JSON.stringify(await store.listSessions())).not.toContain(started.secret);

    const admin = await store.addToken({ role: 'admin', tenant: null, label: null }, 'test');
    const second = await store.startSession((await store.authenticate(admin.secret))!, limits);
    expect(await store.endSession(second.session.id, 'test', 'sign-out')).toBe(true);
    expect(await other.endSession(second.session.id, 'test', 'sign-out')).toBe(false);
  });

  it('chains the audit log, also when two stores append at once, and verifies it', async () => {
    const before = (await store.verifyAudit()).entries;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? store : other).audit({
          actor: `node${i % 2}`,
          action: 'test.concurrent',
          tenant: null,
          target: String(i),
          details: { i, nested: { z: 1, a: [2, 'x'] } },
        }),
      ),
    );
    const verdict = await other.verifyAudit();
    expect(verdict).toEqual({ entries: before + 20 });
    const entries = await store.auditEntries(before, 100);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => before + i + 1));
    expect(entries.find((e) => e.target === '3')?.details).toEqual({ i: 3, nested: { z: 1, a: [2, 'x'] } });
    const actions = (await store.auditEntries(0, 1000)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['tenant.add', 'token.add', 'token.revoke', 'session.end']),
    );
  });

  it('stores a batch once, groups detections of a rule and host into alerts, and never moves a position back', async () => {
    const batch = {
      tenant: 'twice',
      detections: [
        found('1', { time: T0 }),
        found('2', { time: T0 + 60_000, rule: rule('r-exec', 'critical') }),
        found('2', { time: T0 + 60_000 }),
        found('3', { host: 'db1' }),
        found('4', { time: T0 + 5 * HOUR }),
      ],
      processed: 10,
      snapshot: { seq: 9, state: '{"windows":[]}' },
    };
    const first = await store.commit(batch);
    expect(first.stored).toBe(4);
    expect(first.opened.map((a) => [a.host, a.count, a.rule.level])).toEqual([
      ['web1', 2, 'critical'],
      ['db1', 1, 'high'],
      ['web1', 1, 'high'],
    ]);
    const again = await other.commit(batch);
    expect(again).toEqual({ stored: 0, suppressed: 0, opened: [] });
    expect((await store.stats('twice')).detections).toBe(4);
    expect((await store.stats('twice')).alerts).toBe(3);

    // A later detection joins the open alert within its window, the alert grows.
    const later = await store.commit({
      tenant: 'twice',
      detections: [found('5', { time: T0 + 30 * 60_000 })],
      processed: 4,
    });
    expect(later.opened).toEqual([]);
    const grown = await store.alert('twice', first.opened[0]!.id);
    expect(grown).toMatchObject({ count: 3, firstSeen: new Date(T0).toISOString() });
    expect(grown!.detections.map((d) => d.seq)).toEqual([1, 2, 5]);
    expect(grown!.detections[0]!.events).toEqual([
      { host: 'web1', user: 'alice', time: new Date(T0).toISOString() },
    ]);
    expect(await store.position('twice')).toBe(10);
    expect(await other.snapshot('twice')).toEqual({ seq: 9, state: '{"windows":[]}' });
    expect(await store.snapshot('nobody')).toBeUndefined();
  });

  it('stores a batch committed by two stores at the same time once: one detection per key, one alert', async () => {
    const batch = {
      tenant: 'race',
      detections: Array.from({ length: 50 }, (_, i) => found(`${i + 1}`, { time: T0 + i * 1000 })),
      processed: 50,
    };
    const results = await Promise.all([store.commit(batch), other.commit(batch), store.commit(batch)]);
    expect(results.map((r) => r.stored).sort()).toEqual([0, 0, 50]);
    expect(results.flatMap((r) => r.opened)).toHaveLength(1);
    const alerts = await other.alerts({ tenant: 'race', limit: 10 });
    expect(alerts.items).toHaveLength(1);
    expect(alerts.items[0]!.count).toBe(50);
    expect((await store.detections({ tenant: 'race', limit: 100 })).items).toHaveLength(50);
  });

  it('answers the queue: filters, every order paged by keyset, facets, counts and groups', async () => {
    const detections = Array.from({ length: 12 }, (_, i) =>
      found(`${i + 1}`, {
        host: `Host${i % 4}`,
        rule: rule(`r${i % 3}`, ['low', 'medium', 'high'][i % 3]),
        time: T0 + i * 2 * HOUR,
        techniques: i % 2 ? ['T1003.001'] : ['T1059'],
      }),
    );
    await store.commit({ tenant: 'queue', detections, processed: 12 });
    const all = await store.alerts({ tenant: 'queue', limit: 100 });
    expect(all.items).toHaveLength(12);
    expect(all.items.map((a) => a.id)).toEqual([...all.items.map((a) => a.id)].sort((a, b) => b - a));
    for (const sort of ['newest', 'last_seen', 'level', 'count'] as const) {
      const seen: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await other.alerts({ tenant: 'queue', limit: 5, sort, cursor });
        seen.push(...page.items.map((a) => a.id));
        cursor = page.next ?? undefined;
      } while (cursor);
      expect(seen.sort(), sort).toEqual(all.items.map((a) => a.id).sort());
    }
    const byLevel = await store.alerts({ tenant: 'queue', limit: 4, sort: 'level' });
    expect(byLevel.items.map((a) => a.rule.level)).toEqual(['high', 'high', 'high', 'high']);
    expect((await store.alerts({ tenant: 'queue', limit: 100, host: 'host1' })).items).toHaveLength(3);
    expect((await store.alerts({ tenant: 'queue', limit: 100, rule: 'RULE R1' })).items).toHaveLength(4);
    expect((await store.alerts({ tenant: 'queue', limit: 100, rule: 'r2' })).items).toHaveLength(4);
    expect((await store.alerts({ tenant: 'queue', limit: 100, technique: 't1003' })).items).toHaveLength(6);
    expect(
      (await store.alerts({ tenant: 'queue', limit: 100, level: ['low', 'medium'] })).items,
    ).toHaveLength(8);
    expect(
      (await store.alerts({ tenant: 'queue', limit: 100, since: T0 + 20 * HOUR, until: T0 + 30 * HOUR }))
        .items,
    ).toHaveLength(2);
    expect(
      (await store.alerts({ tenant: 'queue', limit: 100, afterId: all.items[1]!.id })).items,
    ).toHaveLength(1);

    const target = all.items[0]!;
    const changed = await store.triage(
      'queue',
      target.id,
      { status: 'acknowledged', assignee: 'Bob' },
      'ana',
    );
    expect(changed).toMatchObject({ status: 'acknowledged', assignee: 'Bob' });
    expect(await store.triage('queue', target.id, { status: 'acknowledged' }, 'ana')).toMatchObject({
      updatedAt: changed!.updatedAt,
    });
    await other.triage(
      null,
      all.items[1]!.id,
      { status: 'closed', closeReason: 'false_positive', note: 'lab' },
      'ana',
    );
    expect(await store.triage('globex', target.id, { status: 'closed' }, 'ana')).toBeUndefined();
    const detail = await store.alert('queue', all.items[1]!.id);
    expect(detail?.closeReason).toBe('false_positive');
    expect(detail?.history[0]).toMatchObject({ actor: 'ana', change: { note: 'lab' } });
    expect((await store.alerts({ tenant: 'queue', limit: 100, assignee: 'bob' })).items).toHaveLength(1);
    expect((await store.alerts({ tenant: 'queue', limit: 100, assignee: null })).items).toHaveLength(11);
    expect((await store.alerts({ tenant: 'queue', limit: 100, status: ['open'] })).items).toHaveLength(10);

    expect(await store.alertCounts('queue')).toEqual({ open: 10, acknowledged: 1, closed: 1 });
    expect(await other.alertFacets('queue')).toEqual({
      status: { open: 10, acknowledged: 1, closed: 1 },
      level: { low: 4, medium: 4, high: 4 },
    });
    expect(await store.alertGroups({ tenant: 'queue', limit: 2, status: ['open'] }, 'rule')).toEqual([
      { key: 'r0', label: 'Rule r0', count: 4 },
      { key: 'r1', label: 'Rule r1', count: 3 },
    ]);
    expect((await store.alertGroups({ tenant: 'queue', limit: 10 }, 'host')).map((g) => g.count)).toEqual([
      3, 3, 3, 3,
    ]);

    const page1 = await store.detections({ tenant: 'queue', limit: 7 });
    const page2 = await store.detections({ tenant: 'queue', limit: 7, cursor: page1.next! });
    expect(page2.next).toBeNull();
    expect(new Set([...page1.items, ...page2.items].map((d) => d.id)).size).toBe(12);
    expect((await store.detections({ tenant: 'queue', limit: 100, rule: 'r0' })).items).toHaveLength(4);
    expect(
      (await store.detections({ tenant: 'queue', limit: 100, since: T0 + 20 * HOUR })).items,
    ).toHaveLength(2);
    expect(await store.stats('queue')).toEqual({ processed: 12, detections: 12, alerts: 12 });
  });

  it('holds detections back by suppression (stored, counted, no alert) until it is lifted', async () => {
    const byUser = await store.addSuppression(
      {
        tenant: 'supp',
        rule: null,
        host: 'WEB1',
        field: 'user',
        value: 'svc_backup',
        until: new Date(Date.now() + HOUR).toISOString(),
        reason: 'backups',
      },
      'ana',
    );
    const everywhere = await store.addSuppression(
      {
        tenant: null,
        rule: 'Rule r-noisy',
        host: null,
        field: null,
        value: null,
        until: new Date(Date.now() + HOUR).toISOString(),
        reason: 'noisy',
      },
      'root',
    );
    // The same store adds and applies them: SQLite's store (one per data folder) keeps them in memory.
    const result = await store.commit({
      tenant: 'supp',
      detections: [
        found('1', { user: 'svc_backup' }),
        found('2', { user: 'svc_backup' }),
        found('3', { user: 'alice' }),
        found('4', { rule: rule('r-noisy') }),
      ],
      processed: 4,
    });
    expect(result).toMatchObject({ stored: 4, suppressed: 3 });
    expect(result.opened).toHaveLength(1);
    const listed = await store.suppressions('supp');
    expect(listed.map((s) => [s.id, s.hits])).toEqual([
      [byUser.id, 2],
      [everywhere.id, 1],
    ]);
    expect((await store.suppressions('globex')).map((s) => s.id)).toEqual([everywhere.id]);
    const held = (await store.detections({ tenant: 'supp', limit: 10 })).items.filter((d) => d.suppressionId);
    expect(held.map((d) => d.alertId)).toEqual([null, null, null]);

    expect(await store.removeSuppression('supp', everywhere.id, 'ana')).toBe(false);
    expect(await store.removeSuppression('supp', byUser.id, 'ana')).toBe(true);
    const after = await store.commit({
      tenant: 'supp',
      detections: [found('5', { user: 'svc_backup' })],
      processed: 5,
    });
    expect(after.suppressed).toBe(0);
  });

  it('turns rules off and on per tenant, and counts hits per rule and day', async () => {
    expect(await store.setRuleDisabled('acme', 'r-exec', true, 'ana')).toBe(true);
    expect(await other.setRuleDisabled('acme', 'r-exec', true, 'ana')).toBe(false);
    await store.setRuleDisabled('globex', 'f.yml#Untitled', true, 'bob');
    expect((await store.disabledRules('acme')).map((r) => [r.rule, r.disabledBy])).toEqual([
      ['r-exec', 'ana'],
    ]);
    expect((await store.disabledRules(null)).map((r) => r.tenant)).toEqual(['acme', 'globex']);
    expect(await store.setRuleDisabled('acme', 'r-exec', false, 'ana')).toBe(true);
    expect(await store.disabledRules('acme')).toEqual([]);

    const hits = await store.ruleHits('queue', Date.now() - HOUR);
    expect(hits.map((h) => [h.rule, h.detections])).toEqual([
      ['r0', 4],
      ['r1', 4],
      ['r2', 4],
    ]);
    expect(hits[0]!.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await store.ruleHits('queue', Date.now() + HOUR)).toEqual([]);
  });

  it('keeps retro-hunts: some detections of each, all counted; running ones failed at start', async () => {
    const hunt = await store.startHunt({ tenant: 'acme', rules: 'current', since: T0, until: null }, 'ana');
    expect(hunt).toMatchObject({
      status: 'running',
      requestedBy: 'ana',
      since: T0,
      until: null,
      detections: 0,
    });
    const detections = Array.from({ length: 3 }, (_, i) => found(`${i}`).detection);
    await store.addHuntDetections(hunt.id, detections, 4);
    await other.addHuntDetections(hunt.id, detections, 4);
    await store.finishHunt(hunt.id, { events: 99 });
    const done = await store.hunt('acme', hunt.id, 10, 0);
    expect(done?.hunt).toMatchObject({ status: 'done', events: 99, detections: 6, error: null });
    expect(done?.detections).toHaveLength(4);
    expect((await store.hunt('acme', hunt.id, 2, 3))?.detections).toHaveLength(1);
    expect(await store.hunt('globex', hunt.id, 10, 0)).toBeUndefined();
    const left = await store.startHunt({ tenant: 'globex', rules: '2', since: null, until: null }, 'bob');
    expect(await other.failRunningHunts('stopped')).toBe(1);
    expect((await store.hunts('globex'))[0]).toMatchObject({
      id: left.id,
      status: 'failed',
      error: 'stopped',
    });
    expect((await store.hunts(null)).map((h) => h.id)).toEqual([left.id, hunt.id]);
  });

  it('keeps response steps by key, each change audited with it, and finds those due', async () => {
    const base = {
      tenant: 'acme',
      alertId: 1,
      playbook: 'contain',
      step: 'isolate',
      action: 'host.isolate',
      mode: 'approval',
      params: { host: 'web1' },
      request: null,
      result: null,
      error: null,
      attempts: 0,
      kept: null,
      facts: null,
      ttlMs: 3_600_000,
      revertAt: null,
      decidedBy: null,
    };
    const audit = { actor: 'service', action: 'response.plan', tenant: 'acme', target: 'x', details: {} };
    const planned = await store.saveResponse(
      { ...base, key: 'acme:1:contain:isolate', state: 'awaiting-approval', expiresAt: 1000 },
      audit,
    );
    const done = await other.saveResponse(
      {
        ...base,
        key: 'acme:1:contain:isolate',
        state: 'done',
        expiresAt: null,
        revertAt: 5000,
        kept: { rule: 'drop 10.0.0.1' },
        decidedBy: 'ana',
      },
      { ...audit, action: 'response.done' },
    );
    expect(done.id).toBe(planned.id);
    expect(done).toMatchObject({ state: 'done', kept: { rule: 'drop 10.0.0.1' }, params: { host: 'web1' } });
    await store.saveResponse(
      { ...base, key: 'acme:1:notify', step: 'notify', state: 'running', expiresAt: null },
      audit,
    );
    expect((await store.responses('acme', 1)).map((r) => r.step)).toEqual(['isolate', 'notify']);
    expect(await store.response('acme', planned.id)).toMatchObject({ decidedBy: 'ana' });
    expect(await store.responseByKey('acme:1:notify')).toMatchObject({ state: 'running' });
    expect((await store.dueResponses(4000)).map((r) => r.step)).toEqual(['notify']);
    expect((await store.dueResponses(6000)).map((r) => r.step)).toEqual(['isolate', 'notify']);
    expect(
      (await store.auditEntries(0, 10_000)).filter((e) => e.action.startsWith('response.')),
    ).toHaveLength(3);
  });

  it('keeps how far each watched file was read', async () => {
    expect(await store.watchPosition('/logs/a.evtx')).toBeUndefined();
    await store.saveWatchPosition({
      path: '/logs/a.evtx',
      tenant: 'acme',
      identity: '1:2',
      offset: 4096,
      record: 7,
    });
    await other.saveWatchPosition({
      path: '/logs/a.evtx',
      tenant: 'acme',
      identity: '1:2',
      offset: 8192,
      record: 9,
    });
    expect(await store.watchPosition('/logs/a.evtx')).toEqual({
      path: '/logs/a.evtx',
      tenant: 'acme',
      identity: '1:2',
      offset: 8192,
      record: 9,
    });
  });

  it("never answers a tenant's query with another tenant's alerts, detections, responses or hunts", async () => {
    const a = await store.commit({
      tenant: 'iso-a',
      detections: [found('1'), found('2', { host: 'x' })],
      processed: 2,
    });
    const b = await store.commit({ tenant: 'iso-b', detections: [found('1')], processed: 1 });
    const bAlert = b.opened[0]!.id;
    const audit = { actor: 's', action: 'response.plan', tenant: 'iso-b', target: null, details: {} };
    const bResponse = await store.saveResponse(
      {
        key: 'iso-b:r',
        tenant: 'iso-b',
        alertId: bAlert,
        playbook: 'p',
        step: 's',
        action: 'notify.message',
        mode: 'auto',
        state: 'done',
        params: {},
        request: null,
        result: null,
        error: null,
        attempts: 1,
        kept: null,
        facts: null,
        ttlMs: null,
        revertAt: null,
        expiresAt: null,
        decidedBy: null,
      },
      audit,
    );
    const own = await store.alerts({ tenant: 'iso-a', limit: 100 });
    expect(own.items.map((x) => x.tenant)).toEqual(['iso-a', 'iso-a']);
    expect(own.items.map((x) => x.id).sort()).toEqual(a.opened.map((x) => x.id).sort());
    expect(
      (await store.detections({ tenant: 'iso-a', limit: 100 })).items.every((d) => d.tenant === 'iso-a'),
    ).toBe(true);
    expect(await store.alert('iso-a', bAlert)).toBeUndefined();
    expect(await store.alert(null, bAlert)).toBeDefined();
    expect(await store.responses('iso-a', bAlert)).toEqual([]);
    expect(await store.response('iso-a', bResponse.id)).toBeUndefined();
    expect(await store.response('iso-b', bResponse.id)).toBeDefined();
    expect(
      (await store.alertGroups({ tenant: 'iso-a', limit: 10 }, 'host')).map((g) => g.key).sort(),
    ).toEqual(['web1', 'x']);
    expect(await store.alertCounts('iso-b')).toEqual({ open: 1, acknowledged: 0, closed: 0 });
    expect((await store.stats('iso-a')).detections).toBe(2);
    expect((await store.hunts('iso-a')).every((h) => h.tenant === 'iso-a')).toBe(true);
    expect(await store.verifyAudit()).not.toHaveProperty('broken');
  });
}
