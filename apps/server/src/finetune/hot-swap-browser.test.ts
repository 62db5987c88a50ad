/**
 * Hot swap in the page (issue 21, "What to build" 3 and 4), in real Chromium: the version changes
 * while the page decodes clicks. The new version's decoder is fetched and its sessions created in a
 * worker of its own while the old one keeps answering; every click decoded during the change
 * succeeds in the page (no `/api/predict`) and its masks are exactly those of ONE version (v0's or
 * v1's, each decoded alone first), the one its reply names; the clicks after the change are v1's.
 * v1 is the reference decoder perturbed (as in hot-swap.test.ts), registered in the version store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type SamServer } from '../server.js';
import { makeBoxDomain } from '../test-utils/box-domain.js';
import { addPerturbedVersion } from '../test-utils/perturbed-version.js';
import { clientPoint, idle, launchChromium, newPage } from '../test-utils/browser.js';
import { referencePath } from '../test-utils/fixtures.js';
import { apiFetch } from '../test-utils/http.js';

const TOKEN = 'hot-swap-browser-token-0123456789';
const POINTS = [
  [20, 18],
  [48, 36],
  [70, 30],
  [35, 55],
  [60, 50],
] as const;
const MAX_CLICKS = 150;
let dir: string;
let srv: SamServer;
let browser: Browser;
let page: Page;
let predictCalls = 0;

interface Decode {
  mode: string;
  version: string | null;
  masks: string;
  /** When the click happened and how long until its mask was drawn (the page's performance.now() ms). */
  startedAt: number;
  clickMs: number;
}

/** Clicks POINTS[k % 5] on the page (a fresh prompt); the page's record of its decode and its masks. */
async function click(k: number): Promise<Decode> {
  await page.keyboard.press('Escape');
  const n = await page.evaluate('window.samtunePage.decodes.length');
  const [x, y] = POINTS[k % POINTS.length]!;
  await page.mouse.click(...(await clientPoint(page, x, y)));
  await page.waitForFunction(`window.samtunePage.decodes.length > ${n}`);
  return (await page.evaluate(`({
    ...window.samtunePage.decodes[${n}],
    masks: JSON.stringify(window.samtunePage.last.masks.map((m) => m.counts)),
  })`)) as Decode;
}

const activate = async (v: string): Promise<void> => {
  const res = await apiFetch(srv.url, TOKEN, `/api/versions/${v}/activate`, {});
  expect(res.status).toBe(200);
};
/** Waits until the page's clicks run on version `v` (it polls /api/health every 5 s). */
const serving = (v: string): Promise<unknown> =>
  page.waitForFunction(`window.samtunePage.decoderVersion === '${v}'`, undefined, { timeout: 120_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'samtune-hotswap-browser-'));
  const images = join(dir, 'images');
  await makeBoxDomain(images, { count: 1, perImage: 1 });
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: images,
    port: 0,
    token: TOKEN,
  });
  await addPerturbedVersion(srv, dir);
  browser = await launchChromium();
  page = await newPage(browser);
  page.on('request', (r) => {
    if (r.url().endsWith('/api/predict')) predictCalls++;
  });
  await page.goto(`${srv.url}/#token=${TOKEN}`);
  await page.waitForFunction("window.samtunePage.mode === 'browser'", undefined, { timeout: 120_000 });
  await page.click('#images li[title="img00.png"]');
  await page.waitForFunction("document.getElementById('status').textContent.startsWith('img00.png: ')");
  await idle(page);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hot swap in the page (Chromium)', () => {
  it('changes the version while clicks are decoded: none fails, each is exactly one version, the later ones the new', async () => {
    expect(await page.evaluate('window.samtunePage.decoderInWorker')).toBe(true);
    const alone = async (v: string): Promise<string[]> => {
      await activate(v);
      await serving(v);
      const out: string[] = [];
      for (let k = 0; k < POINTS.length; k++) {
        const d = await click(k);
        expect([d.mode, d.version]).toEqual(['browser', v]);
        out.push(d.masks);
      }
      return out;
    };
    const ref = { v1: await alone('v1'), v0: await alone('v0') };
    for (let k = 0; k < POINTS.length; k++) expect(ref.v1[k]).not.toBe(ref.v0[k]);

    // clicks back to back; the activation lands among them
    const loadsBefore = (await page.evaluate('window.samtunePage.decoderLoads')) as number;
    const calls = predictCalls;
    const during: (Decode & { k: number })[] = [];
    let after = 0;
    for (let k = 0; after < 8 && k < MAX_CLICKS; k++) {
      if (k === 3) await activate('v1');
      const d = await click(k);
      during.push({ ...d, k });
      if (d.version === 'v1') after++;
    }
    const versionOf = during.map((d) =>
      d.masks === ref.v0[d.k % POINTS.length] ? 'v0' : d.masks === ref.v1[d.k % POINTS.length] ? 'v1' : 'mixed',
    );
    expect(during.map((d) => d.mode)).toEqual(during.map(() => 'browser'));
    expect(versionOf).toEqual(during.map((d) => d.version)); // each click is the version it names
    expect(versionOf.slice(0, 3)).toEqual(['v0', 'v0', 'v0']);
    const first = versionOf.indexOf('v1');
    expect(first).toBeGreaterThan(2);
    expect(versionOf.slice(first)).toEqual(versionOf.slice(first).map(() => 'v1')); // no way back
    expect(predictCalls).toBe(calls);
    expect(await page.getAttribute('#status', 'class')).not.toBe('err');
    const log = (await page.evaluate('window.samtunePage.swapLog')) as {
      version: string;
      requestedAt: number;
      readyAt: number;
    }[];
    expect(log.length).toBe(loadsBefore + 1);
    const swap = log.at(-1)!;
    expect(swap.version).toBe('v1');
    // clicks were decoded (by v0) while v1's decoder was fetched and its sessions created
    const overlapping = during.filter((d) => d.startedAt < swap.readyAt && d.startedAt + d.clickMs > swap.requestedAt);
    console.log(
      `hot-swap-browser: ${during.length} clicks, ${overlapping.length} during the ${Math.round(swap.readyAt - swap.requestedAt)} ms swap (${overlapping.map((d) => d.version).join(' ')})`,
    );
    expect(overlapping.length).toBeGreaterThan(0);
  }, 600_000);

  it("runs the decoder worker under the page's own CSP (no bypass)", async () => {
    const strict = await browser.newPage(); // the tests' other pages bypass the CSP for their probes
    const violations: string[] = [];
    strict.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    try {
      await strict.goto(`${srv.url}/#token=${TOKEN}`);
      await strict.waitForSelector('#model:has-text("clicks decoded in the browser")', { timeout: 120_000 });
      expect(violations).toEqual([]);
    } finally {
      await strict.close();
    }
  }, 180_000);
});
