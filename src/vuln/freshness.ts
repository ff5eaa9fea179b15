import type { EpssScores, KevCatalog } from '../content/index.js';

/** Content older than this misses what was added since: a week of KEV entries is a dozen CVEs. */
const STALE_AFTER_DAYS = 7;

/**
 * A warning for each of KEV and EPSS that is older than a week on `today` (YYYY-MM-DD), or whose
 * date is unknown: decisions made with it miss the CVEs exploited since.
 */
export function staleContent(content: { kev?: KevCatalog; epss?: EpssScores }, today: string): string[] {
  const warnings: string[] = [];
  const check = (name: string, source: string, date: string | undefined) => {
    const day = date?.slice(0, 10);
    const age = day
      ? Math.floor((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`)) / 86_400_000)
      : NaN;
    if (Number.isNaN(age))
      warnings.push(
        `the ${name} does not say when it was published: it may be old (vigil content update --only ${source})`,
      );
    else if (age > STALE_AFTER_DAYS)
      warnings.push(
        `the ${name} is from ${day}, ${age} days old: decisions miss what changed since (vigil content update --only ${source})`,
      );
  };
  if (content.kev) check('KEV catalogue', 'kev', content.kev.released);
  if (content.epss) check('EPSS file', 'epss', content.epss.date);
  return warnings;
}
