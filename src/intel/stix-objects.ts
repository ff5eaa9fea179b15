import { attackId, type StixObject } from '../attack/index.js';
import type { ExtractedIndicator, IndicatorType } from './indicators.js';
import { extractIndicators, indicatorKey } from './indicators.js';

/** What a STIX bundle states outright, as opposed to what its prose describes. */
export interface StixStatements {
  /** ATT&CK IDs or names of its attack patterns. */
  techniques: { query: string; evidence: string }[];
  indicators: ExtractedIndicator[];
  cves: string[];
  mitigations: { query: string; evidence: string }[];
  /** The earliest `valid_from` of its indicators: when they were seen. */
  observed?: Date;
}

/** STIX cyber-observable properties in patterns, as indicator types. */
const PATTERN_TYPES: Record<string, IndicatorType> = {
  'ipv4-addr:value': 'ipv4',
  'ipv6-addr:value': 'ipv6',
  'domain-name:value': 'domain',
  'url:value': 'url',
  'email-addr:value': 'email',
  'email-message:from_ref.value': 'email',
  "file:hashes.'md5'": 'md5',
  'file:hashes.md5': 'md5',
  "file:hashes.'sha-1'": 'sha1',
  'file:hashes.sha1': 'sha1',
  "file:hashes.'sha1'": 'sha1',
  "file:hashes.'sha-256'": 'sha256',
  'file:hashes.sha256': 'sha256',
  "file:hashes.'sha256'": 'sha256',
  "file:hashes.'sha-512'": 'sha512',
  'file:hashes.sha512': 'sha512',
  "file:hashes.'sha512'": 'sha512',
  'file:name': 'filename',
  'windows-registry-key:key': 'registry',
  'directory:path': 'path',
};

export function stixStatements(objects: Record<string, unknown>[]): StixStatements {
  const out: StixStatements = { techniques: [], indicators: [], cves: [], mitigations: [] };
  const seen = new Set<string>();
  for (const object of objects) {
    const name = typeof object.name === 'string' ? object.name : undefined;
    const externalId = attackId(object as unknown as StixObject);
    switch (object.type) {
      case 'attack-pattern':
        if (externalId ?? name) {
          out.techniques.push({
            query: externalId ?? name!,
            evidence: `STIX attack-pattern "${name ?? externalId}"`,
          });
        }
        break;
      case 'course-of-action':
        if (externalId ?? name) {
          out.mitigations.push({
            query: externalId ?? name!,
            evidence: `STIX course-of-action "${name ?? externalId}"`,
          });
        }
        break;
      case 'vulnerability': {
        const cve = [name, ...cveReferences(object)].find((v) => v && /^CVE-\d{4}-\d{4,}$/i.test(v));
        if (cve) out.cves.push(cve.toUpperCase());
        break;
      }
      case 'indicator': {
        if (typeof object.pattern !== 'string') break;
        const validFrom = typeof object.valid_from === 'string' ? new Date(object.valid_from) : undefined;
        if (validFrom && !Number.isNaN(validFrom.getTime()) && (!out.observed || validFrom < out.observed)) {
          out.observed = validFrom;
        }
        for (const indicator of patternIndicators(object.pattern, name)) {
          const key = indicatorKey(indicator);
          if (seen.has(key)) continue;
          seen.add(key);
          out.indicators.push(indicator);
        }
        break;
      }
    }
  }
  return out;
}

/**
 * The values compared with `=` in a STIX pattern (`[ipv4-addr:value = '198.51.100.7'] OR
 * [file:hashes.'SHA-256' = '…']`). Each is checked and normalised like an indicator found in
 * text, so a pattern holding garbage yields nothing rather than a false indicator.
 */
export function patternIndicators(pattern: string, name?: string): ExtractedIndicator[] {
  const out: ExtractedIndicator[] = [];
  const comparison = /([a-z0-9-]+:[a-z0-9_.'-]+)\s*(?:=|LIKE)\s*'((?:[^'\\]|\\.)*)'/gi;
  for (const match of pattern.matchAll(comparison)) {
    const type = PATTERN_TYPES[match[1]!.toLowerCase()];
    if (!type) continue;
    const raw = match[2]!.replace(/\\(.)/g, '$1');
    const context = name ? `${name}: ${pattern}` : pattern;
    if (type === 'filename' || type === 'path' || type === 'registry') {
      if (raw.trim()) out.push({ type, value: raw.trim(), context });
      continue;
    }
    const found = extractIndicators(raw).find((i) => i.type === type);
    if (found) out.push({ ...found, context });
  }
  return out;
}

function cveReferences(object: Record<string, unknown>): string[] {
  const references = Array.isArray(object.external_references) ? object.external_references : [];
  return (references as { source_name?: string; external_id?: string }[])
    .filter((r) => r?.source_name?.toLowerCase() === 'cve' && typeof r.external_id === 'string')
    .map((r) => r.external_id!);
}
