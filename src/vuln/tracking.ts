/** One scan's word on one finding: seen at `at`, or re-tested at `at` and not found. */
export interface Observation {
  at: string;
  present: boolean;
}

export interface TrackedState {
  status: 'open' | 'fixed';
  firstSeen: string;
  lastSeen: string;
  /** The first re-test without it after it was last seen. */
  fixedAt?: string;
  /** When it was last seen again after having been fixed. */
  reopenedAt?: string;
  /** How often it came back after being fixed. */
  reopened: number;
}

/**
 * The state of a finding from every observation of it, taken in scan time order whatever order
 * the scans were imported in: an older scan imported late neither reopens what a newer one found
 * fixed nor moves when it was fixed. At the same time, a sighting outweighs a re-test without it.
 * A re-test before the first sighting says nothing. Undefined when it was never seen.
 */
export function trackObservations(observations: readonly Observation[]): TrackedState | undefined {
  const ordered = [...observations].sort((a, b) =>
    a.at < b.at ? -1 : a.at > b.at ? 1 : Number(a.present) - Number(b.present),
  );
  let status: 'open' | 'fixed' | undefined;
  let firstSeen: string | undefined;
  let lastSeen: string | undefined;
  let fixedAt: string | undefined;
  let reopenedAt: string | undefined;
  let reopened = 0;
  for (const { at, present } of ordered) {
    if (present) {
      if (status === 'fixed') {
        reopened++;
        reopenedAt = at;
      }
      status = 'open';
      firstSeen ??= at;
      lastSeen = at;
      fixedAt = undefined;
    } else if (status === 'open') {
      status = 'fixed';
      fixedAt = at;
    }
  }
  if (!status || !firstSeen || !lastSeen) return undefined;
  return { status, firstSeen, lastSeen, fixedAt, reopenedAt, reopened };
}
