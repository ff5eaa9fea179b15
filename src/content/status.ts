import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AttackKnowledge, attackSourceIn, loadKnowledge } from '../attack/index.js';
import { calendarDay, describeError } from '../core/index.js';
import { readSsvcTables } from './decision-tables.js';
import { epssFile, epssScoreDate } from './epss.js';
import { readKevCatalog } from './kev.js';
import { recordedCommit, sigmaRelease } from './sigma-release.js';
import { CONTENT_SOURCES, SOURCE_NAMES, type SourceName } from './sources.js';
import { type ManifestEntry, readManifest, sourcePresent } from './update.js';

/**
 * How old a source may be before it is stale, in days, from its publisher's own date. KEV and EPSS
 * change daily: a week-old copy misses the vulnerabilities exploited since. SigmaHQ releases rules
 * every month or two: a quarter is several releases behind. MITRE releases ATT&CK twice a year: past
 * half a year, a newer release is out. The warning lists and SSVC tables have no date to judge by.
 */
export const STALE_AFTER_DAYS: Partial<Record<SourceName, number>> = {
  kev: 7,
  epss: 7,
  sigma: 91,
  attack: 183,
};

export interface SourceStatus {
  source: SourceName;
  present: boolean;
  /** The publisher's version of this copy (KEV 2026.08.21, ATT&CK 18.1, Sigma r2026-07-01). */
  version: string | null;
  /** The publisher's own date of this copy (YYYY-MM-DD), not the day it was installed. */
  date: string | null;
  /** What that date is, to write before it: "released", "scores of", "commit of", "newest rule change". */
  dated: string | null;
  /** Days from that date to now. */
  ageDays: number | null;
  staleAfterDays: number | null;
  stale: boolean;
  /** When `vigil content update` installed it, from where, and what arrived (its manifest). */
  updated: string | null;
  origin: string | null;
  summary: string | null;
  /** What is wrong with it, to tell the user, with the command that fixes it. */
  warnings: string[];
}

export interface ContentStatus {
  folder: string;
  sources: SourceStatus[];
  /** The ATT&CK release indexed on the way (its date is the bundle's), for what else needs it. */
  attack?: AttackKnowledge;
}

export interface StatusOptions {
  /** Today, to age the sources by. */
  now?: Date;
  /** Where the ATT&CK index is cached (`$VIGIL_HOME/cache`). */
  cacheDir?: string;
}

const DAY_MS = 86_400_000;

/** Each source of a content folder: present or not, its own version and date, its age, stale or not. */
export function contentStatus(folder: string, options: StatusOptions = {}): ContentStatus {
  const now = (options.now ?? new Date()).getTime();
  const manifest = readManifest(folder);
  let attack: AttackKnowledge | undefined;
  const sources = SOURCE_NAMES.map((name): SourceStatus => {
    const present = sourcePresent(folder, name);
    const entry: ManifestEntry | undefined = manifest[name];
    const warnings: string[] = [];
    let own: OwnDate = {};
    if (present) {
      try {
        own = ownDate(name, join(folder, CONTENT_SOURCES[name].folder), options.cacheDir);
        if (own.knowledge) attack = own.knowledge;
      } catch (error) {
        warnings.push(`cannot read its date: ${describeError(error)}`);
      }
    }
    const day = own.date ? calendarDay(own.date) : undefined;
    const ageDays = day === undefined ? null : Math.floor((now - day) / DAY_MS);
    const staleAfterDays = STALE_AFTER_DAYS[name] ?? null;
    const stale = ageDays !== null && staleAfterDays !== null && ageDays > staleAfterDays;
    if (stale) {
      warnings.push(
        `${own.dated} ${own.date}, ${ageDays} days ago: older than ${staleAfterDays} days, so stale. Update it with: vigil content update --only ${name}`,
      );
    }
    return {
      source: name,
      present,
      version: own.version ?? entry?.version ?? null,
      date: own.date ?? null,
      dated: own.date ? (own.dated ?? null) : null,
      ageDays,
      staleAfterDays,
      stale,
      updated: entry?.updated ?? null,
      origin: entry?.origin ?? null,
      summary: entry?.summary ?? null,
      warnings,
    };
  });
  return { folder, sources, attack };
}

interface OwnDate {
  version?: string;
  date?: string;
  dated?: string;
  knowledge?: AttackKnowledge;
}

/** The version and date a source's publisher gave the copy in `dir`. */
function ownDate(name: SourceName, dir: string, cacheDir: string | undefined): OwnDate {
  switch (name) {
    case 'kev': {
      const catalog = readKevCatalog(join(dir, CONTENT_SOURCES.kev.fileName!));
      return { version: catalog.version, date: isoDay(catalog.released), dated: 'released' };
    }
    case 'epss': {
      const date = epssScoreDate(epssFile(dir)!);
      return { version: date, date, dated: 'scores of' };
    }
    case 'attack': {
      const knowledge = loadKnowledge(attackSourceIn(dir, cacheDir));
      return {
        version: knowledge.version,
        date: isoDay(knowledge.modified),
        dated: 'released',
        knowledge,
      };
    }
    case 'sigma':
      return sigmaRelease(dir);
    case 'lolbas':
      return recordedCommit(dir) ?? {};
    case 'warninglists':
      return warningListsDate(dir);
    case 'ssvc':
      return {
        version: Object.values(readSsvcTables(dir))
          .map((table) => `${table.name} ${table.version}`)
          .join('; '),
      };
  }
}

/** The newest version of the lists that is a date (YYYYMMDD): most lists are versioned so. */
function warningListsDate(dir: string): OwnDate {
  const root = join(dir, 'lists');
  let newest: string | undefined;
  for (const name of readdirSync(root)) {
    const file = join(root, name, 'list.json');
    if (!existsSync(file)) continue;
    const version = String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? '');
    const match = /^(20\d{2})(\d{2})(\d{2})$/.exec(version);
    const date = match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
    if (date && calendarDay(date) !== undefined && (!newest || date > newest)) newest = date;
  }
  return newest ? { version: newest.replaceAll('-', ''), date: newest, dated: 'newest list of' } : {};
}

function isoDay(text: string | undefined): string | undefined {
  const day = /^(\d{4}-\d{2}-\d{2})/.exec(text ?? '')?.[1];
  return day && calendarDay(day) !== undefined ? day : undefined;
}
