import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  dataPaths,
  loadServiceConfig,
  openServiceStore,
  type Role,
  type ServiceStore,
  storeChoice,
} from '../../src/service/index.js';

const BIN = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

/** A `vigil serve` process of a test, on a free port, with what it logged. */
export interface RunningService {
  url: string;
  process: ChildProcess;
  log: () => string;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
}

/** Starts `vigil serve --data DIR ARGS...` and waits until it listens. */
export function startService(
  dataDir: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningService> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data', dataDir, '--listen', '127.0.0.1:0', ...args],
    {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const listening = /listening on (https?:\/\/\S+)/.exec(log);
      if (listening) {
        child.stderr!.off('data', onData);
        child.stderr!.on('data', (more: Buffer) => {
          log += more.toString();
        });
        resolve({ url: listening[1]!, process: child, log: () => log, exited });
      }
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.stderr!.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`vigil serve exited with ${code} before listening:\n${log}`)),
    );
  });
}

/** The data folder's store, opened as `vigil admin --data DIR` opens it, for the work given. */
async function withDataStore<T>(dataDir: string, work: (store: ServiceStore) => Promise<T>): Promise<T> {
  const store = await openServiceStore(
    storeChoice(loadServiceConfig(dataDir).store, dataPaths(dataDir).database),
  );
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * Makes a tenant and the tokens a test needs in the data folder's store, with the store calls
 * `vigil admin tenant add` and `token add` make. In-process: a spawn of `vigil admin` costs more
 * than half a second of start-up, and the tests that use this check the service, not the command
 * (which access.test.ts and serve-postgres.test.ts run as an operator would).
 */
export function provision(
  dataDir: string,
  tenant: string,
  roles: readonly Role[],
): Promise<Record<string, string>> {
  return withDataStore(dataDir, async (store) => {
    await store.addTenant(tenant, 'test-provision');
    const tokens: Record<string, string> = {};
    for (const role of roles)
      tokens[role] = (await store.addToken({ role, tenant, label: null }, 'test-provision')).secret;
    return tokens;
  });
}

/** A token of every tenant (an MSSP's), made in-process like those of `provision`. */
export function everyTenantToken(dataDir: string, role: Role, label: string | null = null): Promise<string> {
  return withDataStore(
    dataDir,
    async (store) => (await store.addToken({ role, tenant: null, label }, 'test-provision')).secret,
  );
}

export async function api(
  service: { url: string },
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers freely
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(service.url + path, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': contentType }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (metrics): keep the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
