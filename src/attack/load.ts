import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigilError } from '../core/index.js';
import { AttackIndex } from './attack-index.js';
import { buildKnowledge } from './build.js';
import type { AttackKnowledge } from './model.js';
import { formerNamesFrom, type NameHistory } from './names.js';
import { readStixBundle } from './stix.js';

/** Bumped whenever the shape of AttackKnowledge changes, so that old caches are rebuilt. */
const CACHE_FORMAT = 2;

export interface AttackSource {
  /** The Enterprise STIX bundle. */
  bundle: string;
  /** The technique name history (`technique-name-history.json`), when there is one. */
  history?: string;
  /**
   * Where the indexed form is kept between runs. The bundle is 50 MB of JSON; its index is a
   * tenth of that and loads in a fraction of the time.
   */
  cacheDir?: string;
}

/** The files of an ATT&CK content folder (`<content>/attack/`). */
export function attackSourceIn(attackDir: string, cacheDir?: string): AttackSource {
  const history = join(attackDir, 'technique-name-history.json');
  return {
    bundle: join(attackDir, 'enterprise-attack.json'),
    history: existsSync(history) ? history : undefined,
    cacheDir,
  };
}

/** Keeps an index built elsewhere (from a copy being verified) as the cached index of `source`. */
export function cacheKnowledge(source: AttackSource, knowledge: AttackKnowledge): void {
  if (source.cacheDir) writeCache(join(source.cacheDir, `attack-${cacheKey(source)}.json`), knowledge);
}

export function loadAttack(source: AttackSource): AttackIndex {
  return new AttackIndex(loadKnowledge(source));
}

export function loadKnowledge(source: AttackSource): AttackKnowledge {
  if (!existsSync(source.bundle)) {
    throw new VigilError('ATTACK_MISSING', 'the ATT&CK bundle is not there', { file: source.bundle });
  }
  const cacheFile = source.cacheDir ? join(source.cacheDir, `attack-${cacheKey(source)}.json`) : undefined;
  if (cacheFile && existsSync(cacheFile)) {
    try {
      return JSON.parse(readFileSync(cacheFile, 'utf8')) as AttackKnowledge;
    } catch {
      // A damaged cache is rebuilt below.
    }
  }
  const knowledge = buildKnowledge(readStixBundle(source.bundle));
  if (source.history) knowledge.formerNames = readFormerNames(source.history, knowledge);
  if (cacheFile) writeCache(cacheFile, knowledge);
  return knowledge;
}

function readFormerNames(file: string, knowledge: AttackKnowledge): Record<string, string[]> {
  let history: NameHistory;
  try {
    history = JSON.parse(readFileSync(file, 'utf8')) as NameHistory;
  } catch (error) {
    throw new VigilError(
      'ATTACK_INVALID',
      `the name history is not valid JSON: ${(error as Error).message}`,
      {
        file,
      },
    );
  }
  if (typeof history !== 'object' || history === null || Array.isArray(history)) {
    throw new VigilError('ATTACK_INVALID', 'the name history must map technique IDs to releases', { file });
  }
  for (const [id, releases] of Object.entries(history)) {
    if (typeof releases !== 'object' || releases === null || Array.isArray(releases)) {
      throw new VigilError('ATTACK_INVALID', 'must map releases to [name, status]', { file, field: id });
    }
  }
  return formerNamesFrom(history, new Map(knowledge.techniques.map((t) => [t.id, t.name])));
}

/** Same files (path, size, time), same cache. */
function cacheKey(source: AttackSource): string {
  const hash = createHash('sha256').update(String(CACHE_FORMAT));
  for (const file of [source.bundle, source.history]) {
    if (!file) continue;
    const stat = statSync(file);
    hash.update(`\u0000${file}\u0000${stat.size}\u0000${stat.mtimeMs}`);
  }
  return hash.digest('hex').slice(0, 16);
}

function writeCache(file: string, knowledge: AttackKnowledge): void {
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(knowledge));
    renameSync(temporary, file);
  } catch {
    // A cache that cannot be written costs the next run time, not this run its result.
  }
}
