/**
 * The labelling page in real Chromium (Debian's package through playwright-core; no browser is
 * downloaded): upload, click, box, accept, undo, save, with the saved COCO file read back by
 * @samtune/datasets; the in-flight Accept race; stored XSS through a crafted labels file. Screenshots
 * go to test-results/ (and to docs/screenshots/ with SAMTUNE_SCREENSHOTS=docs).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadDataset } from '@samtune/datasets';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uncompressedRle, type CompressedRle } from './labels-store.js';
import { cocoRleToMask, type CocoRle } from './rle.js';
import { startServer, type SamServer } from './server.js';
import { clientPoint, idle, launchChromium } from './test-utils/browser.js';
import { referencePath, repoRoot } from './test-utils/fixtures.js';
import { solidPng } from './test-utils/images.js';

const TOKEN = 'browser-token-0123456789';
const XSS_NAME = '<img src=x onerror="window.__xss=1">.png';
let dir: string;
let srv: SamServer;
let browser: Browser;
let page: Page;
const shotDirs = [resolve(import.meta.dirname, '../test-results')];
if (process.env.SAMTUNE_SCREENSHOTS === 'docs') shotDirs.push(join(repoRoot(), 'docs/screenshots'));

interface PredictJson {
  masks: (CocoRle & { area: number })[];
  best: number;
  iou: number[];
}

async function shot(name: string): Promise<void> {
  const jpeg = await page.screenshot({ type: 'jpeg', quality: 80 });
  for (const d of shotDirs) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, name), jpeg);
  }
}

/** Waits for the reply of the next `/api/predict` after `act()`. */
async function predicted(act: () => Promise<void>): Promise<PredictJson> {
  const reply = page.waitForResponse((r) => r.url().endsWith('/api/predict'));
  await act();
  const json = (await (await reply).json()) as PredictJson;
  await idle(page);
  return json;
}

async function clickAt(x: number, y: number, opts: { shift?: boolean } = {}): Promise<void> {
  const [cx, cy] = await clientPoint(page, x, y);
  if (opts.shift) await page.keyboard.down('Shift');
  await page.mouse.click(cx, cy);
  if (opts.shift) await page.keyboard.up('Shift');
}

/** Waits until the text of `#id` starts with (or, with `includes`, contains) `text`. */
async function textOf(id: string, text: string, how: 'startsWith' | 'includes' = 'startsWith'): Promise<void> {
  await page.waitForFunction(
    `document.getElementById(${JSON.stringify(id)})?.textContent?.${how}(${JSON.stringify(text)}) === true`,
  );
}

