import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { formatLocation, VigilError } from '../core/index.js';
import { grype, trivy } from './containers.js';
import { csvScan } from './csv-scan.js';
import { nessus } from './nessus.js';
import { openvas } from './openvas.js';
import type { Finding, ParsedScan, ScanReport } from './scan.js';

/**
 * Reads a scanner report, recognising its format from its content. A file that is not
 * well-formed or is cut short is refused whole (VULN_INVALID, with the line): importing part of
 * a scan would mark what it lacks as fixed. `now` is the time of a CSV row that gives none.
 */
export function importFindings(file: string, now = new Date()): ScanReport {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new VigilError('VULN_UNREADABLE', `cannot read the scan: ${(error as Error).message}`, { file });
  }
  const text = bytes.toString('utf8');
  const parsed = parseScan(text, file, now);
  return {
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...parsed,
    findings: withoutDuplicates(parsed.findings, parsed.problems),
  };
}

function parseScan(text: string, file: string, now: Date): ParsedScan {
  const head = text.trimStart().slice(0, 4000);
  if (head.startsWith('{')) {
    const data = parseJson(text, file);
    if (Array.isArray((data as { matches?: unknown }).matches)) return grype(data, file, now);
    if ('Results' in (data as object) || 'ArtifactName' in (data as object)) return trivy(data, file, now);
    throw new VigilError(
      'VULN_INVALID',
      'JSON that is neither a Trivy report (Results) nor a Grype report (matches)',
      { file },
    );
  }
  if (head.startsWith('<')) {
    if (/<NessusClientData_v2/.test(head)) return nessus(text, file, now);
    if (/<report[\s>]/.test(head) || /<get_reports_response[\s>]/.test(head)) return openvas(text, file, now);
    throw new VigilError('VULN_INVALID', 'XML that is neither a Nessus v2 file nor an OpenVAS/GVM report', {
      file,
    });
  }
  return csvScan(text, file, now);
}

function parseJson(text: string, file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : text.trimEnd().length;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    // Cut short, the text ends where the parser stopped: nothing after it was wrong.
    const truncated = offset >= text.trimEnd().length;
    throw new VigilError(
      'VULN_INVALID',
      truncated ? 'the JSON ends early: the file is truncated' : `not valid JSON: ${message}`,
      { file, line, column },
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new VigilError('VULN_INVALID', 'JSON that is not an object: neither Trivy nor Grype', { file });
  return data as Record<string, unknown>;
}

/**
 * The same finding twice in one file (same asset, CVE, port, scanner, scope and check) is
 * reported with both places; the first is kept.
 */
function withoutDuplicates(findings: Finding[], problems: VigilError[]): Finding[] {
  const first = new Map<string, Finding>();
  const kept: Finding[] = [];
  for (const finding of findings) {
    const key = [finding.asset, finding.cve, finding.port ?? 0, finding.scope, finding.check].join('\u0000');
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, finding);
      kept.push(finding);
      continue;
    }
    problems.push(
      new VigilError(
        'VULN_DUPLICATE',
        `${finding.cve} on ${finding.asset}${finding.port ? ` port ${finding.port}` : ''} is listed twice (also at ${formatLocation(earlier.location)}); the first is kept`,
        finding.location,
      ),
    );
  }
  return kept;
}
