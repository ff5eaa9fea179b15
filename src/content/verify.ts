import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type AttackKnowledge, attackSourceIn, loadKnowledge } from '../attack/index.js';
import { VigilError } from '../core/index.js';
import { readKevCatalog } from './kev.js';
import type { SourceName } from './sources.js';

export interface Verified {
  version?: string;
  /** One line saying what arrived ("835 techniques, ATT&CK 18.1"). */
  summary: string;
  /** For ATT&CK: the index built to verify it, kept as the cached index once installed. */
  knowledge?: AttackKnowledge;
}

/** Checks a source's folder holds what it should, parsed and counted; throws with the reason if not. */
export function verifySource(name: SourceName, folder: string): Verified {
  switch (name) {
    case 'attack':
      return verifyAttack(folder);
    case 'sigma':
      return verifySigma(folder);
    case 'kev':
      return verifyKev(folder);
    case 'epss':
      return verifyEpss(folder);
    case 'warninglists':
      return verifyWarningLists(folder);
    case 'ssvc':
      return verifySsvc(folder);
  }
}

function invalid(name: string, file: string, message: string): VigilError {
  return new VigilError('CONTENT_INVALID', `${name}: ${message}`, { file });
}

function verifyAttack(folder: string): Verified {
  const file = join(folder, 'enterprise-attack.json');
  // Indexed the way every command will index it, name history included: what fails here would
  // fail every command after the update.
  const knowledge = loadKnowledge(attackSourceIn(folder));
  const techniques = knowledge.techniques.filter((t) => !t.revoked && !t.deprecated).length;
  const tactics = knowledge.tactics.length;
  if (techniques === 0 || tactics === 0)
    throw invalid('attack', file, 'the bundle holds no techniques or tactics');
  const { version } = knowledge;
  const history = existsSync(join(folder, 'technique-name-history.json')) ? ', name history' : '';
  return {
    version,
    summary: `ATT&CK ${version ?? '(version not stated)'}: ${techniques} techniques and sub-techniques, ${tactics} tactics${history}`,
    knowledge,
  };
}

function verifySigma(folder: string): Verified {
  let rules = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/i.test(entry.name) && /^\s*detection\s*:/m.test(readFileSync(path, 'utf8'))) rules++;
    }
  };
  if (existsSync(folder)) walk(folder);
  if (rules === 0)
    throw invalid('sigma', folder, 'no Sigma rule files (YAML with a detection section) arrived');
  const packs = readdirSync(folder).filter(
    (f) => f.startsWith('rules') && statSync(join(folder, f)).isDirectory(),
  );
  const version = existsSync(join(folder, 'VERSION'))
    ? readFileSync(join(folder, 'VERSION'), 'utf8').trim()
    : undefined;
  return { version, summary: `${rules} rules in ${packs.length} packs (${packs.sort().join(', ')})` };
}

function verifyKev(folder: string): Verified {
  const file = join(folder, 'known_exploited_vulnerabilities.json');
  const catalog = readKevCatalog(file);
  if (catalog.entries.size === 0) throw invalid('kev', file, 'the catalogue lists no vulnerabilities');
  const problems = catalog.problems.length ? `, ${catalog.problems.length} malformed entries skipped` : '';
  return {
    version: catalog.version,
    summary: `${catalog.entries.size} known exploited vulnerabilities${problems}`,
  };
}

/** The EPSS file of the folder: `epss_scores-*.csv.gz`, the newest by name. */
export function epssFile(folder: string): string | undefined {
  if (!existsSync(folder)) return undefined;
  const files = readdirSync(folder)
    .filter((f) => /^epss_scores-.*\.csv\.gz$/.test(f))
    .sort();
  return files.length ? join(folder, files.at(-1)!) : undefined;
}

function verifyEpss(folder: string): Verified {
  const file = epssFile(folder);
  if (!file) throw invalid('epss', folder, 'no epss_scores-*.csv.gz file');
  let text: string;
  try {
    text = gunzipSync(readFileSync(file)).toString('utf8');
  } catch (error) {
    throw invalid('epss', file, `not a gzip file: ${(error as Error).message}`);
  }
  const lines = text.split('\n');
  let first = 0;
  let version: string | undefined;
  // The official daily file opens with "#model_version:v2025.03.14,score_date:2026-08-16T00:00:00+0000".
  if (lines[0]?.startsWith('#')) {
    version = /score_date:(\d{4}-\d{2}-\d{2})/.exec(lines[0])?.[1];
    first = 1;
  }
  if (lines[first]?.trim() !== 'cve,epss,percentile') {
    throw invalid('epss', file, `line ${first + 1}: expected the header "cve,epss,percentile"`);
  }
  let rows = 0;
  for (let i = first + 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const [cve, epss, percentile] = line.split(',');
    if (
      !/^CVE-\d{4}-\d{4,}$/.test(cve ?? '') ||
      !(Number(epss) >= 0 && Number(epss) <= 1) ||
      !(Number(percentile) >= 0)
    ) {
      throw invalid('epss', file, `line ${i + 1}: not "CVE,probability,percentile": ${line.slice(0, 80)}`);
    }
    rows++;
  }
  if (rows === 0) throw invalid('epss', file, 'no scores');
  version ??= /(\d{4}-\d{2}-\d{2})/.exec(file)?.[1];
  return { version, summary: `${rows} CVEs scored${version ? ` (scores of ${version})` : ''}` };
}

function verifyWarningLists(folder: string): Verified {
  const root = join(folder, 'lists');
  if (!existsSync(root)) throw invalid('warninglists', folder, 'no lists/ folder');
  let lists = 0;
  let entries = 0;
  let newest = 0;
  for (const name of readdirSync(root)) {
    const file = join(root, name, 'list.json');
    if (!existsSync(file)) continue;
    let list: { list?: unknown; version?: unknown; type?: unknown };
    try {
      list = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw invalid('warninglists', file, `not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(list.list) || typeof list.type !== 'string') {
      throw invalid('warninglists', file, 'a warning list needs "type" and a "list" array');
    }
    lists++;
    entries += list.list.length;
    if (typeof list.version === 'number') newest = Math.max(newest, list.version);
  }
  if (lists === 0) throw invalid('warninglists', root, 'no list.json files');
  return { version: newest ? String(newest) : undefined, summary: `${lists} lists, ${entries} entries` };
}

function verifySsvc(folder: string): Verified {
  const names = ['cisa_coordinator_2_0_3.json', 'cisa_bod_26_04_1_0_0.json'];
  const parts: string[] = [];
  for (const name of names) {
    const file = join(folder, name);
    let table: {
      name?: string;
      version?: string;
      mapping?: unknown[];
      decision_points?: object;
      outcome?: string;
    };
    try {
      table = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw invalid('ssvc', file, `not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(table.mapping) || !table.decision_points || !table.outcome) {
      throw invalid('ssvc', file, 'not an SSVC decision table (decision_points, outcome, mapping)');
    }
    parts.push(`${table.name ?? name} ${table.version ?? ''}: ${table.mapping.length} rows`);
  }
  return { version: undefined, summary: parts.join('; ') };
}
