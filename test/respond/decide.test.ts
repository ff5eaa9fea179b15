import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertFacts,
  type ConditionError,
  checkCondition,
  type DecideStep,
  type EnrichStep,
  evaluateCondition,
  type FactType,
  PlaybookRun,
  parseCondition,
  parsePlaybooks,
  planFor,
} from '../../src/respond/index.js';
import { vigil } from '../helpers/cli.js';

/**
 * Enrich and decide steps: the condition language (read, checked, evaluated), what
 * `vigil playbooks check` says of bad ones, and a run that decides on what its lookups found.
 */

const ransomware: AlertFacts = {
  id: 12,
  tenant: 'acme',
  rule: { id: 'r-1', title: 'Shadow Copies Deleted', level: 'high' },
  host: 'fs1.corp.example',
  techniques: ['T1490'],
  tactics: ['impact'],
  fields: { IpAddress: '203.0.113.9' },
};

const CONTAIN = `name: contain
mode: approval
trigger: { techniques: [T1490] }
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
  - name: ioc
    enrich: indicator
    with: { value: '{{ address }}' }
  - name: exposed
    decide: vulns.kev > 0 or asset.tags contains 'server'
    then: [isolate]
    else: [ask]
  - name: isolate
    action: edr.isolate_host
    with: { host: '{{ host }}' }
  - name: ask
    action: notify.message
    with: { text: 'look at {{ host }}: {{ vulns.open }} open, none in KEV' }
  - name: worth-blocking
    decide: ioc.actionable
  - name: block
    action: firewall.block_address
    with: { address: '{{ address }}' }
  - name: tell
    action: notify.message
    with: { text: '{{ alert.rule }} on {{ host }} ({{ asset.criticality }}, KEV: {{ vulns.kev_cves }})' }
`;

const types: Record<string, FactType> = {
  'vulns.kev': 'number',
  'asset.tags': 'list',
  'asset.found': 'boolean',
  'alert.level': 'text',
  'ioc.source': 'text',
};

describe('the decide condition language', () => {
  it('reads and, or, not, parentheses and the comparisons, and evaluates them on values', () => {
    const values: Record<string, string | number | boolean | string[]> = {
      'vulns.kev': 2,
      'asset.tags': ['Server', 'dc'],
      'asset.found': true,
      'alert.level': 'High',
    };
    const holds = (source: string) => evaluateCondition(parseCondition(source), (name) => values[name]);
    expect(holds("vulns.kev > 0 or asset.tags contains 'server'")).toBe(true);
    expect(holds('vulns.kev >= 3')).toBe(false);
    expect(holds("asset.found and not (alert.level == 'low')")).toBe(true);
    expect(holds("alert.level in ['high', 'critical'] and vulns.kev != 0")).toBe(true);
    expect(holds("alert.level not in ['high', 'critical'] or vulns.kev < 1")).toBe(false);
    expect(holds('not asset.found or vulns.kev <= 2 and asset.found')).toBe(true);
    // A value it needs and does not have: no decision, never a guess.
    expect(() => holds('ioc.actionable')).toThrow(/ioc.actionable has no value/);
  });

  it('says where a condition cannot be read', () => {
    const column = (source: string) => {
      try {
        parseCondition(source);
      } catch (error) {
        return [(error as ConditionError).column, (error as Error).message];
      }
      return undefined;
    };
    expect(column('vulns.kev >')).toEqual([12, expect.stringContaining('expected a value')]);
    expect(column('vulns.kev > 0 and')).toEqual([18, expect.stringContaining('expected a value')]);
    expect(column("asset.tags contains 'server")).toEqual([21, expect.stringContaining('not closed')]);
    expect(column('(vulns.kev > 0')).toEqual([15, "expected ')', not the end"]);
    expect(column('vulns.kev > 0 asset.found')).toEqual([
      15,
      expect.stringContaining("expected 'and', 'or'"),
    ]);
    expect(column('vulns.kev; rm -rf')).toEqual([10, "';' has no meaning here"]);
    expect(column('')).toEqual([1, 'the condition is empty']);
  });

  it('checks names and types before anything runs', () => {
    const problems = (source: string) =>
      checkCondition(parseCondition(source), (name) => types[name]).map((p) => p.message);
    expect(problems("vulns.kev > 0 or asset.tags contains 'server'")).toEqual([]);
    expect(problems('vulns.kve > 0')).toEqual(["'vulns.kve' is not known here"]);
    expect(problems('vulns.kev')).toEqual([
      expect.stringContaining("'vulns.kev' is a number, not true or false"),
    ]);
    expect(problems("vulns.kev == 'two'")).toEqual([expect.stringContaining('never equal')]);
    expect(problems("alert.level > 'high'")).toEqual(["'>' compares numbers; here a text and a text"]);
    expect(problems("asset.tags == 'server'")).toEqual([
      expect.stringContaining("for a list use 'contains'"),
    ]);
    expect(problems("alert.level in 'high'")).toEqual([expect.stringContaining('needs a list on its right')]);
    expect(problems("ioc.source contains 'x'")).toEqual([
      expect.stringContaining("'contains' looks into a list"),
    ]);
  });
});

