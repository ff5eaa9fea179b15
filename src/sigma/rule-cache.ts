import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Detection, SearchNode } from './detection.js';
import type { AnyRule } from './rule.js';

/**
 * Parsed rules kept between runs, per rule file, keyed by the file's path, size and modification
 * time. Parsing and validating thousands of YAML rules is most of the start-up of a hunt over a
 * few files; reading them back as JSON takes a tenth of that. Only files that parsed without
 * error are kept: a broken rule is parsed, and reported, every time.
 *
 * The rules of each folder are kept in a file of their own, read only when a rule of that folder
 * is asked for: a hunt with a dozen local rules does not read back the 11 MB of the SigmaHQ pack
 * another hunt kept (which cost every small hunt about 0.3 s of start-up).
 */
const FORMAT = 3;

/** Cache files of other builds or contexts unused for this long are deleted when a cache is written. */
const STALE_MS = 30 * 24 * 3600 * 1000;

/** A rule as kept: the searches of its detection, a Map, as a list of entries. */
type StoredRule = Omit<AnyRule, 'detection'> & {
  detection?: Omit<Detection, 'searches'> & { searches: [string, SearchNode][] };
};

interface Entry {
  size: number;
  mtimeMs: number;
  /** Plain JSON (a reviver would visit every value and triple the time to read it back). */
  rules: StoredRule[];
}

/** The kept rules of one folder's files, and the cache file they are kept in. */
interface Shard {
  file: string;
  entries: Record<string, Entry>;
  changed: boolean;
}

export class RuleCache {
  private readonly key: string;
  private readonly shards = new Map<string, Shard>();

  /** `context` is whatever else shapes parsing (placeholder values): another context, another cache. */
  constructor(
    private readonly dir: string,
    context: string,
  ) {
    this.key = hash(`${FORMAT}\u0000${codeFingerprint()}\u0000${context}`);
  }

  /** The parsed rules of a file, if the file has not changed since they were kept. */
  get(file: string): AnyRule[] | undefined {
    const entry = this.shardOf(file).entries[file];
    if (!entry) return undefined;
    try {
      const stat = statSync(file);
      if (stat.size === entry.size && stat.mtimeMs === entry.mtimeMs) return entry.rules.map(revive);
    } catch {
      // Gone or unreadable: parsed (and reported) the normal way.
    }
    return undefined;
  }

  set(file: string, rules: AnyRule[]): void {
    try {
      const stat = statSync(file);
      const shard = this.shardOf(file);
      shard.entries[file] = { size: stat.size, mtimeMs: stat.mtimeMs, rules: rules.map(store) };
      shard.changed = true;
    } catch {
      // Not kept; parsed again next time.
    }
  }

  /** Writes the folders' caches that gained rules; call it before the rules are used and extended. */
  save(): void {
    const changed = [...this.shards.values()].filter((shard) => shard.changed);
    if (changed.length === 0) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      for (const shard of changed) {
        const temporary = `${shard.file}.${process.pid}.tmp`;
        writeFileSync(temporary, JSON.stringify(shard.entries));
        renameSync(temporary, shard.file);
        shard.changed = false;
      }
      pruneStale(this.dir);
    } catch {
      // A cache that cannot be written costs the next run time, not this run its rules.
    }
  }

  private shardOf(file: string): Shard {
    const folder = dirname(file);
    let shard = this.shards.get(folder);
    if (!shard) {
      shard = { file: join(this.dir, `rules-${this.key}-${hash(folder)}.json`), entries: {}, changed: false };
      try {
        shard.entries = JSON.parse(readFileSync(shard.file, 'utf8')) as Record<string, Entry>;
        // Read is used: stale caches are those no run has read or written for a while.
        const now = new Date();
        utimesSync(shard.file, now, now);
      } catch {
        // No cache yet, or a damaged one: parse the folder's rules, and write it anew.
        shard.entries = {};
      }
      this.shards.set(folder, shard);
    }
    return shard;
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function store(rule: AnyRule): StoredRule {
  if (!('detection' in rule)) return rule;
  return { ...rule, detection: { ...rule.detection, searches: [...rule.detection.searches] } };
}

function revive(rule: StoredRule): AnyRule {
  if (!rule.detection) return rule as AnyRule;
  const detection = { ...rule.detection, searches: new Map(rule.detection.searches) };
  return { ...rule, detection } as unknown as AnyRule;
}

/**
 * Deletes rule caches last used more than STALE_MS ago (other builds, other placeholder sets,
 * folders no longer hunted): a cache read or written by this run was touched just now.
 */
function pruneStale(dir: string): void {
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('rules-')) continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > STALE_MS) unlinkSync(path);
    } catch {
      // Another process got there first.
    }
  }
}

/**
 * The parser's own code, by file size and time: rules parsed by another build of Vigil are parsed
 * again, never trusted.
 */
function codeFingerprint(): string {
  const dir = dirname(fileURLToPath(import.meta.url));
  try {
    return readdirSync(dir)
      .sort()
      .map((name) => {
        const stat = statSync(join(dir, name));
        return `${name}:${stat.size}:${stat.mtimeMs}`;
      })
      .join('|');
  } catch {
    return String(Date.now());
  }
}
