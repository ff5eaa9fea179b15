import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calendarDay } from '../core/index.js';

/** Which SigmaHQ rules a folder holds, as far as it says, and the date of that state of the rules. */
export interface SigmaRelease {
  /** A release tag (`r2026-07-01`) or a commit (`8eaafff`). */
  version?: string;
  /** YYYY-MM-DD. */
  date?: string;
  /** What the date is, to write before it: "released", "commit of", "newest rule change". */
  dated?: string;
}

/**
 * In order: the `VERSION` file `content update` writes from the release's tag (`r2026-07-01`: the tag
 * is its date); a `SOURCE.md` that states the commit and its date in a table (`| commit date |
 * 2026-08-05 … |`); else the newest `date:` or `modified:` of the rules themselves, the day the
 * rules were last changed, which no copy can be older than.
 */
export function sigmaRelease(folder: string): SigmaRelease {
  const versionFile = join(folder, 'VERSION');
  if (existsSync(versionFile)) {
    const version = readFileSync(versionFile, 'utf8').trim();
    const date = /(\d{4}-\d{2}-\d{2})/.exec(version)?.[1];
    if (version)
      return date && calendarDay(date) !== undefined ? { version, date, dated: 'released' } : { version };
  }
  const recorded = recordedCommit(folder);
  if (recorded) return recorded;
  const newest = newestRuleDate(folder);
  return newest ? { date: newest, dated: 'newest rule change' } : {};
}

/**
 * The commit and its date that a copy's `SOURCE.md` records (as the shared offline copies do):
 * the version of a folder that carries no version of its own.
 */
export function recordedCommit(folder: string): SigmaRelease | undefined {
  const source = join(folder, 'SOURCE.md');
  if (!existsSync(source)) return undefined;
  const text = readFileSync(source, 'utf8');
  const cell = (name: string) =>
    new RegExp(`^\\|\\s*${name}\\s*\\|\\s*\`?([^|\`]+?)\`?\\s*\\|`, 'im').exec(text)?.[1]?.trim();
  const commit = cell('commit');
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(cell('commit date') ?? '')?.[1];
  if (!commit || !date || calendarDay(date) === undefined) return undefined;
  return {
    version: /^[0-9a-f]{40}$/i.test(commit) ? commit.slice(0, 9) : commit,
    date,
    dated: 'commit of',
  };
}

/** The latest `date:` or `modified:` of the rule files in the `rules*` folders. */
function newestRuleDate(folder: string): string | undefined {
  if (!existsSync(folder)) return undefined;
  let newest: string | undefined;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ya?ml$/i.test(entry.name)) {
        for (const match of readFileSync(path, 'utf8').matchAll(
          /^(?:date|modified):\s*['"]?(\d{4})[-/](\d{2})[-/](\d{2})\b/gm,
        )) {
          const date = `${match[1]}-${match[2]}-${match[3]}`;
          if (calendarDay(date) !== undefined && (!newest || date > newest)) newest = date;
        }
      }
    }
  };
  for (const pack of readdirSync(folder, { withFileTypes: true }))
    if (pack.isDirectory() && pack.name.startsWith('rules')) walk(join(folder, pack.name));
  return newest;
}