describe('enrich and decide steps in playbooks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-decide-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads them, with then and else named or taken as every later step', () => {
    const set = parsePlaybooks(CONTAIN, 'contain.yml');
    expect(set.errors).toEqual([]);
    const steps = set.playbooks[0]!.steps;
    expect(steps.map((s) => s.kind)).toEqual([
      'enrich',
      'enrich',
      'enrich',
      'decide',
      'action',
      'action',
      'decide',
      'action',
      'action',
    ]);
    expect(steps[3]).toMatchObject({ ifHolds: ['isolate'], ifNot: ['ask'] });
    // No then and no else: it governs every step after it.
    expect(steps[6]).toMatchObject({ ifHolds: ['block', 'tell'], ifNot: [] });
  });

  it('a run decides on what its lookups found, when it reaches each decision', () => {
    const playbook = parsePlaybooks(CONTAIN, 'contain.yml').playbooks[0]!;
    const run = new PlaybookRun(playbook, ransomware);
    const stepOf = (name: string) => playbook.steps.find((s) => s.name === name)!;
    const reach = (name: string) => run.reach(stepOf(name));
    expect(reach('asset')).toMatchObject({ action: 'enrich.asset', params: { host: 'fs1.corp.example' } });
    run.learn(stepOf('asset') as EnrichStep, {
      facts: {
        found: true,
        criticality: 'high',
        public_facing: false,
        owner: 'it',
        tags: ['files'],
        addresses: [],
      },
    });
    reach('vulns');
    run.learn(stepOf('vulns') as EnrichStep, {
      facts: {
        open: 3,
        kev: 1,
        act: 1,
        overdue: 0,
        max_cvss: 9.8,
        max_epss: 0.9,
        cves: ['CVE-2020-1472', 'CVE-2023-1'],
        kev_cves: ['CVE-2020-1472'],
      },
    });
    reach('ioc');
    run.learn(stepOf('ioc') as EnrichStep, { error: 'the indicator store is down' });
    reach('exposed');
    expect(run.decide(stepOf('exposed') as DecideStep)).toEqual({
      holds: true,
      explanation:
        "vulns.kev > 0 or asset.tags contains 'server': holds (vulns.kev = 1, asset.tags = [files])",
    });
    expect(reach('isolate')).toMatchObject({ mode: 'approval', params: { host: 'fs1.corp.example' } });
    expect(reach('isolate').skipped).toBeUndefined();
    expect(reach('ask').skipped).toContain('decision exposed: vulns.kev > 0');
    // The indicator lookup failed: the decision is not made, and what it governs does not run.
    reach('worth-blocking');
    const verdict = run.decide(stepOf('worth-blocking') as DecideStep);
    expect(verdict.holds).toBeUndefined();
    expect(verdict.error).toContain('ioc.actionable has no value (ioc failed: the indicator store is down)');
    expect(reach('block').skipped).toContain('decision worth-blocking could not be made');
    expect(reach('tell').skipped).toContain('decision worth-blocking could not be made');
  });

  it('a plan made at once looks nothing up: what depends on facts is skipped, the rest planned', () => {
    const playbook = parsePlaybooks(CONTAIN, 'contain.yml').playbooks[0]!;
    const plan = planFor(playbook, ransomware, 'dry-run');
    const byName = Object.fromEntries(plan.steps.map((s) => [s.name, s]));
    expect(byName.asset).toMatchObject({ kind: 'enrich', mode: 'dry-run' });
    expect(byName.isolate!.skipped).toContain('decision exposed could not be made');
  });

  it('vigil playbooks check names file, line and field of bad enrich and decide steps', () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      [
        'name: bad',
        'trigger: {}',
        'inputs:',
        '  host: { type: host, from: [host] }',
        'steps:',
        '  - name: early',
        '    decide: vulns.kev > 0',
        '  - name: vulns',
        '    enrich: vulnerabilities',
        "    with: { host: '{{ host }}' }",
        '  - name: typo',
        '    decide: vulns.kve > 0 and',
        '  - name: kinds',
        "    decide: vulns.cves > 1 or alert.level == 'high'",
        '    then: [nowhere, early]',
        '  - name: guess',
        '    enrich: weather',
        '  - name: both',
        '    enrich: asset',
        '    action: notify.message',
        '  - name: ask',
        '    enrich: asset',
        "    with: { host: '{{ host }}', colour: red }",
        '    ttl: 1h',
        '  - name: tell',
        '    action: notify.message',
        "    with: { text: '{{ vulns.kve }} {{ ask.found }} {{ later.x }}' }",
        '  - name: later',
        '    enrich: alerts',
        "    with: { host: '{{ host }}' }",
      ].join('\n'),
    );
    const result = vigil(['playbooks', 'check', file, '--json']);
    expect(result.status).toBe(1);
    const failed = JSON.parse(result.stdout).failed as { line: number; field: string; error: string }[];
    const at = (field: string) => failed.filter((f) => f.field === field);
    expect(at('steps.0.decide')).toEqual([
      expect.objectContaining({
        line: 7,
        error: expect.stringContaining(
          "at column 1: 'vulns.kev' is not known here: step vulns is no enrich step before this one",
        ),
      }),
    ]);
    // A condition that cannot be read is told once, where reading stopped.
    expect(at('steps.2.decide')).toEqual([
      expect.objectContaining({ line: 12, error: expect.stringContaining('at column 18: expected a value') }),
    ]);
    expect(at('steps.3.decide').map((f) => f.error)).toEqual([
      expect.stringContaining("at column 12: '>' compares numbers; here a list and a number"),
    ]);
    expect(at('steps.3.then.0')).toEqual([
      expect.objectContaining({ line: 15, error: "'nowhere' is not a step after this one" }),
    ]);
    expect(at('steps.3.then.1')).toEqual([
      expect.objectContaining({ error: "'early' is not a step after this one" }),
    ]);
    expect(at('steps.4.enrich')).toEqual([
      expect.objectContaining({ line: 17, error: expect.stringContaining("unknown lookup 'weather'") }),
    ]);
    expect(at('steps.5.enrich')).toEqual([
      expect.objectContaining({
        line: 19,
        error: 'a step does one thing: action and enrich exclude each other',
      }),
    ]);
    expect(at('steps.6.with.colour')).toEqual([
      expect.objectContaining({ error: "enrich asset takes no 'colour'; it takes host" }),
    ]);
    expect(at('steps.6.ttl')).toEqual([
      expect.objectContaining({
        line: 24,
        error: expect.stringContaining("only an action step takes 'ttl'"),
      }),
    ]);
    expect(at('steps.7.with.text').map((f) => f.error)).toEqual([
      expect.stringContaining('{{ vulns.kve }} is not a fact of vulns; vulnerabilities gives open, kev'),
      expect.stringContaining(
        '{{ later.x }} is not known here: step later is no enrich step before this one',
      ),
    ]);
    expect(JSON.parse(result.stdout).playbooks).toEqual([]);
  });
});
