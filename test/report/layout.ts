import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/**
 * Geometry checks of report.html in a real browser: what an analyst sees at 1280 px and on paper,
 * asserted as boxes rather than pixels, with screenshots written where a person can look at them.
 */

/** Screenshots and PDFs of the layout tests, ignored by git (and so by Biome). */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-output', 'report');

/**
 * The printable width, in CSS pixels, of a landscape page with the report's 10 mm margins: what the
 * matrix must fit into when printed.
 */
export const PRINT_WIDTHS = {
  a4: Math.floor(((297 - 20) / 25.4) * 96),
  letter: Math.floor(11 * 96 - (20 / 25.4) * 96),
};

/* The project compiles without the DOM library; the little of it the checks use, typed here. */
interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}
interface TextNode {
  textContent: string | null;
}
interface DomElement extends TextNode {
  className: string;
  tagName: string;
  children: Iterable<DomElement>;
  getBoundingClientRect(): Box;
  closest(selector: string): DomElement | null;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
}
interface Dom {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelectorAll(selector: string): Iterable<DomElement>;
  createTreeWalker(root: DomElement, show: number): { nextNode(): TextNode | null };
  createRange(): { selectNodeContents(node: TextNode): void; getClientRects(): Iterable<Box> };
}
const SHOW_TEXT = 4;

export interface LayoutLimits {
  /** All tactics side by side, as in ATT&CK's own matrix (every width but narrow screens). */
  oneRow: boolean;
  /** The tallest a rule-and-host row of the hunt may be, in px. */
  maxGroupRow: number;
}

/** Everything wrong with the layout as laid out now; empty when it is right. */
export function layoutProblems(page: Page, limits: LayoutLimits): Promise<string[]> {
  return page.evaluate(
    ({ oneRow, maxGroupRow, SHOW_TEXT }) => {
      const { document } = globalThis as unknown as { document: Dom };
      const problems: string[] = [];
      const root = document.documentElement;
      const width = root.clientWidth;
      if (root.scrollWidth > width)
        problems.push(`the page scrolls sideways: ${root.scrollWidth} px in ${width}`);
      const box = (e: DomElement) => e.getBoundingClientRect();
      const label = (e: DomElement) =>
        e.closest('[data-technique]')?.getAttribute('data-technique') ??
        e.closest('[data-tactic]')?.getAttribute('data-tactic') ??
        (e.textContent ?? '').slice(0, 40);
      const inside = (inner: Box, outer: Box) =>
        inner.left >= outer.left - 0.5 &&
        inner.right <= outer.right + 0.5 &&
        inner.top >= outer.top - 0.5 &&
        inner.bottom <= outer.bottom + 0.5;
      const overlap = (a: Box, b: Box) =>
        a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
      /** Every element and line of text in `container` lies within its box: nothing spills over. */
      const spills = (container: DomElement): string[] => {
        const outer = box(container);
        const out: string[] = [];
        for (const element of container.querySelectorAll('*')) {
          if (!inside(box(element), outer)) out.push(`${element.className || element.tagName}`);
        }
        const walker = document.createTreeWalker(container, SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const range = document.createRange();
          range.selectNodeContents(node);
          for (const line of range.getClientRects()) {
            if (line.width > 0 && !inside(line, outer))
              out.push(`text "${(node.textContent ?? '').slice(0, 30)}"`);
          }
        }
        return out;
      };

      const tactics = [...document.querySelectorAll('.tactic')];
      for (const tactic of tactics) {
        const r = box(tactic);
        if (r.left < -0.5 || r.right > width + 0.5) {
          problems.push(`tactic ${label(tactic)} is outside the ${width} px view: ${r.left}..${r.right}`);
        }
      }
      if (oneRow && new Set(tactics.map((t) => Math.round(box(t).top))).size > 1) {
        problems.push('the tactics are not side by side in one row');
      }
      const tiles = [...document.querySelectorAll('.tactic h3, .cell')];
      for (const tile of tiles) {
        for (const spill of spills(tile)) problems.push(`${label(tile)}: ${spill} spills out of its tile`);
      }
      // Tiles (their badges inside them, checked above) never cover one another, nor do columns.
      const boxes = tiles.map((tile) => ({ tile, r: box(tile) }));
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          if (overlap(boxes[i]!.r, boxes[j]!.r)) {
            problems.push(`${label(boxes[i]!.tile)} overlaps ${label(boxes[j]!.tile)}`);
          }
        }
      }
      for (let i = 1; i < tactics.length; i++) {
        if (oneRow && box(tactics[i - 1]!).right > box(tactics[i]!).left + 0.5) {
          problems.push(`tactic ${label(tactics[i - 1]!)} overlaps ${label(tactics[i]!)}`);
        }
      }

      for (const summary of document.querySelectorAll('.groups summary')) {
        const r = box(summary);
        if (r.height > maxGroupRow)
          problems.push(`a hunt row is ${Math.round(r.height)} px tall: ${label(summary)}`);
        for (const cell of summary.children) {
          for (const spill of spills(cell)) problems.push(`hunt row ${label(summary)}: ${spill} spills out`);
        }
      }
      return problems;
    },
    { ...limits, SHOW_TEXT },
  );
}

