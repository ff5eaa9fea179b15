import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cvssFacts, importFindings, readAssets } from '../../src/vuln/index.js';

const sample = (name: string) => join(import.meta.dirname, 'samples', name);
const pick = (f: {
  asset: string;
  cve: string;
  port?: number;
  cvssVector?: string;
  exploitAvailable?: boolean;
}) => [f.asset, f.cve, f.port ?? null, f.cvssVector ?? null, f.exploitAvailable ?? null];

describe('scanner imports', () => {
  it('Nessus v2: hosts by FQDN with their address, one finding per CVE, informational plugins skipped, bad CVEs reported', () => {
    const result = importFindings(sample('scan.nessus'));
    expect(result.format).toBe('nessus');
    expect(result.findings.map(pick)).toEqual([
      ['mail.example.org', 'CVE-2021-34473', 443, 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', true],
      ['mail.example.org', 'CVE-2021-34523', 443, 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', true],
      ['10.0.0.21', 'CVE-2023-48795', 22, 'CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N', null],
    ]);
    expect(result.findings[0]!.address).toBe('203.0.113.10');
    expect(result.problems.map((p) => [p.message, p.location.line])).toEqual([
      ['"NOT-A-CVE" is not a CVE id', 30],
    ]);
  });

  it('OpenVAS/GVM: results with host, hostname, port, CVE references and the CVSS v3 vector; a result without a host reported', () => {
    const result = importFindings(sample('openvas.xml'));
    expect(result.format).toBe('openvas');
    expect(result.findings.map(pick)).toEqual([
      ['www.example.org', 'CVE-2021-41773', 443, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', null],
    ]);
    expect(result.findings[0]).toMatchObject({ address: '198.51.100.7', cvssScore: 7.5 });
    // Scanned hosts, so that a later scan without a finding marks it fixed.
    expect(result.scannedAssets).toContain('www.example.org');
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toMatch(/without a host/);
  });

  it('Trivy: the image, each CVE with its package and NVD vector first; GHSA-only entries skipped quietly', () => {
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
    expect(result.findings[0]!.product).toBe('xz-utils 5.6.0-0.2');
    expect(result.problems).toEqual([]);
  });

  it('Grype: the CVE from related vulnerabilities when the match is a GHSA; no CVE at all reported', () => {
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
    expect(result.problems.map((p) => [p.location.line, p.location.field])).toEqual([
      [4, 'asset'],
      [5, 'cve'],
      [6, 'port'],
    ]);
  });

  it('refuses what is no scan at all, naming the file', () => {
    expect(() => importFindings(sample('../ssvc.test.ts'))).toThrow(/CSV header must name an "asset" column/);
    expect(() => importFindings(join(import.meta.dirname, 'missing.nessus'))).toThrow(/cannot read the scan/);
  });
});

describe('CVSS vectors', () => {
  it('scores 3.x and 4.0 and derives automatable and technical impact', () => {
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
    expect(cvssFacts('AV:N/AC:L/Au:N/C:P/I:P/A:P')).toBeUndefined();
    expect(cvssFacts('CVSS:3.1/AV:N')).toBeUndefined();
  });
});

describe('asset inventories', () => {
  it('reads quoted CSV cells, and reports a host listed twice instead of failing the import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-assets-'));
    const file = join(dir, 'assets.csv');
    writeFileSync(
      file,
      'hostname,addresses,public_facing,criticality,owner\nweb1,10.0.0.1,yes,high,"Web, team"\nWEB1,10.0.0.2,no,low,x\n',
    );
    const { assets, problems } = readAssets(file);
    expect(assets.assets).toHaveLength(1);
    expect(assets.find('web1')).toMatchObject({ owner: 'Web, team', criticality: 'high' });
    expect(problems.map((p) => [p.message, p.location.line])).toEqual([
      ['"WEB1" is listed already; the first entry is kept', 3],
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});
