import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from '../../src/sigma/index.js';
import { contentPath, hasContent } from '../helpers/content.js';

describe.skipIf(!hasContent)('the parsed-rule cache', () => {
  let dir: string;
  let rules: string;
  let cacheDir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-rule-cache-'));
    rules = join(dir, 'rules');
    cacheDir = join(dir, 'cache');
    cpSync(contentPath('sigma', 'rules', 'windows', 'process_creation'), rules, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives back exactly the rule set a fresh parse gives, in the same order', async () => {
    const fresh = await loadRules([rules]);
    const first = await loadRules([rules], { cacheDir });
    expect(readdirSync(cacheDir)).toHaveLength(1);
    const cached = await loadRules([rules], { cacheDir });
    expect(cached).toEqual(fresh);
    expect(first).toEqual(fresh);
    expect(cached.rules.map((r) => r.id)).toEqual(fresh.rules.map((r) => r.id));
    expect(cached.rules[0]!.detection.searches).toBeInstanceOf(Map);
  });

  it('parses a changed file again, and never keeps a broken one', async () => {
    const file = join(rules, readdirSync(rules).find((f) => f.endsWith('.yml'))!);
    writeFileSync(
      file,
      'title: Changed\nlogsource: { product: windows, category: process_creation }\ndetection: { sel: { Image: x }, condition: sel }\n',
    );
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const changed = await loadRules([rules], { cacheDir });
    expect(changed.rules.some((r) => r.title === 'Changed')).toBe(true);
    writeFileSync(file, 'title: Broken\ndetection: { condition: nothing }\n');
    utimesSync(file, new Date(), new Date(Date.now() + 10000));
    for (let i = 0; i < 2; i++) {
      const broken = await loadRules([rules], { cacheDir });
      expect(broken.errors.map((e) => e.location.file)).toContain(file);
    }
  });

  it('deletes the caches of other builds once they are a month old, and keeps recent ones', async () => {
    const old = join(cacheDir, 'rules-0000000000000000.json');
    const recent = join(cacheDir, 'rules-1111111111111111.json');
    const other = join(cacheDir, 'attack-0000000000000000.json');
    for (const file of [old, recent, other]) writeFileSync(file, '{}');
    const longAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    utimesSync(old, longAgo, longAgo);
    utimesSync(other, longAgo, longAgo);
    const file = join(rules, readdirSync(rules).findLast((f) => f.endsWith('.yml'))!);
    utimesSync(file, new Date(), new Date(Date.now() + 20000)); // a change, so the cache is written
    await loadRules([rules], { cacheDir });
    const names = readdirSync(cacheDir);
    expect(names).not.toContain('rules-0000000000000000.json');
    expect(names).toContain('rules-1111111111111111.json');
    expect(names).toContain('attack-0000000000000000.json');
  });

  it('keeps each folder in a file of its own, and reads only the folders a run loads', async () => {
    const own = join(dir, 'own');
    mkdirSync(own);
    writeFileSync(
      join(own, 'local.yml'),
      'title: Local\nlogsource: { product: windows, category: process_creation }\ndetection: { sel: { Image: x }, condition: sel }\n',
    );
    const separate = join(dir, 'separate-cache');
    const both = await loadRules([rules, own], { cacheDir: separate });
    const files = readdirSync(separate).map((name) => join(separate, name));
    expect(files).toHaveLength(2);
    const earlier = new Date(Date.now() - 3600 * 1000);
    for (const file of files) utimesSync(file, earlier, earlier);
    const local = await loadRules([own], { cacheDir: separate });
    expect(local.rules.map((r) => r.title)).toEqual(['Local']);
    // The pack's file was not read (reading marks a cache file used), only the folder's own.
    const touched = files.filter((file) => statSync(file).mtimeMs > earlier.getTime() + 1000);
    expect(touched).toHaveLength(1);
    expect(await loadRules([rules, own], { cacheDir: separate })).toEqual(both);
  });

  it('ignores a damaged cache file', async () => {
    for (const name of readdirSync(cacheDir)) writeFileSync(join(cacheDir, name), '{"not json');
    const fresh = await loadRules([rules]);
    expect(await loadRules([rules], { cacheDir })).toEqual(fresh);
  });
});
