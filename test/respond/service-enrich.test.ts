import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIGIL_RULES_DIR } from '../../src/sigma/index.js';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { api, provision, type RunningService, startService } from '../helpers/serve.js';
import { failedLogons } from '../helpers/windows-events.js';

/**
 * Enrich and decide steps against a service's real stores: a tenant's asset inventory and scan
 * imported with `vigil vulns import` into its vulnerability database (CVE-2020-1472 is in the CISA
 * KEV catalogue of the shared content), indicators given to the API, and the host's other alerts.
 * A second tenant holds another record of the same host name and another indicator: neither reaches
 * the first. The playbook is run by hand over the API (dry run, then for real, to a local webhook)
 * and with `vigil respond --dry-run`.
 */

const LOOK = `name: look-before-acting
mode: auto
trigger: { levels: [critical] }
inputs:
  host: { type: host, from: [host] }
  address: { type: ip, from: [fields.IpAddress] }
steps:
  - name: asset
    enrich: asset
    with: { host: '{{ host }}' }
  - name: vulns
    enrich: vulnerabilities
    with: { host: '{{ host }}' }
  - name: history
    enrich: alerts
    with: { host: '{{ host }}' }
  - name: ioc
    enrich: indicator
    with: { value: '{{ address }}' }
  - name: exposed
    decide: vulns.kev > 0 or asset.tags contains 'server'
    then: [contain]
    else: [watch]
  - name: contain
    action: notify.message
    with: { text: 'contain {{ host }}: KEV {{ vulns.kev_cves }}, criticality {{ asset.criticality }}, {{ history.count }} other alerts' }
  - name: watch
    action: notify.message
    with: { text: 'watch {{ host }}' }
  - name: actionable
    decide: ioc.actionable and history.count >= 1
  - name: block-note
    action: notify.message
    with: { text: 'block {{ address }} ({{ ioc.source }}, confidence {{ ioc.confidence }})' }
`;

const GLOBEX_ONLY = `name: globex-only
mode: auto
trigger: { tenants: [globex] }
steps:
  - { name: tell, action: notify.message, with: { text: 'globex {{ alert.id }}' } }
`;

