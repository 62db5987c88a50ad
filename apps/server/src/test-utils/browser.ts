/**
 * Test-only: Debian's Chromium driven by playwright-core (never a downloaded browser), and helpers to
 * act on the labelling page in ORIGINAL image pixels.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '@samtune/test-fixtures';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where a system Chromium is looked for (`CHROMIUM_PATH` first). */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** Launches headless Chromium. @throws Error naming the paths tried and the install command when none exists. */
export async function launchChromium(): Promise<Browser> {
  const candidates = [process.env.CHROMIUM_PATH, ...CHROMIUM_CANDIDATES].filter((p): p is string => !!p);
  const executablePath = candidates.find((p) => existsSync(p));
  if (!executablePath)
    throw new Error(
      `browser test: expected a Chromium executable at one of ${candidates.join(', ')}, found none; install Debian's package (apt-get install -y chromium; 'pnpm test' does this when run as root) or set CHROMIUM_PATH`,
    );
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Client coordinates of ORIGINAL image pixel (x,y) under the view's current fit transform (no zoom/pan). */
export async function clientPoint(page: Page, x: number, y: number): Promise<[number, number]> {
  const box = await page.locator('#view').boundingBox();
  const size = await page.$eval('#view', (c) => {
    const e = c as unknown as { width: number; height: number; dataset: Record<string, string> };
    return [e.width, e.height, Number(e.dataset.imageWidth), Number(e.dataset.imageHeight)] as const;
  });
  if (!box) throw new Error('clientPoint(): the #view canvas is not visible');
  const [cw, ch, w, h] = size;
  const z = Math.min(cw / w, ch / h);
  return [box.x + (cw - w * z) / 2 + x * z, box.y + (ch - h * z) / 2 + y * z];
}

/** Waits until no embedding or prediction is in flight (`<body data-busy="0">`). */
export async function idle(page: Page): Promise<void> {
  await page.waitForSelector('body[data-busy="0"]', { state: 'attached' });
}

/**
 * Saves a JPEG screenshot of `page` as `name` under the server's test-results/ and, with
 * `SAMTUNE_SCREENSHOTS=docs`, under docs/screenshots/ (the README's pictures).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dirs = [resolve(import.meta.dirname, '../../test-results')];
  if (process.env.SAMTUNE_SCREENSHOTS === 'docs') dirs.push(join(repoRoot(), 'docs/screenshots'));
  const jpeg = await page.screenshot({ type: 'jpeg', quality: 80 });
  for (const d of dirs) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, name), jpeg);
  }
}

/**
 * A new page whose errors fail the test. `bypassCSP`: the tests' probes are evaluated strings (the
 * page's CSP forbids eval).
 */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport, bypassCSP: true });
  page.on('pageerror', (e) => {
    throw e;
  });
  return page;
}
