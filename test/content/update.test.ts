import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNameHistory, HISTORY_RELEASES, readStixBundle } from '../../src/attack/index.js';
import { readManifest, updateContent } from '../../src/content/index.js';
import { contentPath, hasContent } from '../helpers/content.js';
import { attackRelease, bundleText, technique } from '../helpers/stix.js';

const BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

/** A tiny ATT&CK release: T1218 under the name it had before v11. */
function oldRelease(version: string): string {
  return bundleText([
    attackRelease(version),
    technique('t1218', 'T1218', 'Signed Binary Proxy Execution', ['defense-evasion']),
    technique('gone', 'T1999', 'Gone Since', ['defense-evasion']),
  ]);
}

describe.skipIf(!hasContent)('vigil content update', () => {
  let server: Server;
  let mirror: string;
  let home: string;
  /** What the mirror answers, by path; a function can fail on purpose. */
  const routes = new Map<string, () => { status: number; body: Uint8Array | string }>();

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'vigil-content-'));
    const file =
      (...parts: string[]) =>
      () => ({ status: 200, body: readFileSync(contentPath(...parts)) });
    routes.set('/attack/enterprise-attack.json', file('attack', 'enterprise-attack.json'));
    routes.set(
      '/kev/known_exploited_vulnerabilities.json',
      file('kev', 'known_exploited_vulnerabilities.json'),
    );
    const epss = readdirSync(contentPath('epss')).find((f) => f.endsWith('.csv.gz'))!;
    routes.set('/epss/epss_scores-current.csv.gz', file('epss', epss));
    for (const name of ['cisa_coordinator_2_0_3.json', 'cisa_bod_26_04_1_0_0.json'])
      routes.set(`/ssvc/${name}`, file('ssvc', name));
    for (const version of HISTORY_RELEASES) {
      routes.set(`/attack/releases/enterprise-attack-${version}.json`, () =>
        version === '18.1'
          ? file('attack', 'enterprise-attack.json')()
          : { status: 200, body: oldRelease(version) },
      );
    }
    // The archives are zipped from the shared folders, as their publishers lay them out.
    const ruleDir = contentPath('sigma', 'rules', 'windows', 'process_creation');
    const rules: Record<string, Uint8Array> = {};
    for (const name of readdirSync(ruleDir).slice(0, 40)) {
      rules[`rules/windows/process_creation/${name}`] = readFileSync(join(ruleDir, name));
    }
    rules['README.md'] = new TextEncoder().encode('not a rule');
    routes.set('/sigma/sigma_all_rules.zip', () => ({ status: 200, body: zipSync(rules) }));
    const lists: Record<string, Uint8Array> = {};
    for (const name of ['public-dns-v4', 'tlds', 'alexa']) {
      const path = contentPath('warninglists', 'lists', name, 'list.json');
      if (existsSync(path)) lists[`misp-warninglists-main/lists/${name}/list.json`] = readFileSync(path);
    }
    lists['misp-warninglists-main/README.md'] = new TextEncoder().encode('#');
    lists['misp-warninglists-main/../../escape.json'] = new TextEncoder().encode('{}');
    routes.set('/warninglists/misp-warninglists.zip', () => ({ status: 200, body: zipSync(lists) }));
    const lolbas: Record<string, Uint8Array> = {
      'LOLBAS-master/LICENSE': readFileSync(contentPath('lolbas', 'LICENSE')),
      'LOLBAS-master/README.md': new TextEncoder().encode('#'),
    };
    for (const name of ['Wmic.yml', 'Certutil.yml']) {
      lolbas[`LOLBAS-master/yml/OSBinaries/${name}`] = readFileSync(
        contentPath('lolbas', 'yml', 'OSBinaries', name),
      );
    }
    routes.set('/lolbas/lolbas.zip', () => ({ status: 200, body: zipSync(lolbas) }));

    server = createServer((request, response) => {
      const route = routes.get(request.url ?? '');
      const answer = route ? route() : { status: 404, body: 'not found' };
      response.writeHead(answer.status, { 'content-length': Buffer.byteLength(answer.body) });
      response.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  it('downloads, verifies and installs every source, with progress and a manifest', async () => {
    const phases = new Set<string>();
    const results = await updateContent({
      home,
      mirror,
      onProgress: (e) => phases.add(`${e.source}:${e.phase}`),
    });
    expect(results.map((r) => [r.source, r.ok, r.error])).toEqual([
      ['attack', true, undefined],
      ['sigma', true, undefined],
      ['kev', true, undefined],
      ['epss', true, undefined],
      ['warninglists', true, undefined],
      ['ssvc', true, undefined],
      ['lolbas', true, undefined],
    ]);
    expect(phases).toContain('attack:download');
    expect(phases).toContain('sigma:unpack');
    const content = join(home, 'content');
    expect(readdirSync(join(content, 'sigma', 'rules', 'windows', 'process_creation'))).toHaveLength(40);
    expect(existsSync(join(content, 'sigma', 'README.md'))).toBe(false);
    expect(existsSync(join(content, 'warninglists', 'lists', 'tlds', 'list.json'))).toBe(true);
    expect(existsSync(join(home, 'escape.json'))).toBe(false);
    expect(readdirSync(join(content, 'lolbas')).sort()).toEqual(['LICENSE', 'yml']);
    expect(readManifest(content).lolbas?.summary).toBe('2 binaries, scripts and libraries');
    const manifest = readManifest(content);
    expect(manifest.attack).toMatchObject({
      version: '18.1',
      origin: `${mirror}/attack/enterprise-attack.json`,
    });
    expect(manifest.kev?.version).toBe('2026.08.21');
    // The ATT&CK index is built at install time, so the first command does not wait for it.
    expect(readdirSync(join(home, 'cache')).some((f) => f.startsWith('attack-'))).toBe(true);
  });

  it('builds the name history from the versioned releases, for the techniques of the newest', () => {
    const history = JSON.parse(
      readFileSync(join(home, 'content', 'attack', 'technique-name-history.json'), 'utf8'),
    );
    expect(history.T1218['v7.2']).toEqual(['Signed Binary Proxy Execution', 'active']);
    expect(history.T1218['v18.1']).toEqual(['System Binary Proxy Execution', 'active']);
    expect(history.T1999).toBeUndefined();
  });

  it('keeps the previous copy when a download fails or what arrives does not check out', async () => {
    const before = readManifest(join(home, 'content')).kev!;
    routes.set('/kev/known_exploited_vulnerabilities.json', () => ({ status: 503, body: 'down' }));
    routes.set('/epss/epss_scores-current.csv.gz', () => ({ status: 200, body: 'not gzip' }));
    const results = await updateContent({ home, mirror, only: ['kev', 'epss'] });
    expect(results[0]).toMatchObject({ ok: false, error: expect.stringMatching(/HTTP 503/) });
    expect(results[1]).toMatchObject({ ok: false, error: expect.stringMatching(/not a gzip file/) });
    expect(readManifest(join(home, 'content')).kev).toEqual(before);
    expect(existsSync(join(home, 'content', 'kev', 'known_exploited_vulnerabilities.json'))).toBe(true);
    expect(readdirSync(join(home, 'content')).filter((f) => f.startsWith('.staging'))).toEqual([]);
    // Checked as strictly as `vulns` will read them: a percentile above 1, a table without values.
    routes.set('/epss/epss_scores-current.csv.gz', () => ({
      status: 200,
      body: gzipSync('cve,epss,percentile\nCVE-2021-44228,0.97,1.5\n'),
    }));
    const bodTable = routes.get('/ssvc/cisa_bod_26_04_1_0_0.json')!;
    const table = JSON.parse(readFileSync(contentPath('ssvc', 'cisa_bod_26_04_1_0_0.json'), 'utf8'));
    delete Object.values(table.decision_points as Record<string, { values?: unknown }>)[0]!.values;
    routes.set('/ssvc/cisa_bod_26_04_1_0_0.json', () => ({ status: 200, body: JSON.stringify(table) }));
    const strict = await updateContent({ home, mirror, only: ['epss', 'ssvc'] });
    routes.set('/epss/epss_scores-current.csv.gz', () => ({
      status: 200,
      body: gzipSync('cve,percentile,epss\nCVE-2021-44228,0.99,0.97\n'),
    }));
    const [swapped] = await updateContent({ home, mirror, only: ['epss'] });
    expect(swapped).toMatchObject({ ok: false, error: expect.stringMatching(/:1: expected the header/) });
    expect(strict[0]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/csv\.gz:2: not "cve,epss,percentile"/),
    });
    expect(strict[1]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/decision point .* has no key or no list of values/),
    });
    routes.set('/ssvc/cisa_bod_26_04_1_0_0.json', bodTable);
    // A LOLBAS entry advisory intake could not read is refused, and the previous copy kept.
    const lolbas = routes.get('/lolbas/lolbas.zip')!;
    routes.set('/lolbas/lolbas.zip', () => ({
      status: 200,
      body: zipSync({ 'LOLBAS-master/yml/OSBinaries/X.yml': new TextEncoder().encode('Description: x\n') }),
    }));
    const [nameless] = await updateContent({ home, mirror, only: ['lolbas'] });
    expect(nameless).toMatchObject({
      ok: false,
      error: expect.stringMatching(/X\.yml: lolbas: an entry needs a Name/),
    });
    expect(existsSync(join(home, 'content', 'lolbas', 'yml', 'OSBinaries', 'Wmic.yml'))).toBe(true);
    routes.set('/lolbas/lolbas.zip', lolbas);
  });

  it('keeps the previous ATT&CK when the new one cannot be indexed, and says where it is wrong', async () => {
    const before = readManifest(join(home, 'content')).attack!;
    const from = join(home, 'bad-from');
    mkdirSync(join(from, 'attack'), { recursive: true });
    symlinkSync(
      contentPath('attack', 'enterprise-attack.json'),
      join(from, 'attack', 'enterprise-attack.json'),
    );
    writeFileSync(join(from, 'attack', 'technique-name-history.json'), '{"T1059": null}');
    const [result] = await updateContent({ home, from, only: ['attack'] });
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/T1059.*must map releases/) });
    expect(readManifest(join(home, 'content')).attack).toEqual(before);
    const installed = readFileSync(join(home, 'content', 'attack', 'technique-name-history.json'), 'utf8');
    expect(installed).not.toBe('{"T1059": null}');
  });

  it('runs from the command line against a mirror, and copies from a folder', async () => {
    const run = promisify(execFile);
    const env = {
      ...process.env,
      VIGIL_HOME: join(home, 'cli'),
      VIGIL_CONTENT_MIRROR: mirror,
      NO_COLOR: '1',
    };
    const failed = await run(process.execPath, [BIN, 'content', 'update', '--only', 'kev'], { env }).catch(
      (e) => e,
    );
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/kev\s+│ failed/);
    const copied = await run(
      process.execPath,
      [BIN, 'content', 'update', '--only', 'kev', '--from', contentPath()],
      { env },
    );
    expect(copied.stdout).toMatch(/kev\s+│ updated │ 2026\.08\.21/);
    const status = await run(process.execPath, [BIN, 'content', 'status', '--json'], {
      env: { ...env, VIGIL_CONTENT_DIR: '' },
    });
    const parsed = JSON.parse(status.stdout);
    expect(parsed.sources.find((s: { source: string }) => s.source === 'kev')).toMatchObject({
      present: true,
      version: '2026.08.21',
    });
    expect(parsed.sources.find((s: { source: string }) => s.source === 'epss')).toMatchObject({
      present: false,
    });
    // A named folder that does not exist is the one shown, with how to fix it: not the default one.
    const missing = join(home, 'no-such-content');
    const pointless = await run(process.execPath, [BIN, 'content', 'status', '--json'], {
      env: { ...env, VIGIL_CONTENT_DIR: missing },
    }).catch((e) => e);
    expect(pointless.code).toBe(1);
    expect(JSON.parse(pointless.stdout)).toMatchObject({ folder: missing, via: null });
    expect(pointless.stderr).toContain(`The content folder ${missing} does not exist.`);
    const bad = await run(process.execPath, [BIN, 'content', 'update', '--only', 'kev,nope'], { env }).catch(
      (e) => e,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--only takes attack, sigma, kev, epss, warninglists, ssvc, lolbas; not 'nope'/,
    );
  });
});

describe('content downloads', () => {
  it('keep to public addresses for the official sources; only a mirror the user named may be private', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vigil-content-policy-'));
    try {
      // As if the network's DNS sent CISA's name to this machine.
      const [kev] = await updateContent({
        home,
        only: ['kev'],
        fetch: { resolve: async () => [{ address: '127.0.0.1', family: 4 }] },
      });
      expect(kev).toMatchObject({ ok: false });
      expect(kev!.error).toBe(
        'kev: https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json: www.cisa.gov resolves to 127.0.0.1, a loopback address: not fetched unless an admin allows the host',
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasContent)('the technique name history', () => {
  it('built from the v18.1 bundle alone, matches the published history for v18.1', () => {
    const published = JSON.parse(readFileSync(contentPath('attack', 'technique-name-history.json'), 'utf8'));
    const built = buildNameHistory([
      { version: '18.1', bundle: readStixBundle(contentPath('attack', 'enterprise-attack.json')) },
    ]);
    expect(Object.keys(built).sort()).toEqual(Object.keys(published).sort());
    for (const [id, releases] of Object.entries(published) as [string, Record<string, unknown>][]) {
      expect(built[id]?.['v18.1'], id).toEqual(releases['v18.1']);
    }
  });
});
