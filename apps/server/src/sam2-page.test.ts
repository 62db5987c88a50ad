/**
 * The labelling server with a SAM 2.1 checkpoint (issue 25), on the seeded reduced-Hiera fixture
 * (`../shared/fixtures/sam2-reference/`): `GET /api/health` tells the page that it cannot decode this
 * model itself (`pageDecoder.available: false`), and the API the page then uses (`/api/embed`,
 * `/api/predict`) answers the fixture's box and click with the official SAM 2.1 outputs; fine-tuning
 * from the page is refused with a message that says what to run instead. In Chromium, the page
 * picks the server fallback from that flag, and a box drawn on it shows the server's mask.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareArrays, loadSam2Checkpoint, writeSam2Safetensors, type FloatTensor } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { sharedPath } from '@samtune/test-fixtures';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cocoRleToMask, type CocoRle } from './rle.js';
import { startServer, type SamServer } from './server.js';
import { clientPoint, idle, launchChromium, newPage } from './test-utils/browser.js';
import { referencePath } from './test-utils/fixtures.js';
import { planeIou } from './test-utils/masks.js';

const fixture = (name: string): string => sharedPath(join('fixtures', 'sam2-reference', name));
/** Case 1 (a box) and case 0 (one positive point) of the fixture, ORIGINAL pixels (manifest `cases.dog`). */
const DOG_BOX = [160.0, 133.5, 560.0, 480.6000061035156];
const DOG_POINT = [400.0, 293.70001220703125];

interface PredictJson {
  masks: (CocoRle & { area: number })[];
  best: number;
  iou: number[];
  multimask: boolean;
}

let dir: string;
let srv: SamServer;
let ref: Map<string, FloatTensor>;

async function call(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${srv.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samtune-server-sam2-'));
  // the fixture's trunk is not an official layout: its facts (manifest `models.hiera_mini`) go into the file
  const ckpt = await loadSam2Checkpoint(fixture('sam2.1_hiera_mini_seeded.pt'), {
    facts: { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 },
  });
  const checkpoint = join(dir, 'hiera_mini.safetensors');
  writeSam2Safetensors(checkpoint, ckpt.weights, ckpt.config);
  copyFileSync(referencePath('dog.jpg'), join(dir, 'dog.jpg'));
  ref = readSafetensors(fixture('hiera_mini_outputs.safetensors')).tensors as Map<string, FloatTensor>;
  srv = await startServer({ model: { checkpoint }, imagesDir: dir, dataDir: join(dir, 'data'), port: 0 });
});

afterAll(async () => {
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('labelling server with a SAM 2.1 checkpoint', () => {
  it('says the page cannot decode it, and /api/embed + /api/predict give the official SAM 2.1 outputs', async () => {
    const health = await call('/api/health');
    expect(health.body).toMatchObject({
      engine: 'checkpoint',
      config: { family: 'sam2', imageEncoder: { kind: 'hiera' } },
      pageDecoder: { available: false },
    });
    expect((health.body.pageDecoder as { reason: string }).reason).toMatch(/^SAM 2\.1 .*POST \/api\/predict/);
    const onnx = await call('/api/decoder.onnx');
    expect(onnx.status).toBeGreaterThanOrEqual(400);
    expect((onnx.body.error as { message: string }).message).toMatch(/no page decoder for .*SAM 2\.1/);

    const emb = await call('/api/embed', { image: 'dog.jpg' });
    expect(emb.body).toMatchObject({ width: 800, height: 534, cached: false });
    const box = (await call('/api/predict', { id: emb.body.id, box: DOG_BOX })).body as unknown as PredictJson;
    expect(box).toMatchObject({ multimask: false, best: 0 });
    const a = compareArrays(box.iou, ref.get('dog.case1.iou_predictions')!.data);
    expect(a.ok, JSON.stringify(a)).toBe(true);
    // the mask: the official original-size logits > 0 wherever they are not within the tolerance of 0
    const mask = cocoRleToMask(box.masks[0]!).data;
    const logits = ref.get('dog.case1.masks')!.data;
    const tol = 1e-4 + 1e-3 * logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let decided = 0;
    let differ = 0;
    logits.forEach((v, i) => {
      if (Math.abs(v) <= tol) return;
      decided++;
      if ((mask[i] === 1) !== v > 0) differ++;
    });
    expect(decided).toBeGreaterThan(0.99 * logits.length);
    expect(differ).toBe(0);

    const click = (await call('/api/predict', { id: emb.body.id, points: [[...DOG_POINT, 1]] }))
      .body as unknown as PredictJson;
    expect(click.multimask).toBe(true);
    expect(click.masks).toHaveLength(3);
    const c = compareArrays(click.iou, ref.get('dog.case0.iou_predictions')!.data);
    expect(c.ok, JSON.stringify(c)).toBe(true);

    const ft = await call('/api/finetune', {});
    expect(ft.status).toBe(422);
    expect(ft.body.error).toMatchObject({ code: 'finetune-unsupported' });
    expect((ft.body.error as { message: string }).message).toMatch(
      /^finetune: expected a SAM 1 checkpoint .*got the SAM 2\.1 checkpoint .*samtune train --checkpoint/,
    );
  });

  it('in Chromium: the page decodes on the server from the flag, and a box shows the server’s mask', async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await newPage(browser);
      let predictCalls = 0;
      let decoderCalls = 0;
      page.on('request', (r) => {
        if (r.url().endsWith('/api/predict')) predictCalls++;
        if (/\/api\/decoder(\.onnx|-split)$/.test(r.url())) decoderCalls++;
      });
      await page.goto(srv.url);
      await page.waitForFunction(
        `document.getElementById('model')?.textContent?.includes('clicks decoded by the server')`,
      );
      expect(await page.evaluate('window.samtunePage.mode')).toBe('server');
      await page.click('#images li[title="dog.jpg"]');
      await page.waitForFunction(`document.getElementById('status')?.textContent?.includes('800x534')`);
      await idle(page);
      const n = (await page.evaluate('window.samtunePage.decodes.length')) as number;
      const [x0, y0] = await clientPoint(page, DOG_BOX[0]!, DOG_BOX[1]!);
      const [x1, y1] = await clientPoint(page, DOG_BOX[2]!, DOG_BOX[3]!);
      await page.mouse.move(x0, y0);
      await page.mouse.down();
      await page.mouse.move(x1, y1, { steps: 8 });
      await page.mouse.up();
      await page.waitForFunction(`window.samtunePage.decodes.length > ${n}`);
      await idle(page);
      const shown = (await page.evaluate('window.samtunePage.last')) as PredictJson;
      const prompts = (await page.evaluate('window.samtunePage.prompts()')) as { id: string; box: number[] };
      const served = (await call('/api/predict', prompts)).body as unknown as PredictJson;
      expect(shown.masks).toHaveLength(1);
      expect(planeIou(cocoRleToMask(shown.masks[0]!).data, cocoRleToMask(served.masks[0]!).data)).toBe(1);
      expect(predictCalls).toBeGreaterThan(0);
      expect(decoderCalls).toBe(0); // the flag, not a failed download, chose the fallback
    } finally {
      await browser?.close();
    }
  });
});
