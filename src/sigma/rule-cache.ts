import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyRule } from './rule.js';

/**
 * Parsed rules kept between runs, per rule file, keyed by the file's path, size and modification
 * time. Parsing and validating thousands of YAML rules is most of the start-up of a hunt over a
 * few files; reading them back as JSON takes a tenth of that. Only files that parsed without
 * error are kept: a broken rule is parsed, and reported, every time.
 */
const FORMAT = 1;

interface Entry {
  size: number;
  mtimeMs: number;
  /** The rules as JSON, taken when parsed: assembling a rule set adds filters to the rule objects. */
  rules: string;
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
      if (stat.size === entry.size && stat.mtimeMs === entry.mtimeMs)
        return JSON.parse(entry.rules, revive) as AnyRule[];
    } catch {
      // Gone or unreadable: parsed (and reported) the normal way.
    }
    return undefined;
  }

  set(file: string, rules: AnyRule[]): void {
    try {
      const stat = statSync(file);
      this.entries[file] = { size: stat.size, mtimeMs: stat.mtimeMs, rules: JSON.stringify(rules, replace) };
      this.changed = true;
    } catch {
      // Not kept; parsed again next time.
    }
  }

  save(): void {
    if (!this.changed) return;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(this.entries));
      renameSync(temporary, this.file);
    } catch {
      // A cache that cannot be written costs the next run time, not this run its rules.
    }
  }
}

/** Maps (the searches of a detection) survive JSON as tagged entry lists. */
function replace(_key: string, value: unknown): unknown {
  return value instanceof Map ? { __map: [...value] } : value;
}

function revive(_key: string, value: unknown): unknown {
  if (
    value &&
    typeof value === 'object' &&
    '__map' in value &&
    Array.isArray((value as { __map: unknown }).__map)
  ) {
    return new Map((value as { __map: [unknown, unknown][] }).__map);
  }
  return value;
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
