import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The filter changes measured: the queue's address after the change. */
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

export interface QueueTiming {
  /** One row per filter change: its name, then browser median / worst and the server's median. */
  rows: [string, string][];
  /** The slowest median of a filter change in the browser, in ms. */
  worstMedianMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The console's alert queue answering filter changes, for a tenant filled by fillAlerts (whose
 * hosts, rules and assignees the changes name): headless Chromium signed in with the token, each
 * change timed from the navigation to the loaded page (request, query, rendering, layout),
 * `rounds` times; and the same page fetched without a browser, the server's share of that time.
 * Shared by bench:console and bench:serve.
 */
export async function timeQueueFilters(url: string, token: string, rounds: number): Promise<QueueTiming> {
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
    const rows: [string, string][] = [['filter change', 'browser median / worst    server median']];
    let worstMedianMs = 0;
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
      worstMedianMs = Math.max(worstMedianMs, median(browserMs));
      rows.push([
        name,
        `${median(browserMs).toFixed(0).padStart(4)} ms / ${Math.max(...browserMs)
          .toFixed(0)
          .padStart(4)} ms    ${median(serverMs).toFixed(0).padStart(4)} ms`,
      ]);
    }
    return { rows, worstMedianMs };
  } finally {
    await browser.close();
  }
}
