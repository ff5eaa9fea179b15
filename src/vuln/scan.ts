import { type SourceLocation, VigilError } from '../core/index.js';

export type Scanner = 'nessus' | 'openvas' | 'trivy' | 'grype' | 'csv';

/** One vulnerability on one asset, as one check of one scanner reported it. */
export interface Finding {
  /** Host name or address as the scanner names the asset (an image, for container scanners), lower case. */
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
  /** SSVC Automatable and Technical Impact as the team judged them, overriding the CVSS vector. */
  automatable?: boolean;
  technicalImpact?: 'partial' | 'total';
  scanner: Scanner;
  /**
   * What a later scan must share to re-test this finding, besides the scanner and the asset: the
   * GVM task (its scan config and target), the Trivy result (OS packages, or one lock file); empty
   * when the scanner has nothing of the kind.
   */
  scope: string;
  /** The check that found it: Nessus plugin ID, OpenVAS NVT OID, the package; empty for CSV. */
  check: string;
  /** Found by a check that logs in to the asset (a Nessus local plugin): only a credentialed scan re-tests it. */
  local?: boolean;
  /** When the scan observed it (ISO, UTC), from the scan itself. */
  seenAt: string;
  /** When the team first saw it, where the file says so (CSV `first_seen`). */
  firstSeen?: string;
  /** False for a CSV row with status `fixed`: re-tested at `seenAt` and not found. */
  present: boolean;
  /** Where the file reports it. */
  location: SourceLocation;
}

/**
 * A re-test: at `testedAt` the scanner ran the checks of `scope` on `asset`. Open findings of the
 * same scanner, asset and scope that the scan did not report are fixed from then, when the check
 * that found them ran and reached their port.
 */
export interface Coverage {
  asset: string;
  scope: string;
  testedAt: string;
  /** False when the asset was not scanned to the end: it re-tested nothing, yet it was scanned. */
  complete: boolean;
  /** Checks that did not run on the asset or whose results could not be read. */
  excluded: string[];
  /** Ports the scan reached on the asset; undefined for scanners without ports. */
  ports?: number[];
  /** Whether the scan logged in to the asset (local checks ran); undefined for scanners without local checks. */
  credentialed?: boolean;
}

export interface ScanReport {
  file: string;
  format: Scanner;
  /** SHA-256 of the file: the same scan imported twice is recognised. */
  sha256: string;
  /** The earliest time of the scan (ISO). */
  scannedAt: string;
  findings: Finding[];
  coverage: Coverage[];
  /** The checks the scan ran (a Nessus policy's plugin set); undefined: every check of each scope. */
  checks?: string[];
  /** Entries that could not be used, with where and why; the rest is imported. */
  problems: VigilError[];
  /** What limits what this scan can close (a stopped scan, a filtered export, no plugin set). */
  notes: string[];
}

/** What a format reader returns; the file's identity and the duplicates are added around it. */
export type ParsedScan = Omit<ScanReport, 'file' | 'sha256'>;

export const CVE = /^CVE-\d{4}-\d{4,}$/i;

export function notACve(value: string | undefined, where: SourceLocation): VigilError {
  return new VigilError('VULN_ENTRY', `"${value}" is not a CVE id`, where);
}

/** The earliest of the times given, or `fallback`. */
export function earliest(times: Iterable<string | undefined>, fallback: string): string {
  let first: string | undefined;
  for (const time of times) if (time && (!first || time < first)) first = time;
  return first ?? fallback;
}
