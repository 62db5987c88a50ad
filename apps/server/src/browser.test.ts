/**
 * The labelling page in real Chromium (Debian's package through playwright-core; no browser is
 * downloaded): upload, clicks and a box decoded in the page by onnxruntime-web (no /api/predict
 * call; masks equal to the server's), accept, undo, autosave, with the saved COCO file read back by
 * @samtune/datasets; the server fallback (`#decode=server`) with the in-flight Accept race and the
 * empty-mask refusal; class hotkeys and progress; stored XSS through a crafted labels file.
 * Screenshots go to test-results/ (and to docs/screenshots/ with SAMTUNE_SCREENSHOTS=docs).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, rasterizePolygon } from '@samtune/datasets';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uncompressedRle, type CompressedRle } from './labels-store.js';
import { cocoRleToMask, type CocoRle } from './rle.js';
import { startServer, type SamServer } from './server.js';
import { clientPoint, idle, launchChromium, screenshot } from './test-utils/browser.js';
import { referencePath } from './test-utils/fixtures.js';
import { solidPng } from './test-utils/images.js';
import { planeIou, unionOf } from './test-utils/masks.js';

const TOKEN = 'browser-token-0123456789';
const XSS_NAME = '<img src=x onerror="window.__xss=1">.png';
let dir: string;
let srv: SamServer;
let browser: Browser;
let page: Page;

interface PredictJson {
  masks: (CocoRle & { area: number })[];
  best: number;
  iou: number[];
}
/** Requests the page made to POST /api/predict. */
let predictCalls = 0;

