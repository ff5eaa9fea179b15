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
import { chromium } from 'playwright-core';
import { fillAlerts } from './alert-fill.js';
import { argNumber, count, printRows, VIGIL } from './common.js';

const alerts = argNumber('alerts', 100_000);
const rounds = argNumber('rounds', 7);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The filter changes measured: the queue's address before, and after. */
const CHANGES: [string, string][] = [
  ['host filter', '?host=host-43'],
  ['status filter', '?status=acknowledged'],
  ['level filter', '?level=critical'],
  ['rule filter', '?rule=bulk-rule-7'],
  ['assignee filter', '?assignee=analyst-3'],
  ['technique filter', '?technique=T1059.004'],
  ['time range', '?since=2025-03-01T00%3A00&until=2025-03-02T00%3A00'],
  ['sort by level', '?sort=level'],
  ['group by host', '?group=host'],
  ['host + status + sort', '?status=open&host=host-41&sort=count'],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

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

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${url}/console/sign-in`);
    await page.fill('#token', token);
    await Promise.all([page.waitForURL(/\/console\/alerts$/), page.click('#sign-in button[type=submit]')]);
    const cookie = (await context.cookies()).find((c) => c.name === 'vigil_session')!;

    console.log(
      `Console queue: ${count(alerts)} alerts in one tenant (service started and alerts written in ${(fillMs / 1000).toFixed(1)} s), ${rounds} rounds\n`,
    );
    const rows: [string, string][] = [['filter change', 'browser median / worst    server median']];
    for (const [name, query] of CHANGES) {
      const browserMs: number[] = [];
      const serverMs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await page.goto(`${url}/console/alerts`);
        // The change as the form makes it: a navigation to the filtered address.
        const start = performance.now();
        await page.evaluate(`window.location.assign(${JSON.stringify(`/console/alerts${query}`)})`);
        await page.waitForURL((u) => u.search === query);
        await page.waitForLoadState('load');
        browserMs.push(performance.now() - start);
        const fetchStart = performance.now();
        const response = await fetch(`${url}/console/alerts${query}`, {
          headers: { cookie: `vigil_session=${cookie.value}` },
        });
        await response.text();
        serverMs.push(performance.now() - fetchStart);
      }
      rows.push([
        name,
        `${median(browserMs).toFixed(0).padStart(4)} ms / ${Math.max(...browserMs)
          .toFixed(0)
          .padStart(4)} ms    ${median(serverMs).toFixed(0).padStart(4)} ms`,
      ]);
    }
    printRows(rows);
  } finally {
    await browser.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
