import { VigilError } from '../core/index.js';
import { CVE, type Finding, type ParsedScan } from './scan.js';
import { scanTime } from './times.js';

interface Cvss {
  vector: string;
  score?: number;
  version: number;
}

/** The vector of the newest CVSS version among those given, the first source winning a tie. */
function newest(candidates: readonly Cvss[]): Cvss | undefined {
  let best: Cvss | undefined;
  for (const c of candidates) if (!best || c.version > best.version) best = c;
  return best;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A list the report must hold where it says one is: anything else is refused, whole. */
function list(value: unknown, file: string, field: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isObject))
    throw new VigilError('VULN_INVALID', 'expected a list of objects', { file, field });
  return value as Json[];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function scanTimeOf(value: unknown, field: string, file: string, now: Date, problems: VigilError[]): string {
  const at = scanTime(text(value));
  if (at) return at;
  problems.push(
    new VigilError('VULN_NO_TIME', `no scan time (${field}): the findings are dated by the import`, {
      file,
      field,
    }),
  );
  return now.toISOString();
}

/**
 * Trivy JSON. The asset is the artifact (ArtifactName); each result is a target within it: the
 * OS packages, or one lock file or jar. A later Trivy scan of the same artifact re-tests the
 * targets it lists; the time is CreatedAt.
 */
export function trivy(report: Json, file: string, now: Date): ParsedScan {
  const problems: VigilError[] = [];
  const asset = text(report.ArtifactName)?.toLowerCase();
  if (!asset)
    throw new VigilError('VULN_INVALID', 'a Trivy report without ArtifactName: what was scanned is unknown', {
      file,
      field: 'ArtifactName',
    });
  const seenAt = scanTimeOf(report.CreatedAt, 'CreatedAt', file, now, problems);
  const findings: Finding[] = [];
  const scopes = new Set<string>();
  list(report.Results, file, 'Results').forEach((result, r) => {
    const target = text(result.Target) ?? '';
    // OS packages keep their scope when the base image moves to a new OS release.
    const scope =
      result.Class === 'os-pkgs' ? 'os-pkgs' : `${text(result.Class) ?? text(result.Type) ?? ''}:${target}`;
    scopes.add(scope);
    list(result.Vulnerabilities, file, `Results[${r}].Vulnerabilities`).forEach((v, i) => {
      const where = `Results[${r}].Vulnerabilities[${i}]`;
      const id = text(v.VulnerabilityID);
      if (!id || !CVE.test(id)) {
        if (!id?.startsWith('GHSA-')) {
          problems.push(
            new VigilError('VULN_ENTRY', `no CVE id (${id ?? 'none'})`, {
              file,
              field: `${where}.VulnerabilityID`,
            }),
          );
        }
        return;
      }
      // NVD's vectors first, then the vendors' (Red Hat, GitHub …), the newest version winning.
      const sources = Object.entries(isObject(v.CVSS) ? v.CVSS : {}).sort(([a], [b]) =>
        a === 'nvd' ? -1 : b === 'nvd' ? 1 : a.localeCompare(b),
      );
      const cvss = newest(
        sources.flatMap(([, c]) => {
          if (!isObject(c)) return [];
          const found: Cvss[] = [];
          const add = (vector: unknown, score: unknown, version: number) => {
            if (text(vector))
              found.push({
                vector: text(vector)!,
                score: typeof score === 'number' ? score : undefined,
                version,
              });
          };
          add(c.V40Vector, c.V40Score, 4);
          add(c.V3Vector, c.V3Score, 3);
          add(c.V2Vector, c.V2Score, 2);
          return found;
        }),
      );
      const pkg = text(v.PkgName);
      const path = text(v.PkgPath);
      const version = text(v.InstalledVersion);
      findings.push({
        asset,
        cve: id.toUpperCase(),
        product: pkg ? `${pkg}${version ? ` ${version}` : ''}` : undefined,
        cvssVector: cvss?.vector,
        cvssScore: cvss?.score,
        scanner: 'trivy',
        scope,
        check: pkg ? `${pkg}${path ? `@${path}` : ''}` : '',
        seenAt,
        present: true,
        location: { file, field: where },
      });
    });
  });
  return {
    format: 'trivy',
    scannedAt: seenAt,
    findings,
    coverage: [...scopes].map((scope) => ({ asset, scope, testedAt: seenAt, complete: true, excluded: [] })),
    problems,
    notes: [],
  };
}

/**
 * Grype JSON. The asset is the source it scanned (source.target); a later Grype scan of the same
 * source re-tests it whole; the time is descriptor.timestamp.
 */
export function grype(report: Json, file: string, now: Date): ParsedScan {
  const problems: VigilError[] = [];
  const source = isObject(report.source) ? report.source : {};
  const target = source.target;
  const asset = (isObject(target) ? text(target.userInput) : text(target))?.toLowerCase();
  if (!asset)
    throw new VigilError(
      'VULN_INVALID',
      'a Grype report without source.target: what was scanned is unknown',
      {
        file,
        field: 'source.target',
      },
    );
  const descriptor = isObject(report.descriptor) ? report.descriptor : {};
  const seenAt = scanTimeOf(descriptor.timestamp, 'descriptor.timestamp', file, now, problems);
  const findings: Finding[] = [];
  list(report.matches, file, 'matches').forEach((match, i) => {
    const candidates = [
      match.vulnerability,
      ...list(match.relatedVulnerabilities, file, `matches[${i}]`),
    ].filter(isObject);
    const cve = candidates.map((v) => text(v.id)).find((id) => id && CVE.test(id));
    if (!cve) {
      const first = candidates[0] ? text(candidates[0].id) : undefined;
      problems.push(
        new VigilError('VULN_ENTRY', `no CVE id (${first ?? 'none'})`, {
          file,
          field: `matches[${i}].vulnerability.id`,
        }),
      );
      return;
    }
    const cvss = newest(
      candidates.flatMap((v) =>
        (Array.isArray(v.cvss) ? v.cvss : []).filter(isObject).flatMap((c): Cvss[] => {
          const vector = text(c.vector);
          if (!vector) return [];
          const metrics = isObject(c.metrics) ? c.metrics : {};
          const version = /^cvss:4/i.test(vector) ? 4 : /^cvss:3/i.test(vector) ? 3 : 2;
          return [
            { vector, score: typeof metrics.baseScore === 'number' ? metrics.baseScore : undefined, version },
          ];
        }),
      ),
    );
    const artifact = isObject(match.artifact) ? match.artifact : {};
    const name = text(artifact.name);
    const version = text(artifact.version);
    const locations = Array.isArray(artifact.locations) ? artifact.locations.filter(isObject) : [];
    const path = locations[0] ? text(locations[0].path) : undefined;
    findings.push({
      asset,
      cve: cve.toUpperCase(),
      product: name ? `${name}${version ? ` ${version}` : ''}` : undefined,
      cvssVector: cvss?.vector,
      cvssScore: cvss?.score,
      scanner: 'grype',
      scope: '',
      check: name ? `${name}${path ? `@${path}` : ''}` : '',
      seenAt,
      present: true,
      location: { file, field: `matches[${i}]` },
    });
  });
  return {
    format: 'grype',
    scannedAt: seenAt,
    findings,
    coverage: [{ asset, scope: '', testedAt: seenAt, complete: true, excluded: [] }],
    problems,
    notes: [],
  };
}
