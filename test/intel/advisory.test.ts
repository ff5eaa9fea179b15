import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackIndex, attackSourceIn, loadAttack } from '../../src/attack/index.js';
import { type KevCatalog, readKevCatalog } from '../../src/content/index.js';
import {
  type Advisory,
  advisoryDate,
  analyzeAdvisory,
  decodeAdvisory,
  htmlText,
  patternIndicators,
  readLolbas,
  readWarningLists,
  TechniqueExtractor,
  WarningListIndex,
  WindowsBinaries,
} from '../../src/intel/index.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { makePdf } from './pdf.js';

describe.skipIf(!hasContent)('LOLBAS', () => {
  it('reads every entry of the shared copy, with names, aliases and install folders', () => {
    const entries = readLolbas(contentPath('lolbas'));
    expect(entries.length).toBeGreaterThanOrEqual(240);
    const binaries = new WindowsBinaries(contentPath('lolbas'));
    expect(binaries.lookup('WMIC.EXE')).toMatchObject({ name: 'Wmic.exe', source: 'lolbas' });
    expect(binaries.lookup('procdump64.exe')?.source).toBe('lolbas');
    expect(binaries.atHome('C:\\Windows\\SysWOW64\\wbem\\WMIC.exe')?.name).toBe('Wmic.exe');
    expect(binaries.atHome('C:\\Users\\Public\\wmic.exe')).toBeUndefined();
  });

  it('reports an entry it cannot read and keeps the others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-lolbas-'));
    mkdirSync(join(dir, 'yml', 'OSBinaries'), { recursive: true });
    writeFileSync(
      join(dir, 'yml', 'OSBinaries', 'Good.yml'),
      'Name: Good.exe\nFull_Path:\n  - Path: C:\\Windows\\System32\\good.exe\n',
    );
    writeFileSync(join(dir, 'yml', 'OSBinaries', 'Bad.yml'), 'Name: [unclosed\n');
    writeFileSync(join(dir, 'yml', 'OSBinaries', 'Nameless.yml'), 'Description: no name\n');
    const problems: string[] = [];
    const entries = readLolbas(dir, (problem) => problems.push(`${problem.code} ${problem.location.file}`));
    expect(entries.map((e) => e.names[0])).toEqual(['Good.exe']);
    expect(problems.sort()).toEqual([
      `LOLBAS_INVALID ${join(dir, 'yml', 'OSBinaries', 'Bad.yml')}`,
      `LOLBAS_INVALID ${join(dir, 'yml', 'OSBinaries', 'Nameless.yml')}`,
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('reading advisories', () => {
  it('reads the visible text of HTML, without scripts, styles or the head', () => {
    const { title, body } = htmlText(
      '<html><head><title>AA99 &amp; more</title><style>p{}</style></head><body><script>alert(1)</script>' +
        '<h1>Heading</h1><p>First <b>bold</b> paragraph.</p><table><tr><td>T1059</td><td>PowerShell</td></tr></table></body></html>',
    );
    expect(title).toBe('AA99 & more');
    expect(body).toContain('First bold paragraph.');
    expect(body).toContain('T1059');
    expect(body).not.toContain('alert');
    expect(body).not.toContain('p{}');
  });

  it('leaves out the site around the article: navigation, footer, side bars and buttons', () => {
    const { body } = htmlText(
      '<html><body><form><nav><a href="/">Home</a> Subscribe to alerts</nav><article><h1>AA99</h1>' +
        '<p>The actors used evil[.]com.</p><aside>Related: other advisories</aside></article>' +
        '<button>Sign up</button><footer>Contact us at central@cisa.gov</footer></form></body></html>',
    );
    expect(body).toBe('AA99\nThe actors used evil[.]com.');
  });

  it('reads the text layer of a PDF, page by page', async () => {
    const pdf = makePdf([
      ['Joint advisory', 'The actors used T1059.001 and evil[.]com.'],
      ['Second page: CVE-2021-44228'],
    ]);
    const document = await decodeAdvisory(pdf, 'advisory.pdf');
    expect(document.kind).toBe('pdf');
    expect(document.text).toContain('T1059.001');
    expect(document.text).toContain('CVE-2021-44228');
  });

  it('refuses what is not an advisory with a clear reason', async () => {
    await expect(decodeAdvisory(Buffer.alloc(0), 'empty.txt')).rejects.toThrow(/empty/);
    await expect(decodeAdvisory(Buffer.from('  \n\t '), 'blank.txt')).rejects.toThrow(/empty/);
    await expect(
      decodeAdvisory(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0, 0]), 'a.bin'),
    ).rejects.toThrow(/binary/);
    await expect(
      decodeAdvisory(Buffer.from('<html><body><script>x()</script></body></html>'), 'a.html'),
    ).rejects.toThrow(/no text/);
    await expect(decodeAdvisory(Buffer.from('{"type": "bundle", "objects": ['), 'a.json')).rejects.toThrow(
      /not valid JSON/,
    );
    await expect(decodeAdvisory(Buffer.from('%PDF-1.4 garbage'), 'a.pdf')).rejects.toThrow(/PDF/);
  });

  it('reads indicators from STIX patterns and checks their values', () => {
    const found = patternIndicators(
      "[ipv4-addr:value = '198.51.100.7'] OR [file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'] OR [domain-name:value = 'not a domain']",
    );
    expect(found.map((i) => [i.type, i.value])).toEqual([
      ['ipv4', '198.51.100.7'],
      ['sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ]);
  });

  it('finds the date an advisory carries', () => {
    expect(
      advisoryDate('Alert (AA21-076A)\nOriginal release date: March 17, 2021\nLast revised: May 01, 2021'),
    ).toBe('2021-03-17');
    expect(advisoryDate('Published 2022-11-17 by CISA')).toBe('2022-11-17');
    expect(advisoryDate('Report of 28 November 2022 on Emotet')).toBe('2022-11-28');
    expect(advisoryDate('No date here, version 1.2')).toBeUndefined();
    expect(advisoryDate('Released February 30, 2021')).toBeUndefined();
  });
});

describe.skipIf(!hasContent)('analysing advisories with ATT&CK v18.1 and KEV', () => {
  let attack: AttackIndex;
  let extractor: TechniqueExtractor;
  let kev: KevCatalog;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-advisory-'));
    attack = loadAttack(attackSourceIn(contentPath('attack'), dir));
    extractor = new TechniqueExtractor(attack);
    kev = readKevCatalog(contentPath('kev', 'known_exploited_vulnerabilities.json'));
    // Indexing ATT&CK takes seconds, more on a busy machine.
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const analyze = async (text: string, source = 'a.txt'): Promise<Advisory> =>
    analyzeAdvisory(await decodeAdvisory(Buffer.from(text), source), {
      attack,
      extractor,
      kev,
      now: new Date('2026-11-27T00:00:00Z'),
    });

  it('finds explicit IDs with their sentence, maps revoked IDs forward and ignores unknown ones', async () => {
    const revoked = attack.knowledge.techniques.find((t) => t.revoked && t.revokedBy && !t.id.includes('.'))!;
    const advisory = await analyze(
      `The actors ran scripts (T1059.001).\nThey also used ${revoked.id}.\nSee T1686 too.`,
    );
    const powershell = advisory.techniques.find((t) => t.id === 'T1059.001');
    expect(powershell).toMatchObject({ confidence: 1, evidence: ['The actors ran scripts (T1059.001).'] });
    expect(advisory.techniques.map((t) => t.id)).toContain(attack.followRevocation(revoked).id);
    expect(advisory.techniques.map((t) => t.id)).not.toContain('T1686');
  });

  it('finds techniques by former and loose names, also run together in scraped tables', async () => {
    const advisory = await analyze(
      'Technique Title\nSigned Binary Proxy Execution\nIndicator Removal on Host\nDrive By Compromise\nExploiting Public-Facing Application\nActive ScanningGather Victim Network Information',
    );
    const ids = advisory.techniques.map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining(['T1218', 'T1070', 'T1189', 'T1190', 'T1595', 'T1590']));
  });

  it('finds names a PDF ran together with the next cell, in singular or older wording, and IDs glued to them', async () => {
    const pdf = makePdf([
      [
        'Tactic Technique',
        'Discovery File and Directory DiscoveryPermission Group Discovery',
        'Defense Evasion Indicator Removal on HostT1070.004',
        'Lateral Movement Remote ServiceSMB/Windows Admin Share',
        'Persistence Scheduled TaskBoot or Logon Autostart Execution',
      ],
    ]);
    const advisory = analyzeAdvisory(await decodeAdvisory(pdf, 'table.pdf'), { attack, extractor });
    const ids = advisory.techniques.map((t) => t.id);
    expect(ids).toEqual(
      expect.arrayContaining(['T1083', 'T1069', 'T1070.004', 'T1021', 'T1021.002', 'T1053.005', 'T1547']),
    );
  });

  it('finds a name that stopwords would shorten only with all its words', async () => {
    // Every name found, however faintly.
    const named = async (text: string) =>
      analyzeAdvisory(await decodeAdvisory(Buffer.from(text), 'a.txt'), {
        attack,
        extractor,
        minConfidence: 0.01,
      })
        .techniques.filter((t) => t.signals.includes('name'))
        .map((t) => t.id);
    expect(await named('Permission Groups Discovery\nLocal Groups\nAdversary-in-the-Middle')).toEqual(
      expect.arrayContaining(['T1069.001', 'T1557']),
    );
    // "Local Groups" is not "local", nor "Adversary-in-the-Middle" "middle".
    expect(await named('ping COMPUTER.REDACTED.local')).toEqual([]);
    expect(await named('Report it to the local field office in the middle of the week.')).toEqual([]);
  });

  it('takes no evidence from marketing, reporting instructions, references or disclaimers', async () => {
    const read = async (id: string) =>
      analyze(readFileSync(contentPath('..', 'datasets', 'advisories', `${id}.txt`), 'utf8'));
    const evidence = (advisory: Advisory) => advisory.techniques.flatMap((t) => t.evidence);
    const basta = evidence(await read('unit42-black-basta'));
    expect(basta.filter((e) => /Get updates|Sign up|helps detect and prevent|get in touch/.test(e))).toEqual(
      [],
    );
    const hive = evidence(await read('cisa-aa22-321a'));
    expect(
      hive.filter((e) =>
        /Email addresses of the attackers|report the incident|do not encourage paying|Visit stopransomware/.test(
          e,
        ),
      ),
    ).toEqual([]);
    // An ID the authors wrote stays theirs wherever it stands: TrickBot's revision note adds T1592.003.
    const trickbot = await read('cisa-aa21-076a');
    expect(trickbot.techniques.find((t) => t.id === 'T1592.003')?.signals).toEqual(['id']);
  });

  it('finds a technique that is only described', async () => {
    const advisory = await analyze(
      'The ransomware deletes all volume shadow copies with vssadmin.exe delete shadows /all /quiet and disables Windows recovery with bcdedit so that victims cannot restore their files.',
    );
    expect(advisory.techniques[0]?.id).toBe('T1490');
    expect(advisory.techniques[0]?.signals).toContain('behaviour');
  });

  it('takes nothing from the machine text a report quotes: configurations, YARA, Snort and Sigma rules', async () => {
    const quoted = [
      'The beacon configuration:',
      ' "ssh": {',
      ' "proxy": {',
      ' "dns-beacon": {',
      'rule Beacon_Loader {',
      '  meta:',
      '    description = "Loader that deletes shadow copies with vssadmin"',
      '  strings:',
      '    $s1 = "vssadmin.exe delete shadows /all /quiet"',
      '  condition:',
      'alert tcp any any -> any $HTTP_PORTS (msg:"Remote Desktop Protocol brute force"; sid:1;)',
      'detection:',
      '  selection_img:',
      '    Image|endswith: vssadmin.exe',
    ].join('\n');
    expect((await analyze(quoted)).techniques).toEqual([]);
    // The same words in the report's own prose still count.
    const prose = `${quoted}\nThe actors deleted all volume shadow copies with vssadmin.exe delete shadows /all /quiet so that victims could not restore their files.`;
    expect((await analyze(prose)).techniques[0]?.id).toBe('T1490');
  });

  it('still reads prose and attacker commands that only look like keys, and IDs anywhere', async () => {
    const ids = async (text: string) => (await analyze(text)).techniques.map((t) => t.id);
    expect(
      await ids(
        '- vssadmin.exe: the actors deleted all volume shadow copies so that victims could not restore their files.',
      ),
    ).toContain('T1490');
    expect(await ids('$cmd = "vssadmin.exe delete shadows /all /quiet"')).toContain('T1490');
    expect(await ids(' "ssh": {\n "technique": "T1486",\n "proxy": null')).toContain('T1486');
  });

  it('names the ATT&CK software a report is about, and adds what ATT&CK records it doing as leads', async () => {
    const trickbot = attack.knowledge.software.find((s) => s.name === 'TrickBot')!;
    const text =
      'TrickBot infections rose this month. The TrickBot operators sell access; TrickBot-infected hosts ' +
      'leak data. Emotet dropped it once. Trickbotting and trickbot are not names of it.\n' +
      'TrickBot creates a scheduled task with schtasks.exe that runs it every few minutes, so it starts again after a reboot.';
    const advisory = await analyze(text);
    expect(advisory.actors[0]).toEqual({
      id: trickbot.id,
      name: 'TrickBot',
      kind: 'software',
      mentions: 4,
      salient: true,
      subject: true,
    });
    expect(advisory.actors).toContainEqual({
      id: 'S0367',
      name: 'Emotet',
      kind: 'software',
      mentions: 1,
      salient: false,
      subject: false,
    });
    expect(advisory.actors.filter((a) => a.salient)).toHaveLength(1);
    const byId = new Map(advisory.techniques.map((t) => [t.id, t]));
    // Known for it, never shown by the text: a lead at a fixed confidence, with no sentence to quote.
    const lead = trickbot.techniques.map((u) => byId.get(u.technique)).find((t) => t?.signals.length === 1)!;
    expect(lead).toMatchObject({
      confidence: 0.5,
      signals: ['known-use'],
      evidence: [],
      knownUse: [{ id: trickbot.id, name: 'TrickBot' }],
    });
    // Evidence is only ever the report's own sentences.
    const sentences = text.split(/\n|(?<=\.) /);
    for (const t of advisory.techniques)
      for (const e of t.evidence) expect(sentences.some((x) => x.includes(e) || e.includes(x))).toBe(true);
    // Shown by the text and known for it: surer than the text alone.
    const alone = await analyze(text.replaceAll('TrickBot', 'The malware'));
    const shown = alone.techniques.find((t) => t.id === 'T1053.005')!;
    expect(alone.actors.filter((a) => a.salient)).toEqual([]);
    expect(alone.techniques.every((t) => !t.signals.includes('known-use'))).toBe(true);
    expect(trickbot.techniques.map((u) => u.technique)).toContain('T1053.005');
    expect(shown.signals).toContain('behaviour');
    expect(byId.get('T1053.005')!.signals).toEqual([...shown.signals, 'known-use']);
    expect(shown.confidence).toBeLessThan(1);
    expect(byId.get('T1053.005')!.confidence).toBeGreaterThan(shown.confidence);
    // However faint the text's own hint, known use by the subject never makes a technique less sure.
    for (const u of trickbot.techniques) {
      const t = byId.get(u.technique);
      if (t) expect(t.confidence).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('counts the longest name at each place, and a name two actors share for both', async () => {
    const named = async (text: string) =>
      (await analyze(text)).actors.map((a) => `${a.id} ${a.mentions}${a.subject ? ' subject' : ''}`);
    // "Emissary Panda" (a group) holds "Emissary" (a malware): only the group is named.
    const panda = attack.knowledge.groups.find((g) => g.aliases.includes('Emissary Panda'))!;
    expect(await named('Emissary Panda phished. Emissary Panda moved. Emissary Panda stole data.')).toEqual([
      `${panda.id} 3 subject`,
    ]);
    // A group and its ransomware of one name are one subject.
    const akira = [...attack.knowledge.groups, ...attack.knowledge.software].filter(
      (a) => a.name === 'Akira',
    );
    expect(akira.length).toBe(2);
    expect(await named('Akira encrypted files. Akira left notes. Akira asked for money.')).toEqual(
      akira.map((a) => `${a.id} 3 subject`).sort(),
    );
  });

  it('takes no subject when two actors are named about as often', async () => {
    const advisory = await analyze(
      'Emotet loaded Cobalt Strike. Emotet spread by mail, Cobalt Strike moved laterally. Emotet and Cobalt Strike beacons were seen.',
    );
    expect(advisory.actors.filter((a) => a.salient).map((a) => a.name)).toEqual(['Cobalt Strike', 'Emotet']);
    expect(advisory.techniques.filter((t) => t.signals.join() === 'known-use')).toEqual([]);
  });

  it('flags CVEs with their KEV status and gives mitigations named or implied', async () => {
    const advisory = await analyze(
      'The actors exploited CVE-2021-34473 and CVE-1999-0001 on Exchange servers.\nMitigations: enforce multi-factor authentication and network segmentation.',
    );
    expect(advisory.cves.find((c) => c.id === 'CVE-2021-34473')).toMatchObject({
      kev: true,
      kevDateAdded: '2021-11-03',
    });
    expect(advisory.cves.find((c) => c.id === 'CVE-1999-0001')).toMatchObject({ kev: false });
    const named = advisory.mitigations.filter((m) => m.mentioned).map((m) => m.id);
    expect(named).toEqual(expect.arrayContaining(['M1032', 'M1030']));
  });

  it('reads a STIX 2.1 bundle: attack patterns, indicators, vulnerabilities, courses of action', async () => {
    const bundle = {
      type: 'bundle',
      id: 'bundle--1',
      objects: [
        {
          type: 'report',
          id: 'report--1',
          name: 'Test report',
          description: 'Actors used spearphishing attachments and persisted under HKLM\\Software\\Evil\\Run.',
        },
        {
          type: 'attack-pattern',
          id: 'attack-pattern--1',
          name: 'PowerShell',
          external_references: [{ source_name: 'mitre-attack', external_id: 'T1059.001' }],
        },
        {
          type: 'indicator',
          id: 'indicator--1',
          pattern: "[url:value = 'http://evil.com/x']",
          valid_from: '2020-01-01T00:00:00Z',
        },
        {
          type: 'indicator',
          id: 'indicator--2',
          pattern: "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Evil\\\\Run']",
          valid_from: '2020-01-01T00:00:00Z',
        },
        { type: 'vulnerability', id: 'vulnerability--1', name: 'CVE-2021-44228' },
        { type: 'course-of-action', id: 'course-of-action--1', name: 'Multi-factor Authentication' },
      ],
    };
    const advisory = await analyze(JSON.stringify(bundle), 'bundle.json');
    expect(advisory.kind).toBe('stix');
    expect(advisory.title).toBe('Test report');
    expect(advisory.techniques[0]).toMatchObject({ id: 'T1059.001', confidence: 1 });
    expect(advisory.indicators.find((i) => i.type === 'url')).toMatchObject({
      value: 'http://evil.com/x',
      actionable: false,
    });
    // The same key, long hive name in the pattern and short in the prose, is one indicator.
    expect(advisory.indicators.filter((i) => i.type === 'registry').map((i) => i.value)).toEqual([
      'HKEY_LOCAL_MACHINE\\Software\\Evil\\Run',
    ]);
    expect(advisory.cves[0]).toMatchObject({ id: 'CVE-2021-44228', kev: true });
    expect(advisory.mitigations.find((m) => m.id === 'M1032')?.mentioned).toBe(true);
  });

  it('keeps Windows binaries named as what the actors ran, with the techniques they show, not as indicators', async () => {
    const binaries = new WindowsBinaries(contentPath('lolbas'));
    const text = readFileSync(contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'), 'utf8');
    const advisory = analyzeAdvisory(await decodeAdvisory(Buffer.from(text), 'hive.txt'), {
      attack,
      extractor,
      binaries,
    });
    const files = advisory.indicators.filter((i) => i.type === 'filename').map((i) => i.value);
    expect(files).toContain('hive.bat');
    for (const name of ['wmic.exe', 'vssadmin.exe', 'bcdedit.exe', 'wevtutil.exe'])
      expect(files).not.toContain(name);
    const tools = new Map(advisory.tools.map((t) => [t.name, t]));
    expect([...tools.keys()].sort()).toEqual(['bcdedit.exe', 'vssadmin.exe', 'wevtutil.exe', 'wmic.exe']);
    // wmic.exe is in LOLBAS; the others are Windows binaries LOLBAS does not list.
    expect(tools.get('wmic.exe')).toMatchObject({
      source: 'lolbas',
      context: expect.arrayContaining(['wmic.exe shadowcopy delete']),
    });
    expect(tools.get('vssadmin.exe')).toMatchObject({ source: 'windows', techniques: ['T1490'] });
    expect(advisory.techniques.find((t) => t.id === 'T1490')?.tools).toContain('vssadmin.exe');
  });

  it('tells a Windows binary at home from one elsewhere, and dual-use tools and standard keys from indicators', async () => {
    const psexec = attack.knowledge.software.find((s) => s.name === 'PsExec')!;
    const advisory = await analyze(
      [
        'The actors ran C:\\Windows\\System32\\svchost.exe',
        'and dropped C:\\ProgramData\\svchost.exe.',
        'They copied PsExec64.exe and System.Management.Automation.dll to the host.',
        'They changed HKLM\\SYSTEM\\CurrentControlSet\\Services',
        'adding HKLM\\SYSTEM\\CurrentControlSet\\Services\\EvilSvc.',
      ].join('\n'),
    );
    const verdict = (value: string) => advisory.indicators.find((i) => i.value === value);
    expect(advisory.tools.map((t) => t.name).sort()).toEqual([
      'System.Management.Automation.dll',
      'svchost.exe',
    ]);
    expect(verdict('C:\\ProgramData\\svchost.exe')).toMatchObject({
      type: 'path',
      actionable: true,
      confidence: 'high',
    });
    expect(verdict('PsExec64.exe')).toMatchObject({
      actionable: true,
      confidence: 'medium',
      reason: expect.stringContaining(`ATT&CK ${psexec.id} PsExec`),
    });
    expect(verdict('HKLM\\SYSTEM\\CurrentControlSet\\Services')).toMatchObject({
      actionable: false,
      confidence: 'high',
    });
    expect(verdict('HKLM\\SYSTEM\\CurrentControlSet\\Services\\EvilSvc')?.actionable).toBe(true);
  });

  it("sets apart the publisher's own addresses and the links only its references and contact text give", async () => {
    const text = [
      'Technical Details',
      'The actors exfiltrated data to files.evil-share.net and staged tools at https://evil-share.net/t.zip.',
      'For more information, see https://www.vendor-blog.com/research/earlier-report.',
      'Report incidents to soc@examplecert.org or call us.',
      'References',
      'https://www.vendor-blog.com/research/another-report',
      'https://evil-share.net/t.zip',
    ].join('\n');
    const advisory = analyzeAdvisory(
      await decodeAdvisory(Buffer.from(text), 'https://research.examplecert.org/advisories/aa99'),
      { attack, extractor },
    );
    const verdict = (value: string) => advisory.indicators.find((i) => i.value === value);
    expect(verdict('soc@examplecert.org')).toMatchObject({ actionable: false, confidence: 'high' });
    expect(verdict('files.evil-share.net')?.actionable).toBe(true);
    // Named in the account too: the references do not take it away.
    expect(verdict('https://evil-share.net/t.zip')?.actionable).toBe(true);
    expect(verdict('https://www.vendor-blog.com/research/earlier-report')).toMatchObject({
      actionable: false,
      reason: expect.stringMatching(/only in the advisory's references/),
    });
    expect(verdict('https://www.vendor-blog.com/research/another-report')?.actionable).toBe(false);
  });

  it('keeps the actor addresses of the Hive advisory that a VPN list holds, and none of its boilerplate', async () => {
    const warningLists = new WarningListIndex(readWarningLists(contentPath('warninglists')));
    const text = readFileSync(contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'), 'utf8');
    const advisory = analyzeAdvisory(await decodeAdvisory(Buffer.from(text), 'hive.txt'), {
      attack,
      extractor,
      warningLists,
    });
    const addresses = advisory.indicators.filter((i) => i.type === 'ipv4');
    expect(addresses).toHaveLength(24);
    expect(addresses.every((a) => a.actionable)).toBe(true);
    const listed = addresses.filter((a) => /MISP warning list "Specialized list of vpn-ipv4/.test(a.reason));
    expect(listed.length).toBeGreaterThanOrEqual(18);
    expect(listed.every((a) => a.confidence === 'medium')).toBe(true);
    const boilerplate = advisory.indicators.filter((i) =>
      ['stopransomware.gov', 'report@cisa.gov'].includes(i.value),
    );
    expect(boilerplate.map((i) => [i.value, i.actionable])).toEqual([
      ['stopransomware.gov', false],
      ['report@cisa.gov', false],
    ]);
  });

  it('reads the Hive advisory: its ten cited techniques, its CVEs in KEV, its indicators', async () => {
    const text = readFileSync(contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.txt'), 'utf8');
    const advisory = await analyze(text);
    const truth = JSON.parse(
      readFileSync(contentPath('..', 'datasets', 'advisories', 'cisa-aa22-321a.json'), 'utf8'),
    );
    const ids = advisory.techniques.map((t) => t.id);
    expect(ids).toEqual(expect.arrayContaining(truth.techniques_cited_in_body));
    expect(advisory.cves.length).toBeGreaterThanOrEqual(4);
    expect(advisory.cves.every((c) => c.kev === true)).toBe(true);
    expect(advisory.indicators.some((i) => i.type === 'domain' && i.value === 'asq.d6shiiwz.pw')).toBe(true);
  });
});
