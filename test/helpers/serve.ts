import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vigil } from './cli.js';

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

/** Makes a tenant and the tokens a test needs, through `vigil admin` as an operator would. */
export function provision(dataDir: string, tenant: string, roles: string[]): Record<string, string> {
  const add = vigil(['admin', '--data', dataDir, 'tenant', 'add', tenant]);
  if (add.status !== 0) throw new Error(add.stderr);
  const tokens: Record<string, string> = {};
  for (const role of roles) {
    const made = vigil(['admin', '--data', dataDir, 'token', 'add', '--role', role, '--tenant', tenant]);
    if (made.status !== 0) throw new Error(made.stderr);
    tokens[role] = made.stdout.trim().split('\n').at(-1)!;
  }
  return tokens;
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
