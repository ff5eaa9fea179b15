import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import jsyaml from 'js-yaml';
import { type AttackKnowledge, attackSourceIn, loadKnowledge } from '../attack/index.js';
import { VigilError } from '../core/index.js';
import { readSsvcTables } from './decision-tables.js';
import { epssFile, readEpss } from './epss.js';
import { readKevCatalog } from './kev.js';
import { CONTENT_SOURCES, type SourceName } from './sources.js';

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
    case 'lolbas':
      return verifyLolbas(folder);
  }
}

function invalid(name: string, file: string, message: string): VigilError {
  return new VigilError('CONTENT_INVALID', `${name}: ${message}`, { file });
}

function verifyAttack(folder: string): Verified {
  const file = join(folder, CONTENT_SOURCES.attack.fileName!);
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
  const file = join(folder, CONTENT_SOURCES.kev.fileName!);
  const catalog = readKevCatalog(file);
  if (catalog.entries.size === 0) throw invalid('kev', file, 'the catalogue lists no vulnerabilities');
  const problems = catalog.problems.length ? `, ${catalog.problems.length} malformed entries skipped` : '';
  return {
    version: catalog.version,
    summary: `${catalog.entries.size} known exploited vulnerabilities${problems}`,
  };
}

function verifyEpss(folder: string): Verified {
  const file = epssFile(folder);
  if (!file) throw invalid('epss', folder, 'no epss_scores-*.csv.gz file');
  const { date, scores } = readEpss(file);
  if (scores.size === 0) throw invalid('epss', file, 'no scores');
  return { version: date, summary: `${scores.size} CVEs scored${date ? ` (scores of ${date})` : ''}` };
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

/** Every LOLBAS entry parses as YAML and names its binary, as advisory intake will read them. */
function verifyLolbas(folder: string): Verified {
  const root = join(folder, 'yml');
  if (!existsSync(root)) throw invalid('lolbas', folder, 'no yml/ folder');
  let entries = 0;
  for (const category of readdirSync(root, { withFileTypes: true })) {
    if (!category.isDirectory()) continue;
    for (const name of readdirSync(join(root, category.name))) {
      if (!/\.ya?ml$/i.test(name)) continue;
      const file = join(root, category.name, name);
      let entry: unknown;
      try {
        entry = jsyaml.load(readFileSync(file, 'utf8'));
      } catch (error) {
        throw invalid('lolbas', file, `not valid YAML: ${(error as Error).message}`);
      }
      if (typeof (entry as { Name?: unknown })?.Name !== 'string')
        throw invalid('lolbas', file, 'an entry needs a Name');
      entries++;
    }
  }
  if (entries === 0) throw invalid('lolbas', root, 'no entries');
  return { version: undefined, summary: `${entries} binaries, scripts and libraries` };
}

function verifySsvc(folder: string): Verified {
  const tables = Object.values(readSsvcTables(folder));
  return {
    version: undefined,
    summary: tables.map((table) => `${table.name} ${table.version}: ${table.rows.size} rows`).join('; '),
  };
}
