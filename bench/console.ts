/**
 * Console benchmark: the alert queue of a tenant holding --alerts alerts (100,000 by default).
 *
 *   1. `vigil serve` on a fresh data folder; the tenant's alerts written straight into SQLite;
 *   2. headless Chromium signed in to the console: each filter change timed from the action to
 *      the loaded page (request, query, rendering, layout), --rounds times, median and worst;
 *   3. the same pages fetched without a browser: the server's share of that time.
 *
 *   npm run bench:console [-- --alerts N] [-- --rounds R]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillAlerts } from './alert-fill.js';
import { argNumber, count, printRows, VIGIL } from './common.js';
import { timeQueueFilters } from './queue-timing.js';

const alerts = argNumber('alerts', 100_000);
const rounds = argNumber('rounds', 7);
async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-console-'));
  const data = join(dir, 'data');
  const env = { ...process.env, VIGIL_HOME: join(dir, 'home') };
  const admin = (args: string[]) => {
    const result = spawnSync(process.execPath, [VIGIL, 'admin', '--data', data, ...args], {
      encoding: 'utf8',
      env,
    });
    if (result.status !== 0) throw new Error(result.stderr);
    return result.stdout.trim().split('\n').at(-1)!;
  };
  admin(['tenant', 'add', 'big']);
  const token = admin(['token', 'add', '--role', 'analyst', '--tenant', 'big']);
  mkdirSync(join(dir, 'rules'));
  const fillStart = performance.now();
  const child = spawn(
    process.execPath,
    [VIGIL, 'serve', '--data', data, '--listen', '127.0.0.1:0', '--rules', join(dir, 'rules')],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const match = /listening on (\S+)/.exec(log);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`vigil serve exited with ${code}:\n${log}`)));
  });
  fillAlerts(join(data, 'vigil.db'), 'big', alerts);
  const fillMs = performance.now() - fillStart;

  try {
    console.log(
      `Console queue: ${count(alerts)} alerts in one tenant (service started and alerts written in ${(fillMs / 1000).toFixed(1)} s), ${rounds} rounds\n`,
    );
    printRows((await timeQueueFilters(url, token, rounds)).rows);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
