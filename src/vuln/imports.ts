import { readFileSync } from 'node:fs';
import { Parser } from 'htmlparser2';
import { type SourceLocation, VigilError } from '../core/index.js';

/** One vulnerability on one asset, whatever scanner reported it. */
export interface Finding {
  /** Host name or address as the scanner names the asset (or an image, for container scanners). */
  asset: string;
  address?: string;
  cve: string;
  product?: string;
  port?: number;
  service?: string;
  cvssVector?: string;
  cvssScore?: number;
  /** The scanner says a public exploit exists. */
  exploitAvailable?: boolean;
  firstSeen?: string;
  /** SSVC Automatable and Technical Impact as the team judged them, overriding the CVSS vector. */
  automatable?: boolean;
  technicalImpact?: 'partial' | 'total';
  scanner: 'nessus' | 'openvas' | 'trivy' | 'grype' | 'csv';
}

export interface ImportResult {
  format: Finding['scanner'];
  findings: Finding[];
  /** Every asset the scan covered, with findings or without: what a later scan can mark fixed. */
  scannedAssets: string[];
  /** Entries that could not be used, with where and why; the rest is imported. */
  problems: VigilError[];
}

const CVE = /^CVE-\d{4}-\d{4,}$/i;

function notACve(value: string | undefined, where: SourceLocation): VigilError {
  return new VigilError('VULN_ENTRY', `"${value}" is not a CVE id`, where);
}

/** Reads a scanner report, recognising its format from its content. */
export function importFindings(file: string): ImportResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new VigilError('VULN_UNREADABLE', `cannot read the scan: ${(error as Error).message}`, { file });
  }
  const head = text.trimStart().slice(0, 4000);
  if (head.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new VigilError('VULN_INVALID', `not valid JSON: ${(error as Error).message}`, { file });
    }
    if (Array.isArray((data as { matches?: unknown }).matches)) return grype(data as GrypeReport, file);
    if ('Results' in (data as object) || 'ArtifactName' in (data as object))
      return trivy(data as TrivyReport, file);
    throw new VigilError(
      'VULN_INVALID',
      'JSON that is neither a Trivy report (Results) nor a Grype report (matches)',
      { file },
    );
  }
  if (head.startsWith('<')) {
    if (/<NessusClientData_v2/.test(head)) return nessus(text, file);
    if (/<report[\s>]/.test(head) || /<results[\s>]/.test(head)) return openvas(text, file);
    throw new VigilError('VULN_INVALID', 'XML that is neither a Nessus v2 file nor an OpenVAS/GVM report', {
      file,
    });
  }
  return csv(text, file);
}

interface TrivyReport {
  ArtifactName?: string;
  Results?: {
    Target?: string;
    Vulnerabilities?: {
      VulnerabilityID?: string;
      PkgName?: string;
      InstalledVersion?: string;
      CVSS?: Record<string, { V3Vector?: string; V3Score?: number; V40Vector?: string; V40Score?: number }>;
      PublishedDate?: string;
    }[];
  }[];
}

function trivy(report: TrivyReport, file: string): ImportResult {
  const findings: Finding[] = [];
  const problems: VigilError[] = [];
  const asset = report.ArtifactName ?? file;
  (report.Results ?? []).forEach((result, r) => {
    (result.Vulnerabilities ?? []).forEach((v, i) => {
      const where = `Results[${r}].Vulnerabilities[${i}]`;
      if (!v.VulnerabilityID || !CVE.test(v.VulnerabilityID)) {
        if (!v.VulnerabilityID?.startsWith('GHSA-')) {
          problems.push(
            new VigilError('VULN_ENTRY', `no CVE id (${v.VulnerabilityID ?? 'none'})`, {
              file,
              field: `${where}.VulnerabilityID`,
            }),
          );
        }
        return;
      }
      // NVD's vector first, then the vendor's (Red Hat, GitHub …).
      const sources = Object.entries(v.CVSS ?? {}).sort(([a], [b]) =>
        a === 'nvd' ? -1 : b === 'nvd' ? 1 : a.localeCompare(b),
      );
      const cvss = sources.map(([, c]) => c).find((c) => c.V40Vector || c.V3Vector);
      findings.push({
        asset,
        cve: v.VulnerabilityID.toUpperCase(),
        product: v.PkgName ? `${v.PkgName}${v.InstalledVersion ? ` ${v.InstalledVersion}` : ''}` : undefined,
        cvssVector: cvss?.V40Vector ?? cvss?.V3Vector,
        cvssScore: cvss?.V40Score ?? cvss?.V3Score,
        scanner: 'trivy',
      });
    });
  });
  return { format: 'trivy', findings, problems, scannedAssets: [asset] };
}

interface GrypeCvss {
  version?: string;
  vector?: string;
  metrics?: { baseScore?: number };
}

