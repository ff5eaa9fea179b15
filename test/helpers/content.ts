import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { locateContent } from '../../src/content/index.js';

/**
 * The one way tests reach third-party reference data (../shared/content, or VIGIL_CONTENT_DIR).
 * When it is absent, the tests that need it are skipped with a loud message instead of failing.
 */
const located = locateContent();

export const contentDir: string | undefined = located?.dir;

if (!contentDir) {
  console.warn(
    '\n*** Reference content not found (set VIGIL_CONTENT_DIR or place shared/content beside the checkout): tests on real data are SKIPPED ***\n',
  );
}

export function contentPath(...parts: string[]): string {
  if (!contentDir) throw new Error('reference content is not available');
  return join(contentDir, ...parts);
}

export const hasContent = contentDir !== undefined;

/**
 * The reference content in `dir` (each part linked, not copied), but with FIRST EPSS scores of
 * only the CVEs named in `inputs`: the real rows of the real file, under its name. Reading the
 * whole file (about 300,000 rows) is most of what a `vigil vulns` command costs, and a test that
 * runs the command dozens of times over a few CVEs looks up no other.
 */
export function contentWithEpssOf(dir: string, inputs: readonly string[]): string {
  const named = new Set<string>();
  for (const input of inputs)
    for (const [cve] of readFileSync(input, 'utf8').matchAll(/CVE-\d{4}-\d{4,}/g)) named.add(cve);
  mkdirSync(dir, { recursive: true });
  for (const part of readdirSync(contentPath()))
    if (part !== 'epss') symlinkSync(contentPath(part), join(dir, part));
  mkdirSync(join(dir, 'epss'));
  for (const file of readdirSync(contentPath('epss'))) {
    if (!file.endsWith('.csv.gz')) continue;
    const rows = gunzipSync(readFileSync(contentPath('epss', file)))
      .toString('utf8')
      .split('\n')
      .filter(
        (row) => row.startsWith('#') || row.startsWith('cve,') || named.has(row.slice(0, row.indexOf(','))),
      );
    writeFileSync(join(dir, 'epss', file), gzipSync(`${rows.join('\n')}\n`));
  }
  return dir;
}
