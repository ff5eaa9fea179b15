import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vigil } from '../helpers/cli.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { makePdf } from '../intel/pdf.js';

describe.skipIf(!hasContent)('vigil attack and vigil advisory', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-intel-cli-'));
    env = { VIGIL_HOME: join(dir, 'home'), VIGIL_CONTENT_DIR: contentPath() };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('vigil attack group APT40 --json lists its techniques from the bundle', () => {
    const result = vigil(['attack', 'group', 'APT40', '--json'], env);
    expect(result.status).toBe(0);
    const group = JSON.parse(result.stdout);
    expect(group).toMatchObject({ id: 'G0065', name: 'Leviathan' });
    expect(group.aliases).toContain('APT40');
    expect(group.techniques.length).toBeGreaterThan(20);
    expect(group.techniques[0]).toMatchObject({
      id: expect.stringMatching(/^T\d{4}/),
      name: expect.any(String),
    });
  });

  it('vigil attack show resolves T1218 by ID and by its former name', () => {
    const byId = vigil(['attack', 'show', 'T1218'], env);
    expect(byId.status).toBe(0);
    expect(byId.stdout).toContain('T1218 System Binary Proxy Execution');
    const byName = vigil(['attack', 'show', 'Signed', 'Binary', 'Proxy', 'Execution', '--json'], env);
    expect(JSON.parse(byName.stdout)).toMatchObject({ id: 'T1218', matchedBy: 'former-name' });
  });

  it('says plainly when a technique or group is unknown', () => {
    const result = vigil(['attack', 'show', 'T1686'], env);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/ATT&CK v18\.1 has no technique "T1686"/);
    expect(vigil(['attack', 'group', 'Nobody', 'At', 'All'], env).status).toBe(2);
  });

  it('parses text and PDF advisories, as one JSON object for one input and an array for several', () => {
    const text =
      'Release date: March 1, 2021\nThe actors used T1059.001 and exfiltrated data to hxxp://203.0.113[.]9/up.\n';
    const file = join(dir, 'one.txt');
    writeFileSync(file, text);
    const pdf = join(dir, 'two.pdf');
    writeFileSync(pdf, makePdf([['Exploitation of CVE-2021-44228 (T1190).']]));
    const one = vigil(['advisory', 'parse', file, '--format', 'json'], env);
    expect(one.status).toBe(0);
    const parsed = JSON.parse(one.stdout);
    expect(parsed.published).toBe('2021-03-01');
    expect(parsed.techniques[0]).toMatchObject({ id: 'T1059.001', confidence: 1 });
    expect(parsed.indicators).toContainEqual(
      expect.objectContaining({ type: 'url', value: 'http://203.0.113.9/up', actionable: false }),
    );
    const both = vigil(['advisory', 'parse', file, pdf, '--format', 'json'], env);
    const array = JSON.parse(both.stdout);
    expect(array).toHaveLength(2);
    expect(array[1].cves[0]).toMatchObject({ id: 'CVE-2021-44228', kev: true });
    const markdown = vigil(['advisory', 'parse', pdf, '--format', 'md'], env);
    expect(markdown.stdout).toContain('| T1190 |');
    const noSuchDay = vigil(['advisory', 'parse', file, '--date', '2021-02-30'], env);
    expect(noSuchDay.status).toBe(2);
    expect(noSuchDay.stderr).toContain("--date must be a date as YYYY-MM-DD, not '2021-02-30'");
  });

  it('refuses bad input with a clear error, a non-zero exit and no stack trace, and goes on with the rest', () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    const binary = join(dir, 'random.bin');
    writeFileSync(binary, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const html = join(dir, 'blank.html');
    writeFileSync(html, '<html><head><title>x</title></head><body><script>var a=1</script></body></html>');
    const stix = join(dir, 'broken.json');
    writeFileSync(stix, '{"type": "bundle", "objects": [ {"type": ');
    const good = join(dir, 'good.txt');
    writeFileSync(good, 'They used T1486.');
    for (const [file, reason] of [
      [empty, /empty/],
      [binary, /binary/],
      [html, /no text/],
      [stix, /not valid JSON/],
      [join(dir, 'missing.txt'), /cannot read/],
    ] as const) {
      const result = vigil(['advisory', 'parse', file, '--format', 'json'], env);
      expect(result.status, file).toBe(1);
      expect(result.stderr).toMatch(reason);
      expect(result.stderr).toContain(file);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const mixed = vigil(['advisory', 'parse', empty, good, '--format', 'json'], env);
    expect(mixed.status).toBe(1);
    expect(JSON.parse(mixed.stdout)[0].techniques[0].id).toBe('T1486');
  });

  it('reads an advisory URL only from a public address, unless VIGIL_FETCH_ALLOW_HOSTS allows the host', async () => {
    const server = createServer((_request, response) => response.end('The actors used T1486.'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/advisory.txt`;
    // The server answers in this process: the command runs beside it, not blocking it.
    const run = (extra: NodeJS.ProcessEnv) =>
      promisify(execFile)(
        process.execPath,
        [
          fileURLToPath(new URL('../../bin/vigil.js', import.meta.url)),
          'advisory',
          'parse',
          url,
          '--format',
          'json',
        ],
        { env: { ...process.env, NO_COLOR: '1', ...env, ...extra } },
      ).then(
        (done) => ({ code: 0, ...done }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    try {
      const refused = await run({});
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `${url}: 127.0.0.1 is a loopback address: not fetched unless an admin allows the host`,
      );
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      const allowed = await run({ VIGIL_FETCH_ALLOW_HOSTS: 'intel.example, 127.0.0.1' });
      expect(allowed.code).toBe(0);
      expect(JSON.parse(allowed.stdout).techniques[0].id).toBe('T1486');
      const mistyped = await run({ VIGIL_FETCH_ALLOW_HOSTS: 'http://127.0.0.1/' });
      expect(mistyped.code).toBe(2);
      expect(mistyped.stderr).toContain('VIGIL_FETCH_ALLOW_HOSTS: not a host name, address or network');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
