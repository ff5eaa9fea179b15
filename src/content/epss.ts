import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { VigilError } from '../core/index.js';

export interface EpssScores {
  /** Score date (YYYY-MM-DD) when the file says. */
  date?: string;
  scores: Map<string, { epss: number; percentile: number }>;
}

/** The date FIRST's header comment gives the scores: `#model_version:v2025.03.14,score_date:2026-08-16T…`. */
const SCORE_DATE = /score_date:(\d{4}-\d{2}-\d{2})/;

/** The date in a file's name (`epss_scores-2026-08-16.csv.gz`), the day the scores are of. */
function dateInName(file: string): string | undefined {
  return /(\d{4}-\d{2}-\d{2})[^/\\]*$/.exec(file)?.[1];
}

/**
 * The date of the scores, read from the first line alone: the header comment's `score_date`, or
 * else the file's name. A file that cannot be read gives none.
 */
export function epssScoreDate(file: string): string | undefined {
  try {
    // The first kilobytes are enough for the first line: no need to inflate 300,000 rows.
    const start = readFileSync(file).subarray(0, 16_384);
    const text = (
      file.endsWith('.gz') ? gunzipSync(start, { finishFlush: constants.Z_SYNC_FLUSH }) : start
    ).toString('utf8');
    const first = text.split('\n', 1)[0] ?? '';
    return (first.startsWith('#') ? SCORE_DATE.exec(first)?.[1] : undefined) ?? dateInName(file);
  } catch {
    return dateInName(file);
  }
}

/** FIRST EPSS scores as published (`epss_scores-YYYY-MM-DD.csv.gz`, an optional `#model_version…` line first). */
export function readEpss(file: string): EpssScores {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new VigilError('EPSS_INVALID', `cannot read the EPSS scores: ${(error as Error).message}`, {
      file,
    });
  }
  let text: string;
  try {
    text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (error) {
    throw new VigilError('EPSS_INVALID', `not a gzip file: ${(error as Error).message}`, { file });
  }
  const scores = new Map<string, { epss: number; percentile: number }>();
  let date = dateInName(file);
  let line = 0;
  let header = false;
  for (const row of text.split('\n')) {
    line++;
    if (row.startsWith('#')) {
      date = SCORE_DATE.exec(row)?.[1] ?? date;
      continue;
    }
    if (!row.trim()) continue;
    // The columns are known by the header alone: scores read in another order would be wrong.
    if (!header) {
      if (row.trim() !== 'cve,epss,percentile') {
        throw new VigilError('EPSS_INVALID', 'expected the header "cve,epss,percentile"', { file, line });
      }
      header = true;
      continue;
    }
    const [cve, epss, percentile] = row.trim().split(',');
    const e = Number(epss);
    const p = Number(percentile);
    if (!/^CVE-\d{4}-\d{4,}$/.test(cve ?? '') || !(e >= 0 && e <= 1) || !(p >= 0 && p <= 1)) {
      throw new VigilError('EPSS_INVALID', `not "cve,epss,percentile": ${row.slice(0, 80)}`, { file, line });
    }
    scores.set(cve!, { epss: e, percentile: p });
  }
  return { date, scores };
}

/** The EPSS file of the folder: `epss_scores-*.csv.gz`, the newest by name. */
export function epssFile(folder: string): string | undefined {
  if (!existsSync(folder)) return undefined;
  const files = readdirSync(folder)
    .filter((f) => /^epss_scores-.*\.csv\.gz$/.test(f))
    .sort();
  return files.length ? join(folder, files.at(-1)!) : undefined;
}
