/**
 * The form names are compared in: lower case, accents dropped, `&` read as "and", every run of
 * punctuation, hyphens and spaces made one space. "Drive-by Compromise", "drive by compromise" and
 * "Drive By  Compromise." meet there.
 */
export function normalizeName(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** The normalised name without spaces: how run-together names ("ScanningGather") are matched. */
export function squashName(text: string): string {
  return normalizeName(text).replace(/ /g, '');
}

/** A technique ID as written by people (`t1059.001`, `T1059/001`) in its canonical form, or undefined. */
export function canonicalTechniqueId(text: string): string | undefined {
  const match = /^\s*t(\d{4})(?:[./](\d{3}))?\s*$/i.exec(text);
  if (!match) return undefined;
  return match[2] ? `T${match[1]}.${match[2]}` : `T${match[1]}`;
}

/** Name history as published beside the bundle: technique ID -> release -> [name, status]. */
export type NameHistory = Record<string, Record<string, [string, string]>>;

/** The names each ID carried in any release other than its current name. */
export function formerNamesFrom(
  history: NameHistory,
  currentNames: Map<string, string>,
): Record<string, string[]> {
  const former: Record<string, string[]> = {};
  for (const [id, releases] of Object.entries(history)) {
    const current = currentNames.get(id);
    const names = new Set<string>();
    for (const entry of Object.values(releases)) {
      const name = Array.isArray(entry) ? entry[0] : undefined;
      if (typeof name === 'string' && name !== current) names.add(name);
    }
    if (names.size > 0) former[id] = [...names];
  }
  return former;
}

/**
 * A light English stemmer, so that "copies"/"copy", "deletion"/"deleted"/"delete" and
 * "encryption"/"encrypted" meet. Crude next to Porter's, and meant to be: it only has to map the
 * forms ATT&CK and threat reports use to the same key, the same way on both sides.
 */
export function stem(word: string): string {
  let known = stems.get(word);
  if (known === undefined) {
    known = stemOf(word);
    // The words of ATT&CK and of reports are a vocabulary of some tens of thousands: each is
    // stemmed once. A text of unusual words cannot grow the memory without end.
    if (stems.size >= MAX_REMEMBERED_STEMS) stems.clear();
    stems.set(word, known);
  }
  return known;
}

const stems = new Map<string, string>();
const MAX_REMEMBERED_STEMS = 200_000;

function stemOf(word: string): string {
  let w = word.toLowerCase();
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (/(?:x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  else if (/[ts]ion$/.test(w) && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ment') && w.length > 7) w = w.slice(0, -4);
  else if (w.endsWith('al') && w.length > 5) w = w.slice(0, -2);
  else if (/[ae]nce$/.test(w) && w.length > 7) w = w.slice(0, -4);
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && !/(?:ss|ll)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1);
  if (w.endsWith('at') && w.length > 5) w = w.slice(0, -2);
  if (w.endsWith('y') && w.length > 4) w = w.slice(0, -1);
  return w;
}

/** Lower-case word tokens (letters and digits; `rundll32.exe` gives `rundll32`, `exe`). */
export function words(text: string): string[] {
  return normalizeName(text).split(' ').filter(Boolean);
}
