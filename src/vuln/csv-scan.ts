import { type SourceLocation, VigilError } from '../core/index.js';
import { parseCsv } from './csv.js';
import { CVE, earliest, type Finding, notACve, type ParsedScan } from './scan.js';
import { scanTime } from './times.js';

const YES = /^(true|yes|1)$/i;
const NO = /^(false|no|0)$/i;

/**
 * The documented CSV: a header line naming the columns, `asset` and `cve` required; `cvss_vector`,
 * `port`, `service`, `product`, `first_seen`, `scanned_at`, `status` (open or fixed),
 * `exploit_available` and the SSVC overrides `automatable` (yes/no) and `technical_impact`
 * (partial/total) optional. A CSV lists what was found, not what was tested: a finding it leaves
 * out stays as it was; only a row with status `fixed` says a finding was re-tested and not found.
 */
export function csvScan(text: string, file: string, now: Date): ParsedScan {
  const [head, ...rows] = parseCsv(text, file);
  const header = (head?.cells ?? []).map((h) => h.trim().toLowerCase());
  for (const column of ['asset', 'cve']) {
    if (!header.includes(column)) {
      throw new VigilError(
        'VULN_INVALID',
        `the CSV header must name an "${column}" column (found: ${header.join(', ') || 'nothing'})`,
        { file, line: 1 },
      );
    }
  }
  const findings: Finding[] = [];
  const problems: VigilError[] = [];
  let undated = 0;
  for (const { line, cells } of rows) {
    if (cells.length !== header.length) {
      throw new VigilError(
        'VULN_INVALID',
        `${cells.length} cells where the header has ${header.length}: the file is cut short, or a cell holding a comma is not quoted`,
        { file, line },
      );
    }
    const row = Object.fromEntries(header.map((h, j) => [h, cells[j]!.trim()]));
    const at = (column: string): SourceLocation => ({
      file,
      line,
      column: header.indexOf(column) + 1,
      field: column,
    });
    const refuse = (column: string, message: string) =>
      problems.push(new VigilError('VULN_ENTRY', message, at(column)));
    if (!row.asset) {
      refuse('asset', 'no asset');
      continue;
    }
    if (!CVE.test(row.cve ?? '')) {
      problems.push(notACve(row.cve, at('cve')));
      continue;
    }
    const port = row.port ? Number(row.port) : undefined;
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
      refuse('port', `"${row.port}" is not a port`);
      continue;
    }
    const dates: Record<string, string | undefined> = {};
    let bad = false;
    for (const column of ['first_seen', 'scanned_at']) {
      if (!row[column]) continue;
      dates[column] = scanTime(row[column]);
      if (!dates[column]) {
        refuse(column, `"${row[column]}" is not a date (YYYY-MM-DD, or an ISO 8601 time)`);
        bad = true;
      }
    }
    const flags: Record<string, boolean | undefined> = {};
    for (const column of ['exploit_available', 'automatable']) {
      const value = row[column];
      if (!value) continue;
      if (YES.test(value) || NO.test(value)) flags[column] = YES.test(value);
      else {
        refuse(column, `"${value}" is not yes or no`);
        bad = true;
      }
    }
    const impact = row.technical_impact?.toLowerCase();
    if (impact && impact !== 'partial' && impact !== 'total') {
      refuse('technical_impact', `"${row.technical_impact}" is not partial or total`);
      bad = true;
    }
    const status = row.status?.toLowerCase();
    if (status && status !== 'open' && status !== 'fixed') {
      refuse('status', `"${row.status}" is not open or fixed`);
      bad = true;
    }
    if (bad) continue;
    const seenAt = dates.scanned_at ?? dates.first_seen;
    if (!seenAt) undated++;
    findings.push({
      asset: row.asset.toLowerCase(),
      cve: row.cve!.toUpperCase(),
      cvssVector: row.cvss_vector || undefined,
      port,
      service: row.service || undefined,
      product: row.product || undefined,
      firstSeen: dates.first_seen,
      exploitAvailable: flags.exploit_available,
      automatable: flags.automatable,
      technicalImpact: impact ? (impact as 'partial' | 'total') : undefined,
      scanner: 'csv',
      scope: '',
      check: '',
      seenAt: seenAt ?? now.toISOString(),
      present: status !== 'fixed',
      location: { file, line },
    });
  }
  const notes = undated
    ? [`${undated} row(s) without scanned_at or first_seen: they are dated by this import`]
    : [];
  return {
    format: 'csv',
    scannedAt: earliest(
      findings.map((f) => f.seenAt),
      now.toISOString(),
    ),
    findings,
    coverage: [],
    problems,
    notes,
  };
}
