/**
 * Undoes the ways advisories "defang" indicators so that nobody clicks them: `hxxp://`,
 * `evil[.]com`, `evil(dot)com`, `user[@]host`, `http[:]//`, `1.2.3[.]4`, `example\.com`. Only
 * bracketed or escaped forms are rewritten: a bare " dot " in prose stays prose.
 */
const REWRITES: [RegExp, string][] = [
  // Zero-width characters and soft hyphens some publishers put inside indicators.
  [/[\u200b-\u200d\u2060\ufeff\u00ad]/g, ''],
  [/\b[hH][xX]{2}[pP]([sS]?)(?![A-Za-z0-9])/g, 'http$1'],
  [/\bf(?:x|X)p\b(?=\s*(?:\[:\]|:))/g, 'ftp'],
  [/\[:\/\/\]|\(:\/\/\)|\{:\/\/\}/g, '://'],
  [/\[\/\/\]/g, '//'],
  [/\[:\]|\(:\)|\{:\}/g, ':'],
  [/\s?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\[DOT\]|\(DOT\)|\{DOT\}|\[punkt\])\s?/g, '.'],
  [/\[\.(?=[a-z0-9])|(?<=[a-z0-9])\.\]/gi, '.'],
  [/\s?(?:\[@\]|\(@\)|\{@\}|\[at\]|\(at\)|\{at\}|\[AT\]|\(AT\)|\{AT\})\s?/g, '@'],
  [/\[\/\]/g, '/'],
  [/\u3002|\uff0e/g, '.'],
];

/** What every defanged form above holds; text without any is returned as it is, at once. */
const MAYBE_DEFANGED = /[[\](){}\u200b-\u200d\u2060\ufeff\u00ad\u3002\uff0e]|[hH][xX]{2}[pP]|f[xX]p/;

export function refang(text: string): string {
  if (!MAYBE_DEFANGED.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of REWRITES) out = out.replace(pattern, replacement);
  return out;
}
