/**
 * Case-insensitive comparison form of a text: lower case, with the Greek final sigma (ς, which
 * `toLowerCase` writes at the end of a word) the same as σ, so that "ΟΣ", "ος" and "οσ" agree.
 */
export function foldCase(text: string): string {
  const lower = text.toLowerCase();
  return lower.includes('\u03c2') ? lower.replaceAll('\u03c2', '\u03c3') : lower;
}