/** POST /api/predict from the test itself: the server-side prediction of the same prompts. */
async function serverPredict(body: Record<string, unknown>): Promise<PredictJson> {
  const res = await fetch(`${srv.url}/api/predict`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as PredictJson;
}

/** IoU of two COCO RLE masks of the same size. */
const iou = (a: CocoRle, b: CocoRle): number => planeIou(cocoRleToMask(a).data, cocoRleToMask(b).data);

/** The page's prompts and embedding id on screen. */
const promptsOnPage = (): Promise<{ id: string; points: number[][]; box: number[] | null }> =>
  page.evaluate('window.samtunePage.prompts()') as Promise<{ id: string; points: number[][]; box: number[] | null }>;

/** Asserts that the page's last mask equals the server's prediction of the same prompts (IoU >= 0.99 each). */
async function matchesServer(shown: PredictJson): Promise<number[]> {
  const ref = await serverPredict(await promptsOnPage());
  expect(shown.masks.length).toBe(ref.masks.length);
  expect(shown.best).toBe(ref.best);
  const ious = shown.masks.map((m, i) => iou(m, ref.masks[i]!));
  for (const v of ious) expect(v).toBeGreaterThanOrEqual(0.99);
  return ious;
}

const shot = (name: string): Promise<void> => screenshot(page, name);

/** Waits for the next mask the page shows after `act()` (decoded in the page or by the server). */
async function predicted(act: () => Promise<void>): Promise<PredictJson> {
  const n = (await page.evaluate('window.samtunePage.decodes.length')) as number;
  await act();
  await page.waitForFunction(`window.samtunePage.decodes.length > ${n}`);
  await idle(page);
  return (await page.evaluate('window.samtunePage.last')) as PredictJson;
}

/** Waits until the labels are saved automatically (no unsaved change) with a status starting `text`. */
async function autosaved(text: string): Promise<void> {
  await page.waitForFunction(
    `document.getElementById('save').textContent === 'Save' && document.getElementById('status').textContent.startsWith(${JSON.stringify(text)})`,
  );
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
  page.on('request', (r) => {
    if (r.url().endsWith('/api/predict')) predictCalls++;
  });
  await page.goto(`${srv.url}/#token=${TOKEN}`);
  await textOf('model', 'tiny_vit', 'includes');
  await textOf('model', 'clicks decoded in the browser', 'includes');
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

  it('upload, then clicks and a box decoded in the browser (no /api/predict call, masks equal to the server), accept, undo, autosave: the COCO file reads back with @samtune/datasets', async () => {
    await page.setInputFiles('#upload', referencePath('dog.jpg'));
    await textOf('status', 'dog.jpg: 800x534');
    await idle(page);
    await page.fill('#new-category', 'dog');
    await page.press('#new-category', 'Enter');
    expect(await page.inputValue('#category')).toBe('dog');

    expect(await page.evaluate('window.samtunePage.mode')).toBe('browser');
    expect(await page.evaluate('window.samtunePage.decoderForm')).toBe('split');
    const calls = predictCalls;
    const one = await predicted(() => clickAt(400, 293.7));
    expect(one.masks).toHaveLength(3);
    await matchesServer(one);
    // the single-graph decoder (official signature: what an export directory serves) decodes the same masks
    const single = (await page.evaluate(`(async () => {
      const { PageDecoder } = await import('/decoder.js');
      const d = new PageDecoder({ form: 'single' });
      await d.load('single');
      const p = window.samtunePage.prompts();
      return { form: d.current.form, ...(await d.decode(p.id, p.points, p.box, 0)) };
    })()`)) as PredictJson & { form: string };
    expect(single.form).toBe('single');
    for (const [i, m] of single.masks.entries()) expect(iou(m, one.masks[i]!)).toBeGreaterThanOrEqual(0.99);
    for (const [i, v] of single.iou.entries()) expect(v).toBeCloseTo(one.iou[i]!, 3);
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
    await matchesServer(boxed);
    await page.fill('#opacity', '70');
    await shot('labelling-page.jpg');
    await page.keyboard.press('Enter');
    expect(await labelTexts()).toEqual(['dog']);

    const pos = await predicted(() => clickAt(300, 250));
    const two = await predicted(() => clickAt(200, 160.2, { shift: true }));
    expect([pos.masks.length, two.masks.length]).toEqual([3, 1]);
    await matchesServer(two);
    expect(predictCalls).toBe(calls); // every mask so far was decoded in the page
    const decoded = (await page.evaluate('window.samtunePage.decodes.slice(-4)')) as { mode: string; ms: number }[];
    expect(decoded.map((d) => d.mode)).toEqual(['browser', 'browser', 'browser', 'browser']);
    await page.keyboard.press('Enter');
    expect(await labelTexts()).toEqual(['dog', 'dog']);
    await page.keyboard.press('z'); // no prompts on screen: undo removes the last label
    expect(await labelTexts()).toEqual(['dog']);

    await autosaved('saved 1 labels of dog.jpg'); // saved without pressing Save
    const ds = await loadDataset(dir, { format: 'coco' });
    const item = ds.subsets.default!.find((i) => i.imagePath.endsWith('dog.jpg'))!;
    expect([item.width, item.height, item.instances.map((i) => i.label.name)]).toEqual([800, 534, ['dog']]);
    const mask = await item.instances[0]!.mask();
    expect(Buffer.from(mask.data).equals(Buffer.from(cocoRleToMask(boxed.masks[0]!).data))).toBe(true);
  });

  it('falls back to POST /api/predict (#decode=server): Accept during a prediction saves the mask of the prompts on screen; a late reply for older prompts is dropped', async () => {
    await page.goto(`${srv.url}/#decode=server`); // the token stays in the tab's sessionStorage
    await page.reload(); // a new hash alone does not reload the page
    await textOf('model', 'clicks decoded by the server', 'includes');
    await page.click('#images li[title="dog.jpg"]');
    await textOf('status', 'dog.jpg: 800x534');
    await idle(page);
    await page.selectOption('#category', 'dog');
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
    await autosaved('saved 2 labels');
    const doc = JSON.parse(readFileSync(join(dir, '_annotations.coco.json'), 'utf8')) as {
      images: { id: number; file_name: string }[];
      annotations: { image_id: number; segmentation: CompressedRle }[];
    };
    const dogId = doc.images.find((i) => i.file_name === 'dog.jpg')!.id;
    const saved = doc.annotations.filter((a) => a.image_id === dogId).map((a) => uncompressedRle(a.segmentation));
    expect(replies).toHaveLength(2); // both went to the server
    const second = replies[1]!;
    expect(saved[1]!.counts).toEqual(second.masks[second.best]!.counts); // the file holds COCO's compressed RLE
    expect(saved[1]!.counts).not.toEqual(replies[0]!.masks[replies[0]!.best]!.counts);
  });

  it('refuses to accept an empty mask and says why', async () => {
    await page.route('**/api/predict', async (route: Route) => {
      const res = await route.fetch();
      const json = (await res.json()) as PredictJson & { width: number; height: number };
      const empty = { size: [json.height, json.width], counts: [json.height * json.width], area: 0 };
      await route.fulfill({ response: res, json: { ...json, masks: json.masks.map(() => empty) } });
    });
    await predicted(() => clickAt(700, 60));
    await page.unroute('**/api/predict');
    await page.keyboard.press('Enter');
    await textOf('status', 'cannot accept an empty mask (0 px)');
    expect(await page.getAttribute('#status', 'class')).toBe('err');
    expect(await labelTexts()).toEqual(['dog', 'dog']);
    await page.keyboard.press('Escape');
  });

  it('picks categories with the number keys and shows the progress through the folder', async () => {
    await page.fill('#new-category', 'ball');
    await page.press('#new-category', 'Enter');
    const names = await page.$$eval('#category option', (els) =>
      els.map((e) => (e as unknown as { value: string }).value),
    );
    expect(names.slice(-2)).toEqual(['dog', 'ball']);
    expect(await page.$$eval('#category option', (els) => els.map((e) => e.textContent))).toEqual(
      names.map((n, i) => `${i + 1} · ${n}`),
    );
    await page.keyboard.press(String(names.indexOf('dog') + 1));
    expect(await page.inputValue('#category')).toBe('dog');
    await page.keyboard.press(String(names.indexOf('ball') + 1));
    expect(await page.inputValue('#category')).toBe('ball');
    await textOf('progress', '2 / 2 labelled');
  });

  it('corrects masks with the brush and the eraser; corrected masks are saved like any accepted mask', async () => {
    const savedDog = async (): Promise<CocoRle[]> => {
      const doc = JSON.parse(readFileSync(join(dir, '_annotations.coco.json'), 'utf8')) as {
        images: { id: number; file_name: string }[];
        annotations: { image_id: number; segmentation: CompressedRle }[];
      };
      const dogId = doc.images.find((i) => i.file_name === 'dog.jpg')!.id;
      return doc.annotations.filter((a) => a.image_id === dogId).map((a) => uncompressedRle(a.segmentation));
    };
    const at = (rle: CocoRle, x: number, y: number): number => cocoRleToMask(rle).data[y * rle.size[1]! + x]!;
    const stroke = async (from: [number, number], to: [number, number]): Promise<void> => {
      const [x0, y0] = await clientPoint(page, ...from);
      const [x1, y1] = await clientPoint(page, ...to);
      await page.mouse.move(x0, y0);
      await page.mouse.down();
      await page.mouse.move(x1, y1, { steps: 6 });
      await page.mouse.up();
    };
    await page.goto(`${srv.url}/`); // back to decoding in the browser
    await page.reload();
    await textOf('model', 'clicks decoded in the browser', 'includes');
    await page.click('#images li[title="dog.jpg"]');
    await textOf('status', 'dog.jpg: 800x534');
    await idle(page);
    await page.selectOption('#category', 'dog');
    await page.locator('#category').blur(); // keys to the page
    // brush on no proposal: a new mask
    await page.keyboard.press('b');
    await stroke([650, 60], [750, 60]);
    await textOf('mask', 'corrected mask: ');
    await page.keyboard.press('Enter');
    await autosaved('saved 3 labels');
    const brushed = (await savedDog())[2]!;
    expect([at(brushed, 700, 60), at(brushed, 700, 200)]).toEqual([1, 0]);
    await page.keyboard.press('b'); // back to prompts
    // eraser on a proposed mask
    const clicked = await predicted(() => clickAt(400, 293.7));
    const proposed = clicked.masks[clicked.best]!;
    // a point of the proposed mask with mask on both sides of a 60 px stroke
    let inside: [number, number] | undefined;
    for (let y = 200; y <= 440 && !inside; y += 10)
      for (let x = 220; x <= 520 && !inside; x += 10)
        if (at(proposed, x - 30, y) && at(proposed, x, y) && at(proposed, x + 30, y)) inside = [x, y];
    expect(inside).toBeDefined();
    const [ix, iy] = inside!;
    await page.keyboard.press('e');
    await stroke([ix - 30, iy], [ix + 30, iy]);
    await page.keyboard.press('Enter');
    await autosaved('saved 4 labels');
    const erased = (await savedDog())[3]!;
    expect(at(erased, ix, iy)).toBe(0);
    const area = (m: CocoRle): number => cocoRleToMask(m).data.reduce((a, v) => a + v, 0);
    expect(area(erased)).toBeLessThan(area(proposed));
    expect(area(erased)).toBeGreaterThan(area(proposed) - 60 * 40);
    await page.keyboard.press('e');
    await shot('labelling-page-corrected.jpg');
  });

  it('exports the labels as COCO RLE or as simplified polygons, chosen at export', async () => {
    const exported = async (mode: string): Promise<{ annotations: { segmentation: unknown; area: number }[] }> => {
      await page.selectOption('#export-format', mode);
      const download = page.waitForEvent('download');
      await page.click('#export');
      const d = await download;
      expect(d.suggestedFilename()).toBe(`labels.${mode}.coco.json`);
      return JSON.parse(readFileSync((await d.path())!, 'utf8')) as {
        annotations: { segmentation: unknown; area: number }[];
      };
    };
    const rle = await exported('rle');
    const poly = await exported('polygon');
    expect(poly.annotations.map((a) => a.area)).toEqual(rle.annotations.map((a) => a.area));
    for (const a of poly.annotations) {
      const polys = a.segmentation as number[][];
      expect(Array.isArray(polys) && polys.length > 0).toBe(true);
      for (const p of polys) expect(p.length % 2 === 0 && p.length >= 6).toBe(true);
    }
    // the brushed mask (no holes: polygons fill holes) rasterises back (pycocotools' rule) within the tolerance
    const mask = cocoRleToMask(uncompressedRle(rle.annotations.at(-2)!.segmentation as CompressedRle));
    const polys = poly.annotations.at(-2)!.segmentation as number[][];
    const back = unionOf(
      polys.map((p) => rasterizePolygon(p, mask.height, mask.width)),
      mask.data.length,
    );
    expect(planeIou(back, mask.data)).toBeGreaterThanOrEqual(0.95);
  });

  it('prefetches the next image, loads the decoder again when the serving weights change, and falls back to the server when onnxruntime-web cannot load', async () => {
    const embed = await fetch(`${srv.url}/api/embed`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'dog.jpg' }),
    });
    const dogId = ((await embed.json()) as { id: string }).id;
    const p2 = await browser.newPage({ viewport: { width: 1280, height: 760 }, bypassCSP: true });
    let decoderFetches = 0;
    p2.on('request', (r) => {
      if (/\/api\/decoder(-split|\.onnx)$/.test(r.url())) decoderFetches++;
    });
    let healthCalls = 0;
    await p2.route('**/api/health', async (route: Route) => {
      const res = await route.fetch();
      const json = (await res.json()) as { checkpoint: { sha256: string } };
      if (++healthCalls > 1) json.checkpoint.sha256 = 'f'.repeat(64); // as after a new version activates
      await route.fulfill({ response: res, json });
    });
    await p2.goto(`${srv.url}/#token=${TOKEN}`);
    await p2.waitForFunction("window.samtunePage.mode === 'browser'");
    const prefetch = p2.waitForRequest((r) => r.url().endsWith(`/api/embedding/${dogId}?dtype=float16`));
    await p2.click(`#images li[title="${XSS_NAME.replace(/"/g, '\\"')}"]`);
    await prefetch; // dog.jpg, the next image, while the first is open
    await p2.waitForFunction(`window.samtunePage.checkpoint === '${'f'.repeat(64)}'`, undefined, { timeout: 20_000 });
    await p2.waitForFunction("window.samtunePage.mode === 'browser'");
    expect(decoderFetches).toBe(2);
    await p2.close();

    const p3 = await browser.newPage({ viewport: { width: 1280, height: 760 }, bypassCSP: true });
    await p3.route('**/ort/**', (route: Route) => route.abort());
    await p3.goto(`${srv.url}/#token=${TOKEN}`);
    await p3.waitForFunction("document.getElementById('model').textContent.includes('clicks decoded by the server')");
    expect(await p3.textContent('#status')).toMatch(/^decoding in the browser failed/);
    await p3.close();
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
    expect(await labelTexts()).toEqual(['dog', 'dog', 'dog', 'dog']);
    await shot('labelling-page-saved.jpg');
  });
});
