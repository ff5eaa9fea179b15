import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FETCH_LIMITS, VigilError } from '../../src/core/index.js';
import { loadServiceConfig } from '../../src/service/index.js';

describe("the service's fetch settings", () => {
  let data: string;
  beforeAll(() => {
    data = mkdtempSync(join(tmpdir(), 'vigil-fetch-config-'));
  });
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  const load = (text: string) => {
    writeFileSync(join(data, 'config.yml'), text);
    return loadServiceConfig(data);
  };

  it('allows no private host by default, within the limits advisories are fetched with', () => {
    expect(load('threads: 1\n').fetch).toEqual({
      allowHosts: [],
      maxBytes: DEFAULT_FETCH_LIMITS.maxBytes,
      timeoutMs: DEFAULT_FETCH_LIMITS.timeoutMs,
    });
  });

  it('takes the hosts an admin allows and the limits from config.yml', () => {
    const config = load(
      'fetch:\n  allow_hosts: [intel.corp.example, "*.cti.corp.example", 10.20.0.0/16]\n  max_bytes: 8MiB\n  timeout: 30s\n',
    );
    expect(config.fetch).toEqual({
      allowHosts: ['intel.corp.example', '*.cti.corp.example', '10.20.0.0/16'],
      maxBytes: 8 * 1024 ** 2,
      timeoutMs: 30_000,
    });
  });

  it('refuses an entry that is not a host, naming its line', () => {
    let error: unknown;
    try {
      load('fetch:\n  allow_hosts:\n    - intel.corp.example\n    - https://intel.corp.example/feed\n');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VigilError);
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'a host name, *.domain, address or network',
      location: { field: 'fetch.allow_hosts.1', line: 4 },
    });
  });
});
