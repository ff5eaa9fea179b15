import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VigilError } from '../../src/core/index.js';
import { AssetIndex, cvssFacts, importFindings, readAssets } from '../../src/vuln/index.js';

const sample = (name: string) => join(import.meta.dirname, 'samples', name);
const pick = (f: {
  asset: string;
  cve: string;
  port?: number;
  cvssVector?: string;
  exploitAvailable?: boolean;
}) => [f.asset, f.cve, f.port ?? null, f.cvssVector ?? null, f.exploitAvailable ?? null];
const dir = mkdtempSync(join(tmpdir(), 'vigil-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of a sample with its text changed, in a temporary folder. */
function variant(name: string, change: (text: string) => string, as = name): string {
  const file = join(dir, as);
  writeFileSync(file, change(readFileSync(sample(name), 'utf8')));
  return file;
}

/** The error importing a file throws (a VigilError), for its code and location. */
function refusal(file: string): VigilError {
  try {
    importFindings(file);
  } catch (error) {
    if (error instanceof VigilError) return error;
    throw error;
  }
  throw new Error(`${file} was imported`);
}

describe('scanner imports', () => {
  it('Nessus v2: hosts by FQDN with their address, one finding per CVE and plugin, informational plugins skipped, bad CVEs reported', () => {
    const result = importFindings(sample('scan.nessus'));
    expect(result.format).toBe('nessus');
    expect(result.findings.map(pick)).toEqual([
      ['mail.example.org', 'CVE-2021-34473', 443, 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', true],
      ['mail.example.org', 'CVE-2021-34523', 443, 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', true],
      ['10.0.0.21', 'CVE-2023-48795', 22, 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N', null],
    ]);
    expect(result.findings.map((f) => f.check)).toEqual(['150713', '150713', '187315']);
    expect(result.findings[0]!.address).toBe('203.0.113.10');
    expect(result.problems.map((p) => [p.message, p.location.line])).toEqual([
      ['"NOT-A-CVE" is not a CVE id', 38],
    ]);
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('Nessus: times come from HOST_START (ctime or epoch seconds), not from the import', () => {
    const result = importFindings(sample('scan.nessus'), new Date('2030-01-01T00:00:00Z'));
    expect(result.findings.map((f) => f.seenAt)).toEqual([
      '2026-11-24T10:01:40.000Z',
      '2026-11-24T10:01:40.000Z',
      '2026-11-24T10:21:40.000Z',
    ]);
    expect(result.scannedAt).toBe('2026-11-24T10:01:40.000Z');
  });

  it('Nessus: what a scan re-tests is its plugin set, on hosts scanned to the end, on the ports that answered', () => {
    const full = importFindings(sample('scan.nessus'));
    expect(full.checks).toEqual(['10180', '11219', '19506', '150713', '187315']);
    expect(full.coverage).toEqual([
      {
        asset: 'mail.example.org',
        scope: '',
        testedAt: '2026-11-24T10:01:40.000Z',
        complete: true,
        excluded: [],
        ports: [443],
        credentialed: false,
      },
      // The plugin with an unreadable CVE proves nothing by its silence on this host.
      {
        asset: '10.0.0.21',
        scope: '',
        testedAt: '2026-11-24T10:21:40.000Z',
        complete: true,
        excluded: ['187315'],
        ports: [22],
        credentialed: false,
      },
    ]);
    const discovery = importFindings(sample('discovery.nessus'));
    expect(discovery.findings).toEqual([]);
    expect(discovery.checks).toEqual(['10180', '11219', '19506']);

    const unfinished = importFindings(
      variant('scan.nessus', (t) => t.replace(/<tag name="HOST_END">.*<\/tag>\n/, '')),
    );
    expect(unfinished.coverage[0]).toMatchObject({ asset: 'mail.example.org', complete: false });
    expect(unfinished.notes).toEqual([
      '1 host(s) not scanned to the end (no HOST_END), nothing on them closes: mail.example.org',
    ]);
    const noPolicy = importFindings(
      variant('scan.nessus', (t) => t.replace(/<preference><name>plugin_set.*\n/, '')),
    );
    expect(noPolicy.coverage.every((c) => !c.complete)).toBe(true);
    expect(noPolicy.notes[0]).toMatch(
      /plugin set \(plugin_set\) is not in the file: this scan closes no finding/,
    );
  });

  it('Nessus: local plugins are told, and whether the scan logged in to each host', () => {
    const file = variant('scan.nessus', (t) =>
      t
        .replace(
          '<risk_factor>Critical</risk_factor>',
          '<risk_factor>Critical</risk_factor>\n<plugin_type>local</plugin_type>',
        )
        .replace(
          '<tag name="host-ip">203.0.113.10</tag>',
          '<tag name="host-ip">203.0.113.10</tag>\n<tag name="Credentialed_Scan">true</tag>',
        )
        .replace(
          '<tag name="host-ip">10.0.0.21</tag>',
          '<tag name="host-ip">10.0.0.21</tag>\n<tag name="Credentialed_Scan">true</tag>',
        )
        .replace(
          '<ReportItem port="22"',
          '<ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="21745" pluginName="OS Security Patch Assessment Failed" pluginFamily="Settings">\n</ReportItem>\n<ReportItem port="22"',
        ),
    );
    const result = importFindings(file);
    expect(result.findings.map((f) => [f.cve, f.local ?? false])).toEqual([
      ['CVE-2021-34473', true],
      ['CVE-2021-34523', true],
      ['CVE-2023-48795', false],
    ]);
    // Logged in to the mail server; on 10.0.0.21 the patch assessment failed despite the tag.
    expect(result.coverage.map((c) => [c.asset, c.credentialed])).toEqual([
      ['mail.example.org', true],
      ['10.0.0.21', false],
    ]);
  });

  it('Nessus: a cvss4_vector or a CVSS v2 vector is read when it is all the plugin has, the newest version first', () => {
    const file = variant('scan.nessus', (t) =>
      t
        .replace(
          '<cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>',
          '<cvss3_vector>CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</cvss3_vector>\n<cvss4_vector>CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N</cvss4_vector>',
        )
        .replace(
          '<cvss3_vector>CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N</cvss3_vector>',
          '<cvss_vector>CVSS2#AV:N/AC:M/Au:N/C:N/I:P/A:N</cvss_vector>',
        ),
    );
    expect(importFindings(file).findings.map((f) => f.cvssVector)).toEqual([
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
      'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
      'CVSS2#AV:N/AC:M/Au:N/C:N/I:P/A:N',
    ]);
  });

  it('OpenVAS/GVM: results with host, hostname, port, CVE references, v3 and v2 vectors, the task, the host times; a result without a host reported', () => {
    const result = importFindings(sample('openvas.xml'));
    expect(result.format).toBe('openvas');
    expect(result.findings.map(pick)).toEqual([
      ['www.example.org', 'CVE-2021-41773', 443, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', null],
      ['203.0.113.10', 'CVE-2017-0144', 445, 'av:n/ac:m/au:n/c:c/i:c/a:c', null],
    ]);
    expect(result.findings[0]).toMatchObject({
      address: '198.51.100.7',
      cvssScore: 7.5,
      scope: '7d0b8c1e-2222-4a51-8f00-00000000000a',
      check: '1.3.6.1.4.1.25623.1.0.117713',
      seenAt: '2026-11-24T09:00:05.000Z',
    });
    expect(result.coverage).toEqual([
      {
        asset: 'www.example.org',
        scope: '7d0b8c1e-2222-4a51-8f00-00000000000a',
        testedAt: '2026-11-24T09:00:05.000Z',
        complete: true,
        excluded: [],
        ports: [80, 443],
      },
      {
        asset: '203.0.113.10',
        scope: '7d0b8c1e-2222-4a51-8f00-00000000000a',
        testedAt: '2026-11-24T09:00:05.000Z',
        complete: true,
        excluded: [],
        ports: [443, 445],
      },
    ]);
    expect(result.problems.map((p) => p.message)).toEqual(['a result without a host']);
    expect(result.notes).toEqual([]);
  });

  it('OpenVAS: a stopped scan, a paged or filtered export, a report without its task, an unfinished host or a failed NVT re-test nothing', () => {
    const stopped = importFindings(variant('openvas.xml', (t) => t.replace('>Done<', '>Stopped<')));
    expect(stopped.coverage.map((c) => c.complete)).toEqual([false, false]);
    expect(stopped.findings).toHaveLength(2);
    expect(stopped.notes).toEqual(['the scan\'s status is "Stopped", not Done: it closes no finding']);
    const paged = importFindings(
      variant('openvas.xml', (t) =>
        t.replace('<full>3</full><filtered>3</filtered>', '<full>250</full><filtered>3</filtered>'),
      ),
    );
    expect(paged.coverage.map((c) => c.complete)).toEqual([false, false]);
    expect(paged.notes[0]).toMatch(
      /holds 3 of 250 results \(a filtered or paged export\): it closes no finding/,
    );
    const noTask = importFindings(variant('openvas.xml', (t) => t.replace(/<task id="[^"]+">/, '<task>')));
    expect(noTask.coverage.map((c) => c.complete)).toEqual([false, false]);
    const unfinished = importFindings(
      variant('openvas.xml', (t) => t.replace('<end>2026-11-24T09:52:40Z</end>', '<end></end>')),
    );
    expect(unfinished.coverage.map((c) => c.complete)).toEqual([true, false]);
    const failed = importFindings(
      variant('openvas.xml', (t) =>
        t.replace(
          '  </report>\n</report>',
          '    <errors><count>1</count><error><host>203.0.113.10<asset asset_id="a2"/></host><port>445/tcp</port><description>NVT timed out after 320 seconds.</description><nvt oid="1.3.6.1.4.1.25623.1.0.810676"><name>x</name></nvt></error></errors>\n  </report>\n</report>',
        ),
      ),
    );
    expect(failed.coverage[1]!.excluded).toEqual(['1.3.6.1.4.1.25623.1.0.810676']);
  });

  it('Trivy: the image, each CVE with its package and the newest vector (NVD first); GHSA-only entries skipped quietly; the time from CreatedAt', () => {
    const result = importFindings(sample('trivy.json'));
    expect(result.findings.map(pick)).toEqual([
      [
        'registry.example.org/shop/api:1.4.2',
        'CVE-2024-3094',
        null,
        'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
        null,
      ],
      ['registry.example.org/shop/api:1.4.2', 'CVE-2021-44228', null, null, null],
    ]);
    expect(result.findings[0]).toMatchObject({
      product: 'xz-utils 5.6.0-0.2',
      scope: 'os-pkgs',
      check: 'xz-utils',
      seenAt: '2026-11-25T06:00:00.123Z',
    });
    expect(result.findings[1]!.scope).toBe('lang-pkgs:app/package-lock.json');
    expect(result.coverage.map((c) => c.scope)).toEqual(['os-pkgs', 'lang-pkgs:app/package-lock.json']);
    expect(result.problems).toEqual([]);
  });

  it('Grype: the CVE from related vulnerabilities when the match is a GHSA; no CVE at all reported; the time from the descriptor', () => {
    const result = importFindings(sample('grype.json'));
    expect(result.findings.map(pick)).toEqual([
      [
        'registry.example.org/shop/worker:2.0',
        'CVE-2021-44228',
        null,
        'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
        null,
      ],
    ]);
    expect(result.findings[0]!.seenAt).toBe('2026-11-25T06:10:00.521Z');
    expect(result.problems.map((p) => p.location.field)).toEqual(['matches[1].vulnerability.id']);
  });

  it('CSV: quoted cells, case of CVE ids, and every bad row reported with its line and column while the rest imports', () => {
    const result = importFindings(sample('findings.csv'));
    expect(result.findings.map(pick)).toEqual([
      ['vpn.example.org', 'CVE-2023-46805', 443, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', true],
      ['files.example.org', 'CVE-2023-34362', 443, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', null],
      ['desk-18', 'CVE-2022-30190', null, 'CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', null],
    ]);
    expect(result.findings[1]!.product).toBe('MOVEit Transfer, web');
    expect(result.problems.map((p) => [p.location.line, p.location.column, p.location.field])).toEqual([
      [4, 1, 'asset'],
      [5, 2, 'cve'],
      [6, 4, 'port'],
    ]);
    expect(result.coverage).toEqual([]);
  });

  it('CSV: a first_seen that is not a date is refused with its line and column; dates are the scan time; status fixed is a re-test', () => {
    const file = join(dir, 'dated.csv');
    writeFileSync(
      file,
      [
        'asset,cve,first_seen,scanned_at,status',
        'a,CVE-2021-0001,2026-11-01,2026-11-20,',
        'a,CVE-2021-0002,last week,,',
        'a,CVE-2021-0003,2026-02-30,,',
        'a,CVE-2021-0004,,2026-11-20T08:00:00+02:00,fixed',
        'a,CVE-2021-0005,,,maybe',
      ].join('\n'),
    );
    const result = importFindings(file, new Date('2026-12-01T00:00:00Z'));
    expect(result.findings.map((f) => [f.cve, f.firstSeen ?? null, f.seenAt, f.present])).toEqual([
      ['CVE-2021-0001', '2026-11-01T00:00:00.000Z', '2026-11-20T00:00:00.000Z', true],
      ['CVE-2021-0004', null, '2026-11-20T06:00:00.000Z', false],
    ]);
    expect(result.problems.map((p) => [p.code, p.location.line, p.location.column, p.message])).toEqual([
      ['VULN_ENTRY', 3, 3, '"last week" is not a date (YYYY-MM-DD, or an ISO 8601 time)'],
      ['VULN_ENTRY', 4, 3, '"2026-02-30" is not a date (YYYY-MM-DD, or an ISO 8601 time)'],
      ['VULN_ENTRY', 6, 5, '"maybe" is not open or fixed'],
    ]);
  });

  it('duplicates within one file are reported with both places, not silently overwritten', () => {
    const file = join(dir, 'twice.csv');
    writeFileSync(
      file,
      'asset,cve,port\nweb,CVE-2021-0001,443\nweb,CVE-2021-0001,8443\nWEB,cve-2021-0001,443\n',
    );
    const result = importFindings(file);
    expect(result.findings.map((f) => [f.cve, f.port])).toEqual([
      ['CVE-2021-0001', 443],
      ['CVE-2021-0001', 8443],
    ]);
    expect(result.problems.map((p) => [p.code, p.location.line, p.message])).toEqual([
      [
        'VULN_DUPLICATE',
        4,
        `CVE-2021-0001 on web port 443 is listed twice (also at ${file}:2); the first is kept`,
      ],
    ]);
  });

  it('refuses what is no scan at all, naming the file', () => {
    expect(() => importFindings(sample('../ssvc.test.ts'))).toThrow(/CSV header must name an "asset" column/);
    expect(() => importFindings(join(import.meta.dirname, 'missing.nessus'))).toThrow(/cannot read the scan/);
  });
});

describe('a truncated or malformed scan is refused whole, with the line', () => {
  it('Nessus cut anywhere after its first host', () => {
    const text = readFileSync(sample('scan.nessus'), 'utf8');
    const lines = text.split('\n');
    // Cut after each line from the first host's end on: each copy is refused, never imported in part.
    for (let keep = lines.indexOf('</ReportHost>') + 1; keep < lines.length - 2; keep++) {
      const file = variant('scan.nessus', () => lines.slice(0, keep).join('\n'), `cut-${keep}.nessus`);
      const error = refusal(file);
      expect(error.code, `cut after line ${keep}`).toBe('VULN_INVALID');
      expect(error.message).toMatch(/the file ends inside <\w+> \(opened on line \d+\): it is truncated/);
      expect(error.location.line).toBeGreaterThan(0);
    }
    const midTag = refusal(
      variant('scan.nessus', (t) => t.slice(0, t.indexOf('<cve>CVE-2023-48795') + 7), 'mid.nessus'),
    );
    expect(midTag.message).toBe('the file ends inside <cve> (opened on line 39): it is truncated');
    expect(midTag.location.line).toBe(39);
  });

  it('OpenVAS cut short, a closing tag that does not match, text after the end', () => {
    const cut = refusal(variant('openvas.xml', (t) => t.slice(0, t.indexOf('<host><ip>198.51.100.7'))));
    expect(cut.message).toMatch(/ends inside <results> \(opened on line 9\)|ends inside <report>/);
    const mismatched = refusal(variant('openvas.xml', (t) => t.replace('</port>', '</portx>')));
    expect(mismatched.message).toMatch(/<port> opened on line 13 is not closed/);
    const trailing = refusal(variant('openvas.xml', (t) => `${t}<report/>`));
    expect(trailing.message).toMatch(/after the end of the document/);
  });

  it('JSON cut short, with the line and column where it ends', () => {
    const error = refusal(variant('trivy.json', (t) => t.slice(0, 400)));
    expect(error.code).toBe('VULN_INVALID');
    expect(error.message).toBe('the JSON ends early: the file is truncated');
    expect(error.location.line).toBeGreaterThan(10);
    expect(error.location.column).toBeGreaterThan(0);
  });

  it('a Trivy report whose results are not a list, or that names no artifact', () => {
    expect(
      refusal(variant('trivy.json', (t) => t.replace('"Results": [', '"Results": [[], '))),
    ).toMatchObject({
      code: 'VULN_INVALID',
      location: { field: 'Results' },
    });
    expect(refusal(variant('trivy.json', (t) => t.replace('"ArtifactName"', '"Artifact"'))).message).toMatch(
      /without ArtifactName/,
    );
  });

  it('CSV with a quote left open, or a row cut short', () => {
    const open = join(dir, 'open.csv');
    writeFileSync(open, 'asset,cve,product\nweb,CVE-2021-0001,"Apache, httpd\nweb,CVE-2021-0002,nginx\n');
    expect(refusal(open)).toMatchObject({ code: 'VULN_INVALID', location: { line: 2 } });
    const short = join(dir, 'short.csv');
    writeFileSync(short, 'asset,cve,product\nweb,CVE-2021-0001,httpd\nweb,CVE-20');
    expect(refusal(short)).toMatchObject({ code: 'VULN_INVALID', location: { line: 3 } });
    expect(refusal(short).message).toMatch(/2 cells where the header has 3: the file is cut short/);
  });
});

describe('CVSS vectors', () => {
  it('scores 2.0, 3.x and 4.0 and derives automatable and technical impact', () => {
    expect(cvssFacts('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toMatchObject({
      score: 9.8,
      automatable: true,
      totalImpact: true,
      remoteCodeExecution: true,
      denialOfService: true,
    });
    expect(cvssFacts('CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H')).toMatchObject({
      score: 7.8,
      automatable: false,
      totalImpact: true,
      remoteCodeExecution: false,
    });
    expect(cvssFacts('CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N')).toMatchObject({
      score: 5.9,
      automatable: false,
      totalImpact: false,
    });
    expect(cvssFacts('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toMatchObject({
      score: 9.3,
      automatable: true,
      totalImpact: true,
    });
    expect(cvssFacts('CVSS:3.1/AV:N')).toBeUndefined();
    expect(cvssFacts('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q')).toBeUndefined();
  });

  it('reads CVSS v2 as NVD, Nessus and OpenVAS write it (CVE-2017-0144: network, medium complexity, complete impact)', () => {
    const eternalBlue = { version: '2.0', score: 9.3, automatable: false, totalImpact: true };
    for (const vector of [
      'AV:N/AC:M/Au:N/C:C/I:C/A:C',
      '(AV:N/AC:M/Au:N/C:C/I:C/A:C)',
      'CVSS2#AV:N/AC:M/Au:N/C:C/I:C/A:C',
      'CVSS:2.0/AV:N/AC:M/Au:N/C:C/I:C/A:C',
      'av:n/ac:m/au:n/c:c/i:c/a:c',
    ])
      expect(cvssFacts(vector), vector).toMatchObject(eternalBlue);
    expect(cvssFacts('AV:N/AC:L/Au:N/C:P/I:P/A:P')).toMatchObject({
      score: 7.5,
      automatable: true,
      totalImpact: false,
    });
    expect(cvssFacts('AV:N/AC:L')).toBeUndefined();
  });

  it('reads vectors whatever their case', () => {
    expect(cvssFacts('cvss:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h')).toMatchObject({
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      score: 9.8,
      automatable: true,
    });
    expect(cvssFacts('cvss:4.0/av:n/ac:l/at:n/pr:n/ui:n/vc:h/vi:h/va:h/sc:n/si:n/sa:n')).toMatchObject({
      score: 9.3,
    });
  });
});

describe('asset inventories', () => {
  it('reads quoted CSV cells, and reports a host listed twice instead of failing the import', () => {
    const file = join(dir, 'assets.csv');
    writeFileSync(
      file,
      'hostname,addresses,public_facing,criticality,owner\nweb1,10.0.0.1,yes,high,"Web, team"\nWEB1,10.0.0.2,no,low,x\n',
    );
    const { assets, problems } = readAssets(file);
    expect(assets.assets).toHaveLength(1);
    expect(assets.find('web1').asset).toMatchObject({ owner: 'Web, team', criticality: 'high' });
    expect(problems.map((p) => [p.message, p.location.line])).toEqual([
      ['"WEB1" is listed already; the first entry is kept', 3],
    ]);
  });

  it('matches short names both ways, and reports ambiguity instead of guessing', () => {
    const asset = (hostname: string, addresses: string[] = []) => ({
      hostname,
      addresses,
      publicFacing: false,
      criticality: 'medium' as const,
      tags: [],
    });
    const index = new AssetIndex([asset('mail.example.org', ['203.0.113.10']), asset('db'), asset('10')]);
    expect(index.find('mail').asset?.hostname).toBe('mail.example.org');
    expect(index.find('MAIL.example.org').asset?.hostname).toBe('mail.example.org');
    expect(index.find('db.corp.example').asset?.hostname).toBe('db');
    expect(index.find('host-x', '203.0.113.10').asset?.hostname).toBe('mail.example.org');
    // Two full names never meet by their first label; addresses and images have no short name.
    expect(index.find('mail.corp.example').asset).toBeUndefined();
    expect(index.find('10.1.2.3').asset).toBeUndefined();
    expect(index.find('db:5432/x').asset).toBeUndefined();
    const twice = new AssetIndex([asset('mail.example.org'), asset('mail.corp.example')]);
    expect(twice.find('mail').asset).toBeUndefined();
    expect(twice.find('mail').ambiguous?.map((a) => a.hostname)).toEqual([
      'mail.example.org',
      'mail.corp.example',
    ]);
  });
});
