import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertFacts,
  carryOut,
  parsePlaybooks,
  planFor,
  readConnectors,
  revert,
} from '../../src/respond/index.js';
import { freePort } from '../helpers/system.js';

/**
 * The DNS connector against a real Unbound: one instance answers for `example.` (standing for the
 * Internet), a second is the resolver clients use, forwarding to the first and reading Vigil's
 * response policy zone. A blocked domain and its subdomains stop resolving; the revert brings them back.
 */

const hasUnbound = spawnSync('unbound', ['-V']).error === undefined;
if (!hasUnbound)
  console.warn('\n*** unbound is not installed (Debian unbound): DNS response tests SKIPPED ***\n');

function unboundConfig(dir: string, name: string, port: number, body: string[]): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(
    file,
    [
      'server:',
      '  interface: 127.0.0.1',
      `  port: ${port}`,
      '  do-daemonize: no',
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      `  pidfile: "${join(dir, `${name}.pid`)}"`,
      '  use-syslog: no',
      '  logfile: ""',
      '  access-control: 127.0.0.0/8 allow',
      ...body,
    ].join('\n'),
  );
  return file;
}

describe.skipIf(!hasUnbound)('DNS connector (response policy zone, Unbound)', () => {
  let dir: string;
  const daemons: ChildProcess[] = [];
  let resolverConfig: string;
  let zoneFile: string;
  const resolver = new Resolver({ timeout: 1000, tries: 1 });

  const answers = async (name: string) => {
    try {
      return await resolver.resolve4(name);
    } catch (error) {
      return (error as NodeJS.ErrnoException).code;
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-unbound-'));
    zoneFile = join(dir, 'rpz.vigil.zone');
    const upstreamPort = await freePort();
    const resolverPort = await freePort();
    const upstream = unboundConfig(dir, 'upstream', upstreamPort, [
      '  local-zone: "example." static',
      '  local-data: "evil.example. 60 IN A 192.0.2.66"',
      '  local-data: "www.evil.example. 60 IN A 192.0.2.67"',
      '  local-data: "good.example. 60 IN A 192.0.2.10"',
      'remote-control:',
      '  control-enable: no',
    ]);
    writeFileSync(
      zoneFile,
      '$TTL 60\n@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60\n@ IN NS localhost.\n',
    );
    resolverConfig = unboundConfig(dir, 'resolver', resolverPort, [
      '  module-config: "respip iterator"',
      '  do-not-query-localhost: no',
      '  domain-insecure: "example."',
      'forward-zone:',
      '  name: "example."',
      `  forward-addr: 127.0.0.1@${upstreamPort}`,
      'remote-control:',
      '  control-enable: yes',
      `  control-interface: "${join(dir, 'control.sock')}"`,
      '  control-use-cert: no',
      'rpz:',
      '  name: "rpz.vigil."',
      `  zonefile: "${zoneFile}"`,
    ]);
    for (const config of [upstream, resolverConfig])
      daemons.push(spawn('unbound', ['-c', config], { stdio: 'ignore' }));
    resolver.setServers([`127.0.0.1:${resolverPort}`]);
    for (let i = 0; !Array.isArray(await answers('good.example')); i++) {
      if (i > 50) throw new Error('unbound did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);

  afterAll(() => {
    for (const daemon of daemons) daemon.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const connectors = () =>
    readConnectors(
      `dns:\n  type: rpz\n  server: unbound\n  zone: rpz.vigil\n  zone_file: ${zoneFile}\n  control_config: ${resolverConfig}\n`,
      'connectors.yml',
    );
  const [playbook] = parsePlaybooks(
    `name: block-domain
mode: approval
trigger: { rules: [Indicator match] }
inputs:
  domain: { type: domain, from: [fields.QueryName, fields.url.domain] }
steps:
  - name: block
    action: dns.block_domain
    with: { domain: '{{ domain }}' }
`,
    'block-domain.yml',
  ).playbooks;
  const alert = (id: number, domain: string): AlertFacts => ({
    id,
    tenant: 'acme',
    rule: { id: null, title: 'Indicator match', level: 'high' },
    host: 'ws7.corp.example',
    techniques: ['T1071.004'],
    tactics: ['command-and-control'],
    fields: { QueryName: domain },
  });

  it('blocks a domain and its subdomains once approved, and lets them resolve again after the revert', async () => {
    expect(await answers('evil.example')).toEqual(['192.0.2.66']);
    const c = connectors();
    const [waiting] = await carryOut(planFor(playbook!, alert(1, 'Evil.Example.')), { connectors: c });
    expect(waiting).toMatchObject({ state: 'awaiting-approval' });
    expect(waiting!.request).toContain('"evil.example CNAME ."');
    expect(await answers('evil.example')).toEqual(['192.0.2.66']);

    const [done] = await carryOut(planFor(playbook!, alert(1, 'Evil.Example.')), {
      connectors: c,
      approval: true,
    });
    expect(done).toMatchObject({
      state: 'done',
      result: 'evil.example and its subdomains blocked in rpz.vigil',
    });
    expect(await answers('evil.example')).toBe('ENOTFOUND');
    expect(await answers('www.evil.example')).toBe('ENOTFOUND');
    expect(await answers('good.example')).toEqual(['192.0.2.10']);

    expect(await revert(done!, { connectors: c })).toMatchObject({
      result: 'evil.example no longer blocked in rpz.vigil',
    });
    expect(await answers('evil.example')).toEqual(['192.0.2.66']);
    expect(await answers('www.evil.example')).toEqual(['192.0.2.67']);
  });

  it('a block two alerts asked for is lifted only when both are reverted; a hand-written entry stays', async () => {
    const c = connectors();
    const [first] = await carryOut(planFor(playbook!, alert(2, 'evil.example')), {
      connectors: c,
      approval: true,
    });
    const [second] = await carryOut(planFor(playbook!, alert(3, 'www.evil.example')), {
      connectors: c,
      approval: true,
    });
    const [again] = await carryOut(planFor(playbook!, alert(4, 'evil.example')), {
      connectors: c,
      approval: true,
    });
    expect(again!.result).toContain('blocked already for another reason too');
    await revert(first!, { connectors: c });
    expect(await answers('evil.example')).toBe('ENOTFOUND');
    expect(await revert(again!, { connectors: c })).toMatchObject({
      result: 'evil.example no longer blocked in rpz.vigil',
    });
    expect(await answers('evil.example')).toEqual(['192.0.2.66']);
    // www.evil.example is still held by alert 3.
    expect(await answers('www.evil.example')).toBe('ENOTFOUND');
    await revert(second!, { connectors: c });
    expect(await answers('www.evil.example')).toEqual(['192.0.2.67']);

    writeFileSync(zoneFile, `${readFileSync(zoneFile, 'utf8')}good.example CNAME .\n`);
    const [held] = await carryOut(planFor(playbook!, alert(5, 'good.example')), {
      connectors: c,
      approval: true,
    });
    expect(await revert(held!, { connectors: c })).toMatchObject({
      result: expect.stringContaining('stays blocked'),
    });
    expect(await answers('good.example')).toBe('ENOTFOUND');
  });

  it('a resolver that cannot be told to reload is retried, then the step fails with the reason', async () => {
    const c = readConnectors(
      `dns:\n  type: rpz\n  server: unbound\n  zone: rpz.vigil\n  zone_file: ${join(dir, 'other.zone')}\n  control_config: ${join(dir, 'missing.conf')}\n`,
      'c.yml',
    );
    const [failed] = await carryOut(planFor(playbook!, alert(6, 'bad.example')), {
      connectors: c,
      approval: true,
      backoffMs: 10,
    });
    expect(failed).toMatchObject({
      state: 'failed',
      attempts: 3,
      error: expect.stringContaining('unbound-control'),
    });
  });
});