/**
 * Opens the report as an analyst would, at 1280 px and in print (A4 and Letter landscape), checks
 * the layout each time and writes screenshots and a PDF named after `name`; returns the problems
 * and the files written.
 */
export async function checkReportLayout(
  browser: Browser,
  file: string,
  name: string,
  maxGroupRow: number,
): Promise<{ problems: string[]; files: string[]; page: Page }> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const files: string[] = [];
  const problems: string[] = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`file://${file}`);
  const check = async (view: string, oneRow: boolean, rowHeight = maxGroupRow) => {
    const limits = { oneRow, maxGroupRow: rowHeight };
    for (const problem of await layoutProblems(page, limits)) problems.push(`${view}: ${problem}`);
  };
  /**
   * A picture down to `selector`'s bottom, from `above` px over its top (or from the page's top),
   * at the current width and media, at most 1600 px tall.
   */
  const shot = async (suffix: string, selector: string, above = Number.POSITIVE_INFINITY) => {
    const path = join(SCREENSHOT_DIR, `${name}-${suffix}.png`);
    const view = page.viewportSize()!;
    const target = page.locator(selector).first();
    const { top, bottom } = await target.evaluate((e) => {
      const r = (
        e as unknown as { getBoundingClientRect(): { top: number; bottom: number } }
      ).getBoundingClientRect();
      const { scrollY } = globalThis as unknown as { scrollY: number };
      return { top: r.top + scrollY, bottom: r.bottom + scrollY };
    });
    const from = Math.max(0, top - above);
    const height = Math.min(Math.ceil(bottom + 8 - from), 1600);
    // The view made as tall as the picture: cheaper than a full-page capture of a long report.
    await page.setViewportSize({ width: view.width, height });
    await page.evaluate(
      (y) => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, y),
      from,
    );
    await page.screenshot({ path });
    await page.setViewportSize(view);
    files.push(path);
  };
  const matrix = 'section:has(.matrix)';
  await check('1280 px', true);
  await shot('1280', matrix);
  // The events of the first rows, opened as an analyst would, stay within the page; the picture
  // shows the first one open.
  const rows = page.locator('.groups summary');
  const opened = Math.min(3, await rows.count());
  for (let i = 0; i < opened; i++) await rows.nth(i).click();
  await check('1280 px, rows open', true);
  for (let i = 1; i < opened; i++) await rows.nth(i).click();
  if (opened > 0) {
    await shot('hunt-1280', '.groups', 80);
    await rows.first().click();
  }

  await page.setViewportSize({ width: 700, height: 900 });
  // A phone's width stacks a row's cells, so a row may be twice as tall.
  await check('700 px', false, 2 * maxGroupRow);

  await page.emulateMedia({ media: 'print' });
  for (const [paper, width] of Object.entries(PRINT_WIDTHS)) {
    await page.setViewportSize({ width, height: 800 });
    await check(`print ${paper}`, true);
    await shot(`print-${paper}`, matrix);
  }
  const pdf = join(SCREENSHOT_DIR, `${name}-a4.pdf`);
  const ids = await page
    .locator('.cell')
    .evaluateAll((cells) => cells.map((c) => c.getAttribute('data-technique')!));
  // The orientation is left to the page's @page rule: the report asks for landscape itself.
  await page.pdf({ path: pdf, format: 'A4', preferCSSPageSize: true, printBackground: true });
  files.push(pdf);
  for (const problem of await pdfProblems(readFileSync(pdf), ids)) problems.push(`PDF: ${problem}`);
  await page.emulateMedia({ media: 'screen' });
  await page.setViewportSize({ width: 1280, height: 900 });
  return { problems, files, page };
}

/**
 * The printed matrix: landscape pages, every tile's technique ID printed before the section after
 * the matrix begins (IDs recur further on, in the backlog and the details), no text past a page's edge.
 */
async function pdfProblems(pdf: Buffer, ids: string[]): Promise<string[]> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const document = await getDocument({ data: new Uint8Array(pdf), verbosity: 0, isEvalSupported: false })
    .promise;
  const problems: string[] = [];
  const printed = new Set<string>();
  let inMatrix = true;
  for (let number = 1; number <= document.numPages; number++) {
    const page = await document.getPage(number);
    const { width, height } = page.getViewport({ scale: 1 });
    if (width <= height) problems.push(`page ${number} is portrait (${width} x ${height} pt)`);
    for (const item of (await page.getTextContent()).items) {
      if (!('str' in item) || item.str.trim() === '') continue;
      if (item.str.startsWith(AFTER_MATRIX)) inMatrix = false;
      if (inMatrix && /^T\d{4}(\.\d{3})?$/.test(item.str)) printed.add(item.str);
      const x = item.transform[4] as number;
      if (x < 0 || x + item.width > width + 0.5) {
        problems.push(
          `page ${number}: "${item.str.slice(0, 30)}" runs past the edge (${x}..${x + item.width} of ${width} pt)`,
        );
      }
    }
  }
  await document.destroy();
  const missing = ids.filter((id) => !printed.has(id));
  if (missing.length)
    problems.push(
      `${missing.length} techniques of the matrix not printed: ${missing.slice(0, 10).join(' ')}`,
    );
  return problems;
}

/** The heading of the section that follows the matrix. */
const AFTER_MATRIX = 'Backlog';
