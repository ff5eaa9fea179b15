import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttackIndex,
  type AttackKind,
  attackId,
  attackSourceIn,
  buildKnowledge,
  canonicalTechniqueId,
  loadAttack,
  normalizeName,
  parseStixBundle,
  type StixObject,
} from '../../src/attack/index.js';
import { contentPath, hasContent } from '../helpers/content.js';
import {
  attackRelease,
  bundleText,
  matrix,
  mitreRef,
  relationship,
  tactic,
  technique,
} from '../helpers/stix.js';

describe('names', () => {
  it('normalises case, punctuation, hyphens and ampersands', () => {
    expect(normalizeName('Drive-by Compromise')).toBe(normalizeName('drive by  compromise.'));
    expect(normalizeName('Command & Control')).toBe('command and control');
    expect(normalizeName('Deobfuscate/Decode Files or Information')).toBe(
      'deobfuscate decode files or information',
    );
  });

  it('reads an object ID from whatever external references a bundle holds', () => {
    const object = (external_references: unknown) =>
      ({ type: 'attack-pattern', id: 'x', external_references }) as StixObject;
    expect(attackId(object([null, { source_name: 'mitre-attack', external_id: 'T1059' }]))).toBe('T1059');
    expect(attackId(object('T1059'))).toBeUndefined();
    expect(attackId(object([{ source_name: 'mitre-attack', external_id: 5 }]))).toBeUndefined();
  });

  it('reads technique IDs as people write them', () => {
    expect(canonicalTechniqueId('t1059.001')).toBe('T1059.001');
    expect(canonicalTechniqueId('T1059/001')).toBe('T1059.001');
    expect(canonicalTechniqueId(' T1218 ')).toBe('T1218');
    expect(canonicalTechniqueId('T12189')).toBeUndefined();
    expect(canonicalTechniqueId('TA0001')).toBeUndefined();
  });
});

/** A bundle of a few hand-made objects, in the v18 structure, for what real data cannot pin. */
function smallBundle(): string {
  const objects = [
    attackRelease('99.0'),
    matrix('2', '1'),
    tactic('1', 'TA0002', 'Execution', 'execution'),
    tactic('2', 'TA0001', 'Initial Access', 'initial-access'),
    technique('1', 'T1000', 'Scripting', ['execution']),
    technique('old', 'T1064', 'Old Scripting', [], { revoked: true }),
    technique('2', 'T1000.001', 'Shell', ['execution', 'initial-access'], { x_mitre_is_subtechnique: true }),
    {
      type: 'x-mitre-data-component',
      id: 'x-mitre-data-component--1',
      name: 'Process Creation',
      external_references: mitreRef('DC0032'),
    },
    {
      type: 'x-mitre-analytic',
      id: 'x-mitre-analytic--1',
      description: 'Look at new shells.',
      x_mitre_log_source_references: [
        { x_mitre_data_component_ref: 'x-mitre-data-component--1', name: 'sysmon' },
      ],
    },
    {
      type: 'x-mitre-detection-strategy',
      id: 'x-mitre-detection-strategy--1',
      name: 'Shells',
      x_mitre_analytic_refs: ['x-mitre-analytic--1'],
    },
    {
      type: 'course-of-action',
      id: 'course-of-action--1',
      name: 'Restrict Shells',
      external_references: mitreRef('M1000'),
    },
    {
      type: 'intrusion-set',
      id: 'intrusion-set--1',
      name: 'Big Group',
      aliases: ['Big Group', 'APT99'],
      external_references: mitreRef('G0001'),
    },
    {
      type: 'tool',
      id: 'tool--1',
      name: 'Hammer',
      x_mitre_aliases: ['Hammer', 'Mallet'],
      description: 'Hammer opens shells for Big Group.',
      external_references: mitreRef('S0001'),
    },
    {
      type: 'campaign',
      id: 'campaign--1',
      name: 'Operation Anvil',
      aliases: ['Operation Anvil', 'Anvil Night'],
      description: 'A night of shells.',
      external_references: mitreRef('C0001'),
    },
    relationship('1', 'revoked-by', 'attack-pattern--old', 'attack-pattern--1'),
    relationship('2', 'detects', 'x-mitre-detection-strategy--1', 'attack-pattern--2'),
    relationship('3', 'mitigates', 'course-of-action--1', 'attack-pattern--2'),
    relationship('4', 'uses', 'intrusion-set--1', 'attack-pattern--2', { description: 'They shell.' }),
    relationship('5', 'uses', 'intrusion-set--1', 'tool--1'),
    relationship('6', 'uses', 'intrusion-set--1', 'attack-pattern--1', { revoked: true }),
    relationship('7', 'attributed-to', 'campaign--1', 'intrusion-set--1'),
    relationship('8', 'uses', 'campaign--1', 'attack-pattern--2'),
    'not an object',
  ];
  return bundleText(objects);
}