const labelTexts = (): Promise<string[]> =>
  page.$$eval('#labels li span:nth-child(2)', (els) => els.map((e) => e.textContent ?? ''));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-server-browser-'));
  writeFileSync(join(dir, XSS_NAME), await solidPng(64, 48));
  // a crafted labels file: markup in a category name, an area and a file name
  const evil = '<img src=x onerror="window.__xss=2">';
  writeFileSync(
    join(dir, '_annotations.coco.json'),
    JSON.stringify({
      images: [{ id: 1, file_name: XSS_NAME, width: 64, height: 48 }],
      annotations: [
        {
          id: 1,
          image_id: 1,
          category_id: 1,
          segmentation: { size: [48, 64], counts: [100, 50, 2922] },
          area: evil,
          bbox: [0, 0, 1, 1],
          iscrowd: 0,
        },
      ],
      categories: [{ id: 1, name: evil }],
    }),
  );
  srv = await startServer({
    model: { checkpoint: referencePath('tinyvit.pth') },
    imagesDir: dir,
    port: 0,
    token: TOKEN,
  });
  browser = await launchChromium();
  // bypassCSP: the test's own probes are evaluated strings (the page's CSP forbids eval); it also
  // means the XSS case shows that no markup is parsed at all, not merely that CSP blocked a script
  page = await browser.newPage({ viewport: { width: 1280, height: 760 }, bypassCSP: true });
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(`${srv.url}/#token=${TOKEN}`);
  await textOf('model', 'tiny_vit', 'includes');
});

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('labelling page in Chromium', () => {
  it('shows names and labels from a crafted labels file as text, never as markup (stored XSS)', async () => {
    await page.click(`#images li[title="${XSS_NAME.replace(/"/g, '\\"')}"]`);
    await textOf('status', '64x48', 'includes');
    await idle(page);
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(await page.$$eval('img', (els) => els.length)).toBe(0);
    expect(await labelTexts()).toEqual(['<img src=x onerror="window.__xss=2">']);
    expect(await page.$eval('#labels li .muted', (e) => e.textContent)).toBe('50 px');
    expect(await page.$$eval('#images li .name', (els) => els.map((e) => e.textContent))).toEqual([XSS_NAME]);
  });

  it('upload, click, box, accept, undo, save: the saved COCO file reads back with @samtune/datasets', async () => {
    await page.setInputFiles('#upload', referencePath('dog.jpg'));
    await textOf('status', 'dog.jpg: 800x534');
    await idle(page);
    await page.fill('#new-category', 'dog');
    await page.press('#new-category', 'Enter');
    expect(await page.inputValue('#category')).toBe('dog');

    const one = await predicted(() => clickAt(400, 293.7));
    expect(one.masks).toHaveLength(3);
    expect(await page.textContent('#mask')).toMatch(/^mask \d\/3: IoU /);
    await page.keyboard.press('n');
    expect(await page.textContent('#mask')).toMatch(new RegExp(`^mask ${((one.best + 1) % 3) + 1}/3`));

    const [x0, y0] = await clientPoint(page, 160, 133.5);
    const [x1, y1] = await clientPoint(page, 560, 480.6);
    const boxed = await predicted(async () => {
      await page.mouse.move(x0, y0);
      await page.mouse.down();
      await page.mouse.move(x1, y1, { steps: 8 });
      await page.mouse.up();
    });
    expect(boxed.masks).toHaveLength(1);
    await page.fill('#opacity', '70');
    await shot('labelling-page.jpg');
    await page.keyboard.press('Enter');
    expect(await labelTexts()).toEqual(['dog']);

    const neg = await predicted(() => clickAt(200, 160.2, { shift: true }));
    expect(neg.masks).toHaveLength(3);
    await page.keyboard.press('Enter');
    expect(await labelTexts()).toEqual(['dog', 'dog']);
    await page.keyboard.press('z'); // no prompts on screen: undo removes the last label
    expect(await labelTexts()).toEqual(['dog']);

    await page.click('#save');
    await textOf('status', 'saved 1 labels of dog.jpg');
    const ds = await loadDataset(dir, { format: 'coco' });
    const item = ds.subsets.default!.find((i) => i.imagePath.endsWith('dog.jpg'))!;
    expect([item.width, item.height, item.instances.map((i) => i.label.name)]).toEqual([800, 534, ['dog']]);
    const mask = await item.instances[0]!.mask();
    expect(Buffer.from(mask.data).equals(Buffer.from(cocoRleToMask(boxed.masks[0]!).data))).toBe(true);
  });

  it('Accept during a prediction saves the mask of the prompts on screen; a late reply for older prompts is dropped', async () => {
    await page.keyboard.press('Escape');
    let releaseFirst = (): void => undefined;
    const firstHeld = new Promise<void>((r) => (releaseFirst = r));
    let n = 0;
    let lateDelivered = false;
    const replies: PredictJson[] = [];
    await page.route('**/api/predict', async (route: Route) => {
      const k = n++;
      const res = await route.fetch();
      replies[k] = (await res.json()) as PredictJson;
      if (k === 0) {
        await firstHeld; // the first reply comes back after the second prompt and the Accept
        lateDelivered = true;
      }
      await route.fulfill({ response: res });
    });
    await clickAt(300, 250); // prediction 1 (held)
    await clickAt(420, 300); // prediction 2 for both points: the prompts on screen
    await page.keyboard.press('Enter'); // while prediction 2 is in flight
    await page.waitForFunction("document.querySelectorAll('#labels li').length === 2");
    releaseFirst();
    await new Promise((r) => setTimeout(r, 300));
    expect(lateDelivered).toBe(true);
    await page.unroute('**/api/predict');
    expect(await page.textContent('#mask')).toMatch(/^click: positive point/); // the late reply is not shown
    await page.click('#save');
    await textOf('status', 'saved 2 labels');
    const doc = JSON.parse(readFileSync(join(dir, '_annotations.coco.json'), 'utf8')) as {
      images: { id: number; file_name: string }[];
      annotations: { image_id: number; segmentation: CompressedRle }[];
    };
    const dogId = doc.images.find((i) => i.file_name === 'dog.jpg')!.id;
    const saved = doc.annotations.filter((a) => a.image_id === dogId).map((a) => uncompressedRle(a.segmentation));
    const second = replies[1]!;
    expect(saved[1]!.counts).toEqual(second.masks[second.best]!.counts); // the file holds COCO's compressed RLE
    expect(saved[1]!.counts).not.toEqual(replies[0]!.masks[replies[0]!.best]!.counts);
  });

  it('zooms with the wheel and the keys, and moves between images with the arrows', async () => {
    const pixels = "document.getElementById('view').toDataURL()";
    const before = await page.evaluate(pixels);
    const [cx, cy] = await clientPoint(page, 400, 267);
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -600);
    expect(await page.evaluate(pixels)).not.toBe(before);
    await page.keyboard.press('0');
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction("document.querySelector('#images li.active')?.title.endsWith('.png') === true");
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction("document.querySelector('#images li.active')?.title === 'dog.jpg'");
    await textOf('status', 'dog.jpg: 800x534');
    await idle(page);
    // only dog.jpg's own labels, even though the other image was still opening when the arrow came
    expect(await labelTexts()).toEqual(['dog', 'dog']);
    await shot('labelling-page-saved.jpg');
  });
});