interface GrypeReport {
  source?: { target?: { userInput?: string } | string };
  matches: {
    vulnerability?: { id?: string; cvss?: GrypeCvss[] };
    relatedVulnerabilities?: { id?: string; cvss?: GrypeCvss[] }[];
    artifact?: { name?: string; version?: string };
  }[];
}

function grype(report: GrypeReport, file: string): ImportResult {
  const findings: Finding[] = [];
  const problems: VigilError[] = [];
  const target = report.source?.target;
  const asset = (typeof target === 'string' ? target : target?.userInput) ?? file;
  report.matches.forEach((match, i) => {
    const candidates = [match.vulnerability, ...(match.relatedVulnerabilities ?? [])];
    const cve = candidates.find((v) => v?.id && CVE.test(v.id));
    if (!cve?.id) {
      problems.push(
        new VigilError('VULN_ENTRY', `no CVE id (${match.vulnerability?.id ?? 'none'})`, {
          file,
          field: `matches[${i}].vulnerability.id`,
        }),
      );
      return;
    }
    const cvss = candidates.flatMap((v) => v?.cvss ?? []).find((c) => c.vector?.startsWith('CVSS:'));
    findings.push({
      asset,
      cve: cve.id.toUpperCase(),
      product: match.artifact?.name
        ? `${match.artifact.name}${match.artifact.version ? ` ${match.artifact.version}` : ''}`
        : undefined,
      cvssVector: cvss?.vector,
      cvssScore: cvss?.metrics?.baseScore,
      scanner: 'grype',
    });
  });
  return { format: 'grype', findings, problems, scannedAssets: [asset] };
}