describe('building the index from a bundle', () => {
  const knowledge = buildKnowledge(parseStixBundle(smallBundle(), 'small.json'));

  it('keeps tactics in matrix order and techniques in it too', () => {
    expect(knowledge.version).toBe('99.0');
    expect(knowledge.tactics.map((t) => t.id)).toEqual(['TA0001', 'TA0002']);
    const shell = knowledge.techniques.find((t) => t.id === 'T1000.001')!;
    expect(shell.tactics).toEqual(['initial-access', 'execution']);
    expect(shell.parent).toBe('T1000');
    expect(knowledge.techniques.find((t) => t.id === 'T1000')!.subtechniques).toEqual(['T1000.001']);
  });

  it('finds data components and detection text through detection strategies and analytics', () => {
    const shell = knowledge.techniques.find((t) => t.id === 'T1000.001')!;
    expect(shell.dataComponents).toEqual(['DC0032']);
    expect(shell.detection).toContain('Look at new shells.');
    expect(shell.mitigations).toEqual(['M1000']);
  });

  it('links groups to techniques and software, ignoring revoked relationships', () => {
    const group = knowledge.groups[0]!;
    expect(group.aliases).toEqual(['APT99']);
    expect(group.techniques).toEqual([{ technique: 'T1000.001', description: 'They shell.' }]);
    expect(group.software).toEqual(['S0001']);
  });

  it('resolves revoked IDs forward', () => {
    const old = knowledge.techniques.find((t) => t.id === 'T1064')!;
    expect(old).toMatchObject({ revoked: true, revokedBy: 'T1000' });
  });

  it('shows every kind of object by ID, name or alias, not only techniques and groups', () => {
    const index = new AttackIndex(knowledge);
    const found = (query: string) =>
      index.lookup(query).map((entry) => {
        const object =
          entry.kind === 'technique'
            ? entry.match.technique
            : entry.kind === 'data-component'
              ? entry.component
              : (entry as Record<string, unknown>)[entry.kind];
        return `${entry.kind}:${(object as { id: string }).id}`;
      });
    expect(found('S0001')).toEqual(['software:S0001']);
    expect(found('mallet')).toEqual(['software:S0001']);
    expect(found('M1000')).toEqual(['mitigation:M1000']);
    expect(found('restrict shells')).toEqual(['mitigation:M1000']);
    expect(found('C0001')).toEqual(['campaign:C0001']);
    expect(found('Anvil Night')).toEqual(['campaign:C0001']);
    expect(found('DC0032')).toEqual(['data-component:DC0032']);
    expect(found('Process: Process Creation')).toEqual(['data-component:DC0032']);
    expect(found('TA0002')).toEqual(['tactic:TA0002']);
    expect(found('APT99')).toEqual(['group:G0001']);
    expect(found('T1064')).toEqual(['technique:T1000']);
    expect(found('Shell')).toEqual(['technique:T1000.001']);
    expect(found('S0002')).toEqual([]);
    expect(knowledge.campaigns[0]).toMatchObject({
      groups: ['G0001'],
      techniques: [{ technique: 'T1000.001' }],
    });
  });

  it('searches every kind by name, alias and description, names first, and can keep to some kinds', () => {
    const index = new AttackIndex(knowledge);
    const hits = (text: string, kinds?: AttackKind[]) =>
      index.search(text, { kinds }).map((r) => `${r.entry.kind}:${r.id}`);
    expect(hits('shells')).toEqual([
      'technique:T1000.001',
      'mitigation:M1000',
      'software:S0001',
      'campaign:C0001',
    ]);
    expect(hits('mallet')).toEqual(['software:S0001']);
    expect(hits('anvil')).toEqual(['campaign:C0001']);
    expect(hits('shells', ['software', 'campaign'])).toEqual(['software:S0001', 'campaign:C0001']);
    expect(index.searchTechniques('shells').map((r) => r.technique.id)).toEqual(['T1000.001']);
  });

  it('rejects what is not a bundle with the reason', () => {
    expect(() => parseStixBundle('{"objects":', 'x.json')).toThrow(/not valid JSON/);
    expect(() => parseStixBundle('[]', 'x.json')).toThrow(/not a STIX bundle/);
  });
});

