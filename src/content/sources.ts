import { SSVC_TABLES } from './decision-tables.js';

/**
 * Where each kind of content officially comes from, and how it lies in a content folder. A mirror
 * (`VIGIL_CONTENT_MIRROR`, for networks that reach only an internal copy, and for the tests) serves
 * the same files under `mirrorPath`.
 */
export type SourceName = 'attack' | 'sigma' | 'kev' | 'epss' | 'warninglists' | 'ssvc' | 'lolbas';

export const SOURCE_NAMES: SourceName[] = [
  'attack',
  'sigma',
  'kev',
  'epss',
  'warninglists',
  'ssvc',
  'lolbas',
];

export interface ContentSource {
  name: SourceName;
  description: string;
  /** The official address. */
  url: string;
  /** A single file, several files (`files`, beside `url`), or a zip archive to unpack. */
  format: 'file' | 'files' | 'zip';
  /** For `files`: their names, fetched from `url` + name. */
  files?: string[];
  /** Its path under a mirror's base address. */
  mirrorPath: string;
  /** The folder it occupies in a content folder. */
  folder: string;
  /** For a single file: its name in that folder. */
  fileName?: string;
}

export const CONTENT_SOURCES: Record<SourceName, ContentSource> = {
  attack: {
    name: 'attack',
    description: 'MITRE ATT&CK Enterprise (STIX 2.1)',
    url: 'https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json',
    format: 'file',
    mirrorPath: 'attack/enterprise-attack.json',
    folder: 'attack',
    fileName: 'enterprise-attack.json',
  },
  sigma: {
    name: 'sigma',
    description: 'SigmaHQ rule packs (latest release)',
    url: 'https://github.com/SigmaHQ/sigma/releases/latest/download/sigma_all_rules.zip',
    format: 'zip',
    mirrorPath: 'sigma/sigma_all_rules.zip',
    folder: 'sigma',
  },
  kev: {
    name: 'kev',
    description: 'CISA Known Exploited Vulnerabilities',
    url: 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json',
    format: 'file',
    mirrorPath: 'kev/known_exploited_vulnerabilities.json',
    folder: 'kev',
    fileName: 'known_exploited_vulnerabilities.json',
  },
  epss: {
    name: 'epss',
    description: 'FIRST EPSS scores (daily)',
    url: 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz',
    format: 'file',
    mirrorPath: 'epss/epss_scores-current.csv.gz',
    folder: 'epss',
    fileName: 'epss_scores-current.csv.gz',
  },
  warninglists: {
    name: 'warninglists',
    description: 'MISP warning lists',
    url: 'https://github.com/MISP/misp-warninglists/archive/refs/heads/main.zip',
    format: 'zip',
    mirrorPath: 'warninglists/misp-warninglists.zip',
    folder: 'warninglists',
  },
  ssvc: {
    name: 'ssvc',
    description: 'CISA SSVC decision tables (CERT/CC)',
    url: 'https://raw.githubusercontent.com/CERTCC/SSVC/main/data/json/decision_tables/cisa/',
    format: 'files',
    files: Object.values(SSVC_TABLES),
    mirrorPath: 'ssvc/',
    folder: 'ssvc',
  },
  lolbas: {
    name: 'lolbas',
    description: 'LOLBAS: Windows binaries attackers abuse (GPL-3.0, read, not redistributed)',
    url: 'https://github.com/LOLBAS-Project/LOLBAS/archive/refs/heads/master.zip',
    format: 'zip',
    mirrorPath: 'lolbas/lolbas.zip',
    folder: 'lolbas',
  },
};

/** The versioned ATT&CK bundles the name history is built from. */
export function attackReleaseUrl(version: string, mirror?: string): string {
  const path = `enterprise-attack/enterprise-attack-${version}.json`;
  return mirror
    ? `${mirror.replace(/\/$/, '')}/attack/releases/enterprise-attack-${version}.json`
    : `https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/${path}`;
}

export function sourceUrl(source: ContentSource, mirror?: string): string {
  return mirror ? `${mirror.replace(/\/$/, '')}/${source.mirrorPath}` : source.url;
}
