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
 */
const FORMAT = 2;

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

export class RuleCache {
  private readonly file: string;
  private entries: Record<string, Entry> = {};
  private changed = false;

  /** `context` is whatever else shapes parsing (placeholder values): another context, another cache. */
  constructor(dir: string, context: string) {
    const key = createHash('sha256')
      .update(`${FORMAT}\u0000${codeFingerprint()}\u0000${context}`)
      .digest('hex')
      .slice(0, 16);
    this.file = join(dir, `rules-${key}.json`);
    try {
      this.entries = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, Entry>;
      // Read is used: stale caches are those no run has read or written for a while.
      const now = new Date();
      utimesSync(this.file, now, now);
    } catch {
      // No cache yet, or a damaged one: parse everything, and write it anew.
      this.entries = {};
    }
  }

  /** The parsed rules of a file, if the file has not changed since they were kept. */
  get(file: string): AnyRule[] | undefined {
    const entry = this.entries[file];
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
      this.entries[file] = { size: stat.size, mtimeMs: stat.mtimeMs, rules: rules.map(store) };
      this.changed = true;
    } catch {
      // Not kept; parsed again next time.
    }
  }

  /** Writes the cache if anything was added; call it before the rules are used and extended. */
  save(): void {
    if (!this.changed) return;
    try {
      const dir = dirname(this.file);
      mkdirSync(dir, { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(this.entries));
      renameSync(temporary, this.file);
      pruneStale(dir, this.file);
    } catch {
      // A cache that cannot be written costs the next run time, not this run its rules.
    }
  }
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

/** Deletes rule caches last used more than STALE_MS ago (other builds, other placeholder sets). */
function pruneStale(dir: string, keep: string): void {
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!name.startsWith('rules-') || path === keep) continue;
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
