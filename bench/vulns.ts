/**
 * Vulnerability import and prioritization at scale.
 *
 *   npm run bench:vulns [-- --findings N --assets N]
 *
 * Generates a scan of 200,000 findings over 5,000 assets (CSV, the documented format; CVEs drawn
 * from the KEV catalogue and the EPSS file so that every decision path is taken, CVSS vectors of
 * several shapes) and an asset inventory, then times, as separate processes:
 * `vigil vulns import` (parse, store in SQLite) and `vigil vulns list --format json` (KEV, EPSS,
 * CVSS and SSVC for every finding, sorted), then a re-scan a week later with the same findings
 * (each seen again; the same file again would be recognised and skip everything).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { contentHelp, locateContent } from '../src/content/index.js';
import { argNumber, count, printRows, timed, VIGIL } from './common.js';

const FINDINGS = argNumber('findings', 200_000);
const ASSETS = argNumber('assets', 5_000);

const content = locateContent();
if (!content) {
  console.error(contentHelp());
  process.exit(2);
}
const kev = JSON.parse(
  readFileSync(join(content.dir, 'kev', 'known_exploited_vulnerabilities.json'), 'utf8'),
) as {
  vulnerabilities: { cveID: string }[];
};
const epssName = readdirSync(join(content.dir, 'epss')).find((f) => f.endsWith('.csv.gz'))!;
const epssCves = gunzipSync(readFileSync(join(content.dir, 'epss', epssName)))
  .toString('utf8')
  .split('\n')
  .filter((l) => l.startsWith('CVE-'))
  .map((l) => l.slice(0, l.indexOf(',')));

// A fixed pseudo-random sequence: the same scan every run.
let seed = 42;
const random = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
const VECTORS = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N',
  'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N',
  'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
  '',
];

const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-vulns-'));
const scan = join(dir, 'scan.csv');
const rescan = join(dir, 'rescan.csv');
const assetsFile = join(dir, 'assets.csv');
const db = join(dir, 'vulns.db');
try {
  const assetLines = ['hostname,addresses,public_facing,criticality,owner,tags'];
  for (let a = 0; a < ASSETS; a++) {
    assetLines.push(
      `host-${a}.example.org,10.${(a >> 8) & 255}.${a & 255}.1,${random() < 0.1 ? 'yes' : 'no'},${pick(['low', 'medium', 'medium', 'high'])},team-${a % 40},`,
    );
  }
  writeFileSync(assetsFile, `${assetLines.join('\n')}\n`);
  const lines = ['asset,cve,cvss_vector,port,service,product,scanned_at'];
  const seen = new Set<string>();
  while (lines.length <= FINDINGS) {
    const asset = `host-${Math.floor(random() * ASSETS)}.example.org`;
    const cve = random() < 0.05 ? pick(kev.vulnerabilities).cveID : pick(epssCves);
    const port = pick([22, 80, 443, 445, 3389, 8080, 0]);
    const key = `${asset}|${cve}|${port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`${asset},${cve},${pick(VECTORS)},${port || ''},svc,product-${lines.length % 97},2026-11-02`);
  }
  writeFileSync(scan, `${lines.join('\n')}\n`);
  writeFileSync(rescan, `${lines.join('\n').replaceAll(',2026-11-02', ',2026-11-09')}\n`);
  const env = ['--db', db];
  const imported = timed(process.execPath, [VIGIL, 'vulns', 'import', scan, '--assets', assetsFile, ...env]);
  const listed = timed(process.execPath, [VIGIL, 'vulns', 'list', '--format', 'json', ...env], {
    stdoutFile: join(dir, 'list.json'),
  });
  const decisions = JSON.parse(readFileSync(join(dir, 'list.json'), 'utf8')) as { decision: string }[];
  const again = timed(process.execPath, [VIGIL, 'vulns', 'import', rescan, ...env]);
  const total = imported.seconds + listed.seconds;
  const byDecision = ['act', 'attend', 'track*', 'track']
    .map((d) => `${d} ${count(decisions.filter((x) => x.decision === d).length)}`)
    .join(', ');
  console.log(
    `Vulnerability benchmark (Node ${process.version}): ${count(FINDINGS)} findings over ${count(ASSETS)} assets`,
  );
  printRows([
    [
      'vigil vulns import (CSV + assets, into SQLite)',
      `${imported.seconds.toFixed(2)} s, ${count(FINDINGS / imported.seconds)} findings/s, peak ${count(imported.peakMB ?? 0)} MB`,
    ],
    [
      'vigil vulns list --format json (KEV, EPSS, CVSS, SSVC, sorted)',
      `${listed.seconds.toFixed(2)} s, peak ${count(listed.peakMB ?? 0)} MB; ${byDecision}`,
    ],
    ['import + prioritization', `${total.toFixed(2)} s (goal: under 30 s and 1 GB)`],
    [
      'a re-scan a week later (every finding seen again)',
      `${again.seconds.toFixed(2)} s, peak ${count(again.peakMB ?? 0)} MB`,
    ],
  ]);
  console.log(
    JSON.stringify({
      findings: FINDINGS,
      assets: ASSETS,
      importSeconds: +imported.seconds.toFixed(2),
      listSeconds: +listed.seconds.toFixed(2),
      totalSeconds: +total.toFixed(2),
      peakMB: Math.round(Math.max(imported.peakMB ?? 0, listed.peakMB ?? 0)),
      listed: decisions.length,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
