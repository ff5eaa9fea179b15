import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** Where the console tests leave their screenshots (the README shows copies from docs/). */
export const SCREENSHOTS = join(process.cwd(), 'test-output', 'console');

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Signs in through the form, as a person would; resolves on the page signing in leads to. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/console/sign-in`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(/\/console\/alerts$/), page.click('#sign-in button[type=submit]')]);
}

/** Runs an action that navigates, and waits for the page it leads to. */
export async function navigating(page: Page, action: () => Promise<unknown>): Promise<void> {
  await Promise.all([page.waitForNavigation(), action()]);
}

/** A browser context of its own (a laptop-sized window), signed in with a token. */
export async function openSession(
  browser: Browser,
  url: string,
  token: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await signIn(page, url, token);
  return { context, page };
}