/** A small XML walker: element paths with attributes and text, and the line each element starts on. */
function walkXml(
  text: string,
  file: string,
  handlers: {
    open?: (name: string, attributes: Record<string, string>, line: number) => void;
    close?: (name: string, text: string, line: number) => void;
  },
): void {
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineAt = (index: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const texts: string[] = [];
  let failure: VigilError | undefined;
  const parser: Parser = new Parser(
    {
      onopentag(name, attributes) {
        texts.push('');
        handlers.open?.(name, attributes, lineAt(parser.startIndex));
      },
      ontext(t) {
        if (texts.length) texts[texts.length - 1] += t;
      },
      onclosetag(name) {
        const t = texts.pop() ?? '';
        handlers.close?.(name, t.trim(), lineAt(parser.startIndex));
      },
      onerror(error) {
        failure = new VigilError('VULN_INVALID', `not well-formed XML: ${error.message}`, { file });
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(text);
  parser.end();
  if (failure) throw failure;
}

function nessus(text: string, file: string): ImportResult {
  const findings: Finding[] = [];
  const problems: VigilError[] = [];
  let host = '';
  let address: string | undefined;
  let fqdn: string | undefined;
  let tag = '';
  let item:
    | {
        port?: number;
        service?: string;
        cves: string[];
        vector?: string;
        score?: number;
        exploit?: boolean;
        line: number;
        plugin?: string;
      }
    | undefined;
  const hostFindings: Omit<Finding, 'asset' | 'address'>[] = [];
  const scannedAssets: string[] = [];
  walkXml(text, file, {
    open(name, attributes, line) {
      if (name === 'ReportHost') {
        host = attributes.name ?? '';
        address = undefined;
        fqdn = undefined;
        hostFindings.length = 0;
      } else if (name === 'tag') tag = attributes.name ?? '';
      else if (name === 'ReportItem') {
        const port = Number(attributes.port);
        item = {
          port: port > 0 ? port : undefined,
          service: attributes.svc_name,
          cves: [],
          line,
          plugin: attributes.pluginName,
        };
      }
    },
    close(name, value, line) {
      if (name === 'tag') {
        if (tag === 'host-ip') address = value;
        if (tag === 'host-fqdn') fqdn = value;
      } else if (item && name === 'cve') {
        if (CVE.test(value)) item.cves.push(value.toUpperCase());
        else problems.push(notACve(value, { file, line, field: 'ReportItem.cve' }));
      } else if (item && name === 'cvss3_vector') item.vector = value;
      else if (item && name === 'cvss3_base_score') item.score = Number(value) || undefined;
      else if (item && name === 'exploit_available') item.exploit = value === 'true';
      else if (name === 'ReportItem' && item) {
        for (const cve of item.cves) {
          hostFindings.push({
            cve,
            port: item.port,
            service: item.service,
            product: item.plugin,
            cvssVector: item.vector,
            cvssScore: item.score,
            exploitAvailable: item.exploit,
            scanner: 'nessus',
          });
        }
        item = undefined;
      } else if (name === 'ReportHost') {
        const asset = fqdn ?? host;
        scannedAssets.push(asset);
        for (const finding of hostFindings) findings.push({ ...finding, asset, address: address ?? host });
      }
    },
  });
  return { format: 'nessus', findings, problems, scannedAssets };
}

function openvas(text: string, file: string): ImportResult {
  const findings: Finding[] = [];
  const problems: VigilError[] = [];
  let inResult = false;
  let current:
    | {
        host?: string;
        hostname?: string;
        port?: string;
        cves: string[];
        vector?: string;
        score?: number;
        name?: string;
        line: number;
      }
    | undefined;
  const stack: string[] = [];
  const scannedAssets = new Set<string>();
  walkXml(text, file, {
    open(name, attributes, line) {
      stack.push(name);
      if (name === 'result' && stack.at(-2) === 'results') {
        inResult = true;
        current = { cves: [], line };
      } else if (inResult && current && name === 'ref' && attributes.type?.toLowerCase() === 'cve') {
        if (attributes.id && CVE.test(attributes.id)) current.cves.push(attributes.id.toUpperCase());
        else problems.push(notACve(attributes.id, { file, line, field: 'result.nvt.refs.ref' }));
      }
    },
    close(name, value) {
      stack.pop();
      if (!inResult || !current) return;
      const parent = stack.at(-1);
      if (name === 'hostname' && parent === 'host') current.hostname = value || undefined;
      else if (name === 'host' && parent === 'result') current.host = value.split('\n')[0]!.trim();
      else if (name === 'port' && parent === 'result') current.port = value;
      else if (name === 'name' && parent === 'nvt') current.name = value;
      else if (name === 'value' && parent === 'severity' && value.startsWith('CVSS:')) current.vector = value;
      else if (name === 'score' && parent === 'severity') current.score = Number(value) || undefined;
      else if (name === 'result' && parent === 'results') {
        if (!current.host)
          problems.push(
            new VigilError('VULN_ENTRY', 'a result without a host', {
              file,
              line: current.line,
              field: 'result.host',
            }),
          );
        else {
          // A host with results was scanned, whether or not any result names a CVE.
          scannedAssets.add(current.hostname ?? current.host);
          const port = Number(/^(\d+)\//.exec(current.port ?? '')?.[1]);
          for (const cve of current.cves) {
            findings.push({
              asset: current.hostname ?? current.host,
              address: current.host,
              cve,
              port: port > 0 ? port : undefined,
              product: current.name,
              cvssVector: current.vector,
              cvssScore: current.score,
              scanner: 'openvas',
            });
          }
        }
        inResult = false;
        current = undefined;
      }
    },
  });
  return { format: 'openvas', findings, problems, scannedAssets: [...scannedAssets] };
}

/**
 * The documented CSV: a header line naming the columns, `asset` and `cve` required;
 * `cvss_vector`, `port`, `service`, `product`, `first_seen`, `exploit_available`, and the SSVC
 * overrides `automatable` (yes/no) and `technical_impact` (partial/total) optional.
 */
function csv(text: string, file: string): ImportResult {
  const findings: Finding[] = [];
  const problems: VigilError[] = [];
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  for (const column of ['asset', 'cve']) {
    if (!header.includes(column)) {
      throw new VigilError(
        'VULN_INVALID',
        `the CSV header must name an "${column}" column (found: ${header.join(', ') || 'nothing'})`,
        { file, line: 1 },
      );
    }
  }
  for (const [i, line] of lines.slice(1).entries()) {
    if (!line.trim()) continue;
    const cells = splitCsvLine(line);
    const row = Object.fromEntries(header.map((h, j) => [h, (cells[j] ?? '').trim()]));
    const where = { file, line: i + 2 };
    if (!row.asset) {
      problems.push(new VigilError('VULN_ENTRY', 'no asset', { ...where, field: 'asset' }));
      continue;
    }
    if (!CVE.test(row.cve ?? '')) {
      problems.push(notACve(row.cve, { ...where, field: 'cve' }));
      continue;
    }
    const port = row.port ? Number(row.port) : undefined;
    if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
      problems.push(new VigilError('VULN_ENTRY', `"${row.port}" is not a port`, { ...where, field: 'port' }));
      continue;
    }
    findings.push({
      asset: row.asset,
      cve: row.cve!.toUpperCase(),
      cvssVector: row.cvss_vector || undefined,
      port,
      service: row.service || undefined,
      product: row.product || undefined,
      firstSeen: row.first_seen || undefined,
      exploitAvailable: row.exploit_available ? /^(true|yes|1)$/i.test(row.exploit_available) : undefined,
      automatable: row.automatable ? /^(true|yes|1)$/i.test(row.automatable) : undefined,
      technicalImpact:
        row.technical_impact === 'total' || row.technical_impact === 'partial'
          ? row.technical_impact
          : undefined,
      scanner: 'csv',
    });
  }
  return { format: 'csv', findings, problems, scannedAssets: [...new Set(findings.map((f) => f.asset))] };
}

/** One CSV line into cells (RFC 4180 quoting). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}