async function until<T>(what: () => Promise<T | undefined>, log: () => string): Promise<T> {
  for (let i = 0; ; i++) {
    const found = await what();
    if (found !== undefined) return found;
    if (i > 300) throw new Error(`gave up waiting\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads the JSON it is given
type Step = any;

describe.skipIf(!hasContent)('enrich and decide steps on a service’s stores', () => {
  let dir: string;
  let data: string;
  let service: RunningService;
  let acme: Record<string, string>;
  let globex: Record<string, string>;
  let hook: Server;
  const messages: string[] = [];
  let earlier: number;
  let latest: number;

  const importVulns = (tenant: string, assets: string, csv: string) => {
    const folder = join(dir, tenant);
    mkdirSync(folder);
    writeFileSync(join(folder, 'assets.yml'), assets);
    writeFileSync(join(folder, 'scan.csv'), csv);
    const run = vigil([
      'vulns',
      'import',
      join(folder, 'scan.csv'),
      '--assets',
      join(folder, 'assets.yml'),
      '--db',
      join(data, 'vulns', `${tenant}.db`),
    ]);
    if (run.status !== 0) throw new Error(run.stderr);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-enrich-'));
    data = join(dir, 'data');
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        messages.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    acme = await provision(data, 'acme', ['ingest', 'viewer', 'analyst', 'admin']);
    globex = await provision(data, 'globex', ['analyst', 'admin']);
    writeFileSync(join(data, 'config.yml'), 'lateness: 2s\n');
    writeFileSync(
      join(data, 'connectors.yml'),
      `notify:\n  type: webhook\n  url: http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook\n`,
    );
    mkdirSync(join(data, 'playbooks'));
    writeFileSync(join(data, 'playbooks', 'look.yml'), LOOK);
    writeFileSync(join(data, 'playbooks', 'globex.yml'), GLOBEX_ONLY);
    importVulns(
      'acme',
      'assets:\n  - hostname: dc1.corp.example\n    criticality: high\n    owner: identity\n    tags: [server, dc]\n',
      'asset,cve,cvss_vector,port,service,product,exploit_available\n' +
        'dc1,CVE-2020-1472,CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H,445,smb,Windows Server,yes\n' +
        'dc1.corp.example,CVE-2021-34481,CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H,,,Windows Server,\n' +
        'web7.corp.example,CVE-2021-44228,CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H,443,https,Log4j,yes\n',
    );
    importVulns(
      'globex',
      'assets:\n  - hostname: dc1.corp.example\n    criticality: low\n    tags: [workstation]\n',
      'asset,cve,cvss_vector,port,service,product,exploit_available\n' +
        'dc1.corp.example,CVE-2021-44228,CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H,443,https,Log4j,yes\n',
    );
    service = await startService(data, ['--rules', join(VIGIL_RULES_DIR, 'identity')], {
      VIGIL_HOME: join(dir, 'home'),
      VIGIL_CONTENT_DIR: contentPath(),
    });
    const seen = new Date().toISOString();
    const added = await api(service, acme.admin!, 'POST', '/api/v1/indicators', {
      indicators: [
        { type: 'ipv4', value: '91.215.85.12', source: 'feed-acme', confidence: 90, last_seen: seen },
      ],
    });
    expect(added.status).toBe(202);
    const theirs = await api(service, globex.admin!, 'POST', '/api/v1/indicators', {
      indicators: [
        { type: 'ipv4', value: '198.51.100.20', source: 'feed-globex', confidence: 90, last_seen: seen },
      ],
    });
    expect(theirs.status).toBe(202);
    // Two brute forces on dc1 a month apart: two alerts of the host.
    const send = (lines: string[]) =>
      api(service, acme.ingest!, 'POST', '/api/v1/events', `${lines.join('\n')}\n`, 'application/x-ndjson');
    await send(failedLogons(12, { ip: '198.51.100.20', start: '2026-02-01T08:00:00Z', firstRecord: 100 }));
    await send(
      failedLogons(12, { ip: '91.215.85.12', user: 'bob', start: '2026-03-01T08:00:00Z', firstRecord: 300 }),
    );
    const bruteForces = await until(async () => {
      const alerts = (
        await api(
          service,
          acme.viewer!,
          'GET',
          '/api/v1/alerts?rule=Brute Force Of One Windows Account From One Source',
        )
      ).body.alerts;
      return alerts?.length === 2 ? alerts : undefined;
    }, service.log);
    [latest, earlier] = bruteForces.map((a: { id: number }) => a.id);
  }, 120_000);

  afterAll(async () => {
    service?.process.kill('SIGTERM');
    await service?.exited;
    await new Promise<void>((resolve) => hook.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const stepsOf = (records: Step[]) => Object.fromEntries(records.map((r: Step) => [r.step, r]));

  it('offers the tenant’s playbooks with why they would not trigger, and runs one by hand: a dry run, then for real', async () => {
    const choices = await api(service, acme.analyst!, 'GET', `/api/v1/alerts/${latest}/playbooks`);
    expect(choices.body.playbooks).toEqual([
      expect.objectContaining({
        name: 'look-before-acting',
        applies: false,
        reason: 'it is for levels critical, and the alert is medium',
      }),
    ]);
    const path = `/api/v1/alerts/${latest}/respond`;
    const body = { playbook: 'look-before-acting', dry_run: true };
    expect((await api(service, acme.viewer!, 'POST', path, body)).status).toBe(403);
    expect((await api(service, globex.analyst!, 'POST', path, body)).status).toBe(404);
    expect((await api(service, acme.analyst!, 'POST', path, { playbook: 'globex-only' })).status).toBe(404);

    const hostAlerts = (await api(service, acme.viewer!, 'GET', '/api/v1/alerts?host=dc1.corp.example')).body
      .alerts;
    const others = hostAlerts.filter((a: { id: number }) => a.id !== latest);
    expect(others.length).toBeGreaterThanOrEqual(1);

    const planned = await api(service, acme.analyst!, 'POST', path, body);
    expect(planned.status).toBe(200);
    const steps = stepsOf(planned.body.responses);
    expect(steps.asset).toMatchObject({
      action: 'enrich.asset',
      state: 'done',
      facts: {
        found: true,
        criticality: 'high',
        owner: 'identity',
        tags: ['server', 'dc'],
        public_facing: false,
      },
    });
    // dc1's two findings (one scanned as "dc1"), not web7's; CVE-2020-1472 is in KEV.
    expect(steps.vulns).toMatchObject({
      state: 'done',
      facts: { open: 2, kev: 1, kev_cves: ['CVE-2020-1472'] },
    });
    expect(steps.vulns.facts.cves.sort()).toEqual(['CVE-2020-1472', 'CVE-2021-34481']);
    expect(steps.history.facts).toMatchObject({
      count: others.length,
      rules: expect.arrayContaining(['Brute Force Of One Windows Account From One Source']),
    });
    expect(steps.ioc.facts).toEqual({
      known: true,
      type: 'ipv4',
      confidence: 90,
      level: 'high',
      actionable: true,
      source: 'feed-acme',
    });
    expect(steps.exposed).toMatchObject({ action: 'decide', state: 'done', facts: { holds: true } });
    expect(steps.exposed.result).toContain('holds (vulns.kev = 1, asset.tags = [server, dc])');
    expect(steps.contain).toMatchObject({
      state: 'planned',
      mode: 'dry-run',
      params: {
        text: `contain dc1.corp.example: KEV CVE-2020-1472, criticality high, ${others.length} other alerts`,
      },
    });
    expect(steps.watch).toMatchObject({
      state: 'skipped',
      result: expect.stringContaining('decision exposed'),
    });
    expect(steps.actionable.facts).toEqual({ holds: true });
    expect(steps['block-note']).toMatchObject({ state: 'planned' });
    expect(messages).toEqual([]);

    const ran = await api(service, acme.analyst!, 'POST', path, { playbook: 'look-before-acting' });
    const done = stepsOf(ran.body.responses);
    expect(done.contain).toMatchObject({ state: 'done', mode: 'auto' });
    expect(done.watch.state).toBe('skipped');
    expect(done['block-note'].state).toBe('done');
    expect(
      messages.some((m) => m.includes('contain dc1.corp.example: KEV CVE-2020-1472, criticality high')),
    ).toBe(true);
    expect(messages.some((m) => m.includes('block 91.215.85.12 (feed-acme, confidence 90)'))).toBe(true);
    expect(messages.some((m) => m.includes('watch'))).toBe(false);

    // Every lookup and decision is in the audit log, with the analyst who ran it.
    const audit = (await api(service, acme.admin!, 'GET', '/api/v1/audit?limit=1000')).body.entries;
    const run = audit.find((e: Step) => e.action === 'response.run' && e.details.mode === 'dry-run');
    expect(run).toMatchObject({
      tenant: 'acme',
      target: String(latest),
      actor: expect.stringContaining('token:'),
    });
    const enriched = audit.filter((e: Step) => e.action === 'response.enrich' && e.details.step === 'vulns');
    expect(enriched.at(-1).details.facts).toMatchObject({ kev: 1 });
    expect(enriched.at(-1).actor).toBe(run.actor);
    expect(audit.some((e: Step) => e.action === 'response.decide' && e.details.step === 'exposed')).toBe(
      true,
    );
  });

  it('vigil respond --dry-run shows the lookups; another tenant’s indicator is not this tenant’s', () => {
    const args = [
      'respond',
      String(earlier),
      '--data',
      data,
      '--playbook',
      'look-before-acting',
      '--dry-run',
    ];
    const env = { VIGIL_CONTENT_DIR: contentPath() };
    const json = vigil([...args, '--json'], env);
    expect(json.stderr).toBe('');
    const steps = stepsOf(JSON.parse(json.stdout));
    expect(steps.asset.facts).toMatchObject({ found: true, tags: ['server', 'dc'] });
    // 198.51.100.20 is an indicator of globex's only.
    expect(steps.ioc.facts).toMatchObject({ known: false, actionable: false });
    expect(steps.actionable).toMatchObject({ state: 'done', facts: { holds: false } });
    expect(steps['block-note']).toMatchObject({
      state: 'skipped',
      result: expect.stringContaining('ioc.actionable = no'),
    });
    expect(steps.contain).toMatchObject({ state: 'planned', mode: 'dry-run' });
    const text = vigil(args, env);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/enrich\.vulnerabilities[\s\S]*kev: 1/);
    expect(text.stdout).toContain('kev_cves: [CVE-2020-1472]');
  });
});
