import { join } from 'node:path';
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
