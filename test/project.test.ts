import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Checks of the checkout itself: what `npm ci` and `npm test` do beyond the code. */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;
}

describe('the checkout', () => {
  it('lints only its own files: a report a user writes inside the checkout does not fail npm run lint', () => {
    const lint = (readJson('package.json').scripts as Record<string, string>).lint!;
    const flags = lint.split(' ').filter((word) => word.startsWith('--'));
    // What `vigil assess --out report2` and a hand-written script would leave behind.
    const folder = mkdtempSync(join(ROOT, 'report-'));
    try {
      writeFileSync(join(folder, 'report.json'), '{"a": 1,}');
      writeFileSync(join(folder, 'notes.js'), 'var  x = 1;;\nconsole.log( x )\n');
      writeFileSync(join(folder, 'report.html'), '<html><body><p>x');
      const result = spawnSync(
        join(ROOT, 'node_modules', '.bin', 'biome'),
        ['check', ...flags, basename(folder), 'package.json'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout + result.stderr).toContain('Checked 1 file');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('allows the install scripts of the dependencies that have them, so npm ci prints no warning', () => {
    const allowed = (readJson('package.json').allowScripts ?? {}) as Record<string, boolean>;
    const packages = readJson('package-lock.json').packages as Record<
      string,
      { version?: string; hasInstallScript?: boolean }
    >;
    const withScripts = Object.entries(packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path, entry]) => ({ name: path.slice(path.lastIndexOf('node_modules/') + 13), ...entry }));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const { name, version } of withScripts) {
      const covered = allowed[name] ?? allowed[`${name}@${version}`];
      expect({ name, covered }).toEqual({ name, covered: true });
    }
  });

  it('installs on the Node.js it supports: no locked package asks for a newer one (npm ci would warn)', () => {
    const supported = Number(
      />=\s*(\d+)/.exec((readJson('package.json').engines as { node: string }).node)![1],
    );
    const packages = readJson('package-lock.json').packages as Record<
      string,
      { version?: string; engines?: { node?: string } }
    >;
    const tooNew = Object.entries(packages)
      .filter(([path, entry]) => {
        const least = /^>=\s*(\d+)/.exec(entry.engines?.node ?? '')?.[1];
        return path !== '' && least !== undefined && Number(least) > supported;
      })
      .map(([path, entry]) => `${path}@${entry.version} needs node ${entry.engines!.node}`);
    expect(tooNew).toEqual([]);
  });

  it('shows in the README a screenshot of each console screen its tests photograph, and every image it links exists', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+\.png)\)/g)].map((m) => m[1]!);
    for (const image of images) expect(existsSync(join(ROOT, image)), image).toBe(true);
    const folder = join(ROOT, 'test', 'console');
    const taken = readdirSync(folder)
      .filter((file) => file.endsWith('.test.ts'))
      .flatMap((file) =>
        [...readFileSync(join(folder, file), 'utf8').matchAll(/screenshot\(\w+, '([\w-]+)'/g)].map(
          (m) => m[1]!,
        ),
      );
    // Other states of screens the README shows already: the whole alert page, the queue after a
    // live alert, and the queue of 100,000 alerts.
    const variants = new Set(['alert-full', 'queue-live', 'queue-100k']);
    const screens = [...new Set(taken)].filter((name) => !variants.has(name));
    expect(screens.length).toBeGreaterThan(10);
    for (const name of screens) expect(images, name).toContain(`docs/console-${name}.png`);
  });
});