describe.skipIf(!hasContent)('ATT&CK v18.1 from the shared content', () => {
  let index: AttackIndex;
  let cacheDir: string;
  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'vigil-attack-'));
    index = loadAttack(attackSourceIn(contentPath('attack'), cacheDir));
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('holds the whole enterprise matrix', () => {
    expect(index.version).toBe('18.1');
    expect(index.tactics.map((t) => t.shortName)).toEqual([
      'reconnaissance',
      'resource-development',
      'initial-access',
      'execution',
      'persistence',
      'privilege-escalation',
      'defense-evasion',
      'credential-access',
      'discovery',
      'lateral-movement',
      'collection',
      'command-and-control',
      'exfiltration',
      'impact',
    ]);
    const active = index.activeTechniques();
    expect(active.filter((t) => !t.parent).length).toBeGreaterThan(200);
    expect(active.filter((t) => t.parent).length).toBeGreaterThan(400);
  });

  it('resolves T1218 by its former name "Signed Binary Proxy Execution"', () => {
    const [match] = index.resolveTechnique('Signed Binary Proxy Execution');
    expect(match).toMatchObject({
      technique: { id: 'T1218', name: 'System Binary Proxy Execution' },
      via: 'former-name',
    });
    expect(index.resolveTechnique('Indicator Removal on Host')[0]?.technique.id).toBe('T1070');
  });

  it('tolerates loose variants, parent-prefixed and ambiguous sub-technique names', () => {
    expect(index.resolveTechnique('Drive By Compromise')[0]?.technique.id).toBe('T1189');
    expect(index.resolveTechnique('phishing: spearphishing attachment')[0]?.technique.id).toBe('T1566.001');
    const domainAccounts = index.resolveTechnique('Domain Account').map((m) => m.technique.id);
    expect(domainAccounts).toEqual(expect.arrayContaining(['T1087.002', 'T1136.002']));
  });

  it('maps a revoked ID to its replacement and reports IDs it does not know', () => {
    const revoked = index.knowledge.techniques.find((t) => t.revoked && t.revokedBy)!;
    const [match] = index.resolveTechnique(revoked.id);
    expect(match?.via).toBe('revoked-id');
    expect(match?.technique.revoked).toBe(false);
    expect(index.resolveTechnique('T1686')).toEqual([]);
  });

  it('finds a group by alias with its techniques', () => {
    const [group] = index.groups('APT40');
    expect(group?.id).toBe('G0065');
    expect(group?.techniques.length).toBeGreaterThan(20);
    expect(group?.techniques.map((u) => u.technique)).toContain('T1190');
  });

  it('gives techniques data components, mitigations and detection text', () => {
    const powershell = index.technique('T1059.001')!;
    expect(powershell.dataComponents.length).toBeGreaterThan(0);
    expect(powershell.dataComponents.map((id) => index.dataComponent(id)?.name)).toContain(
      'Process Creation',
    );
    expect(powershell.mitigations.length).toBeGreaterThan(0);
    expect(powershell.detection.length).toBeGreaterThan(50);
  });

  it('finds software, mitigations, campaigns and data components by ID, and Hive where ATT&CK names it', () => {
    const ids = (query: string) =>
      index
        .lookup(query)
        .map((entry) => `${entry.kind}:${JSON.stringify(entry).match(/"id":"([^"]+)"/)![1]}`);
    expect(ids('S1070')).toEqual(['software:S1070']);
    expect(ids('Black Basta')).toEqual(['software:S1070']);
    expect(ids('M1038')).toEqual(['mitigation:M1038']);
    expect(ids('Execution Prevention')).toEqual(['mitigation:M1038']);
    expect(ids('C0017')).toEqual(['campaign:C0017']);
    expect(ids('DC0032')).toEqual(['data-component:DC0032']);
    expect(ids('Hive0065')).toEqual(['group:G0092']);
    const hive = index.search('Hive', { limit: 50 }).map((r) => r.id);
    expect(hive).toEqual(expect.arrayContaining(['G1053', 'S1162']));
    expect(index.search('black basta')[0]?.id).toBe('S1070');
    expect(index.lookup('S1070')[0]).toMatchObject({
      software: { description: expect.stringContaining('ransomware'), url: expect.stringContaining('S1070') },
    });
  });

  it('searches names before descriptions', () => {
    const [first] = index.searchTechniques('credential dumping');
    expect(first?.technique.id).toBe('T1003');
  });

  it('writes the index to its cache and reads it back the same', () => {
    expect(readdirSync(cacheDir).filter((f) => f.startsWith('attack-'))).toHaveLength(1);
    const again = loadAttack(attackSourceIn(contentPath('attack'), cacheDir));
    expect(again.knowledge).toEqual(index.knowledge);
  });
});
