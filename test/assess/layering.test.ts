import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** assess/ is shared by the faces: it sits under them and leaves the terminal to them. */

const ASSESS = fileURLToPath(new URL('../../src/assess', import.meta.url));
/** The modules below assess; it reaches each only through its index.ts. */
const BELOW = ['attack', 'content', 'core', 'coverage', 'detect', 'intel', 'logs', 'report', 'sigma', 'vuln'];

const sources = readdirSync(ASSESS)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => ({ name, text: readFileSync(join(ASSESS, name), 'utf8') }));

describe('src/assess', () => {
  it('imports the modules below it through their public faces, and never cli or server', () => {
    const imports = sources.flatMap(({ name, text }) =>
      [...text.matchAll(/from '\.\.\/([^']+)'/g)].map((m) => ({ name, path: m[1]! })),
    );
    expect(imports.length).toBeGreaterThan(10);
    const outside = imports
      .filter(({ path }) => !BELOW.some((module) => path === `${module}/index.js`))
      .map(({ name, path }) => `${name}: ../${path}`);
    expect(outside).toEqual([]);
  });

  it('never writes to the terminal or sets the exit code: faces do', () => {
    const printing = sources
      .filter(({ text }) => /process\.(stdout|stderr|exitCode|exit\b)|console\./.test(text))
      .map(({ name }) => name);
    expect(printing).toEqual([]);
  });
});
