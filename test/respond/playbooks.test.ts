import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertFacts,
  loadPlaybooks,
  parsePlaybooks,
  planFor,
  triggers,
} from '../../src/respond/index.js';
import { vigil } from '../helpers/cli.js';

const SHIPPED = fileURLToPath(new URL('../../playbooks', import.meta.url));

const bruteForce: AlertFacts = {
  id: 7,
  tenant: 'acme',
  rule: {
    id: '27545aeb-7540-4550-b867-6af8edd26e58',
    title: 'Brute Force Of One Windows Account From One Source',
    level: 'medium',
  },
  host: 'dc1.corp.example',
  techniques: ['T1110.001'],
  tactics: ['credential-access'],
  fields: { TargetUserName: 'alice', IpAddress: '203.0.113.9' },
};

const ONE = `name: contain
mode: approval
trigger:
  tags: [attack.t1110]
  tenants: [acme]
inputs:
  address: { type: ip, from: [fields.SourceIp, fields.IpAddress] }
  user: { type: account, from: [fields.TargetUserName] }
steps:
  - name: block
    action: firewall.block_address
    with: { address: '{{ address }}' }
    ttl: 30m
    mode: auto
    when:
      address: { not_in_networks: [203.0.113.0/28] }
  - name: tell
    action: notify.message
    mode: auto
    with: { text: '{{ user }} from {{ address }}: {{ alert.rule }}' }
`;

describe('playbooks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-playbooks-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the shipped pack passes vigil playbooks check', () => {
    const result = vigil(['playbooks', 'check', SHIPPED, '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.failed).toEqual([]);
    expect(report.playbooks.map((p: { name: string }) => p.name).sort()).toEqual([
      'block-brute-force-source',
      'block-indicator-domain',
      'contain-ransomware-host',
      'disable-stolen-account',
      'notify-critical',
    ]);
  });

  it('the shipped pack acts on what each alert holds: a brute force source, an indicator domain', async () => {
    const set = await loadPlaybooks([SHIPPED]);
    const byName = (name: string) => set.playbooks.find((p) => p.name === name)!;
    const source = planFor(byName('block-brute-force-source'), bruteForce);
    expect(source.steps[0]).toMatchObject({
      action: 'firewall.block_address',
      mode: 'auto',
      params: { address: '203.0.113.9' },
      ttlMs: 3_600_000,
    });
    const indicator: AlertFacts = {
      ...bruteForce,
      rule: { id: 'ioc:domain', title: 'Known indicator: domain', level: 'high' },
      techniques: [],
      tactics: [],
      fields: {
        'indicator.type': 'domain',
        'indicator.value': 'evil.example',
        QueryName: 'cdn.evil.example',
      },
    };
    expect(triggers(byName('block-indicator-domain'), indicator)).toBe(true);
    expect(triggers(byName('block-brute-force-source'), indicator)).toBe(false);
    // Planned at once, nothing is looked up: whether the indicator is actionable is not known, so
    // the block is planned with its domain but not made.
    const block = planFor(byName('block-indicator-domain'), indicator).steps.find((s) => s.name === 'block');
    expect(block).toMatchObject({
      action: 'dns.block_domain',
      mode: 'approval',
      params: { domain: 'evil.example' },
      skipped: expect.stringContaining('decision actionable could not be made'),
    });
  });

  it('a broken playbook is refused with file, line and field, and exit 1; the good one beside it loads', () => {
    const broken = join(dir, 'broken.yml');
    writeFileSync(
      broken,
      [
        'name: fine',
        'trigger: {}',
        'steps:',
        '  - name: a',
        '    action: firewall.nuke',
        '  - name: b',
        '    action: notify.message',
        "    with: { text: '{{ nowhere }}', colour: red }",
        '  - name: c',
        '    action: notify.message',
        "    with: { text: 'x' }",
        '    ttl: 1h',
        '---',
        'name: other',
        'trigger: { levels: [high] }',
        'steps: [{ name: s, action: notify.message, with: { text: hi } }]',
      ].join('\n'),
    );
    const result = vigil(['playbooks', 'check', broken, '--json']);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.playbooks.map((p: { name: string }) => p.name)).toEqual(['other']);
    expect(report.failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: broken,
          line: 5,
          field: 'steps.0.action',
          error: expect.stringContaining("unknown action 'firewall.nuke'"),
        }),
        expect.objectContaining({
          line: 8,
          field: 'steps.1.with.text',
          error: '{{ nowhere }} is neither an input, an alert value nor a fact of an earlier enrich step',
        }),
        expect.objectContaining({ line: 8, field: 'steps.1.with.colour' }),
        expect.objectContaining({
          line: 12,
          field: 'steps.2.ttl',
          error: 'notify.message cannot be undone, so it takes no ttl',
        }),
      ]),
    );
    const text = vigil(['playbooks', 'check', broken]);
    expect(text.stdout).toContain(`${broken}:5: steps.0.action: unknown action`);
    const yaml = join(dir, 'yaml.yml');
    writeFileSync(yaml, 'name: x\nsteps: [\n');
    const bad = vigil(['playbooks', 'check', yaml, '--json']);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).failed[0]).toMatchObject({
      file: yaml,
      error: expect.stringContaining('not valid YAML'),
    });
  });

  it('triggers on tags and tenants, takes typed inputs from the alert, fills templates and keeps the stricter mode', () => {
    const [playbook] = parsePlaybooks(ONE, 'one.yml').playbooks;
    expect(triggers(playbook!, bruteForce)).toBe(true);
    expect(triggers(playbook!, { ...bruteForce, tenant: 'other' })).toBe(false);
    expect(triggers(playbook!, { ...bruteForce, techniques: ['T1059.001'], tactics: ['execution'] })).toBe(
      false,
    );

    const plan = planFor(playbook!, bruteForce);
    expect(plan.inputs).toEqual({ address: { value: '203.0.113.9' }, user: { value: 'alice' } });
    // The step asks for auto, the playbook for approval: approval it is. The address is in the
    // excluded network, so the block is skipped with the reason; the message still goes.
    expect(plan.steps).toEqual([
      expect.objectContaining({
        name: 'block',
        mode: 'approval',
        params: { address: '203.0.113.9' },
        ttlMs: 1_800_000,
        key: 'acme:7:contain:block',
        skipped: expect.stringContaining('condition on address does not hold'),
      }),
      expect.objectContaining({
        name: 'tell',
        mode: 'approval',
        params: { text: 'alice from 203.0.113.9: Brute Force Of One Windows Account From One Source' },
      }),
    ]);
    expect(plan.steps[1]!.skipped).toBeUndefined();

    const outside = planFor(
      playbook!,
      { ...bruteForce, fields: { ...bruteForce.fields, IpAddress: '198.51.100.4' } },
      'dry-run',
    );
    expect(outside.steps[0]).toMatchObject({ mode: 'dry-run', params: { address: '198.51.100.4' } });
    expect(outside.steps[0]!.skipped).toBeUndefined();

    // A value that is not of the input's type is never acted on.
    const local = planFor(playbook!, { ...bruteForce, fields: { TargetUserName: 'alice', IpAddress: '-' } });
    expect(local.inputs.address).toEqual({ problem: "'-' is not an IP address" });
    expect(local.steps[0]!.skipped).toContain('no usable value for address');
  });
});
