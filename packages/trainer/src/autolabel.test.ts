import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '@samtune/datasets';
import { initBackend, SamModel } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { maskArea } from '@samtune/transforms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autolabel } from './autolabel.js';
import { referencePath } from './test-utils/fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'samtune-autolabel-'));
let model: SamModel;

beforeAll(async () => {
  await initBackend('wasm');
  model = await SamModel.load(referencePath('tinyvit.pth'));
  // An "unlabelled" COCO dataset: only a box (e.g. from a detector), no segmentation.
  mkdirSync(join(root, 'train'));
  copyFileSync(referencePath('dog.jpg'), join(root, 'train', 'dog.jpg'));
  const box = [160.0, 133.5, 560.0, 480.6000061035156];
  writeFileSync(
    join(root, 'train', '_annotations.coco.json'),
    JSON.stringify({
      images: [{ id: 7, file_name: 'dog.jpg', width: 800, height: 534 }],
      categories: [{ id: 3, name: 'dog' }],
      annotations: [
        {
          id: 1,
          image_id: 7,
          category_id: 3,
          bbox: [box[0], box[1], box[2]! - box[0]!, box[3]! - box[1]!],
          iscrowd: 0,
        },
      ],
    }),
  );
});
afterAll(async () => {
  await model.release();
  rmSync(root, { recursive: true, force: true });
});

describe('autolabel', () => {
  it('turns a box prompt into the reference mask, as a COCO file datasets reads back', async () => {
    // The fixture weights are random: every reference logit is negative, so threshold at the median
    // reference logit (about half the pixels inside) to make the comparison meaningful.
    const logits = readSafetensors(referencePath('tinyvit_outputs.safetensors')).tensors.get('dog.case1.masks')!
      .data as Float32Array;
    const threshold = Float32Array.from(logits).sort()[logits.length >> 1]!;
    const refArea = logits.reduce((n, v) => n + (v > threshold ? 1 : 0), 0);
    expect(refArea).toBeGreaterThan(logits.length * 0.4);
    const tuned = new SamModel({ ...model.config, maskThreshold: threshold }, model.weights, model.source);

    const ds = await loadDataset(root);
    const progress: number[] = [];
    const res = await autolabel(tuned, ds, { onProgress: (d) => progress.push(d) });
    await tuned.release();
    expect(res).toMatchObject({ images: 1, instances: 1, skipped: [], empty: [] });
    expect(progress).toEqual([1]);
    const ann = res.coco.annotations[0]!;
    expect(ann).toMatchObject({ category_id: 3, prompt: 'box', iscrowd: 0 });

    // the reference: official MobileSAM code, same box, logits at original size (dog case 1);
    // pixels within float noise of the threshold may flip: allow 0.1 %
    expect(Math.abs(ann.area - refArea)).toBeLessThanOrEqual(logits.length * 0.001);

    // written as COCO, read back by @samtune/datasets with the same pixels
    const out = mkdtempSync(join(tmpdir(), 'samtune-autolabel-out-'));
    mkdirSync(join(out, 'train'));
    copyFileSync(referencePath('dog.jpg'), join(out, 'train', 'dog.jpg'));
    writeFileSync(join(out, 'train', '_annotations.coco.json'), JSON.stringify(res.coco));
    const back = await loadDataset(out, { strict: true });
    const inst = back.subsets.train![0]!.instances[0]!;
    expect(inst.label).toEqual({ id: 3, name: 'dog' });
    expect(maskArea(await inst.mask())).toBe(ann.area);
    rmSync(out, { recursive: true, force: true });
  });

  it('reports a prompt kind the instance lacks instead of failing', async () => {
    const res = await autolabel(model, await loadDataset(root), { prompt: 'points' });
    expect(res.instances).toBe(0);
    expect(res.skipped).toHaveLength(1);
    expect(res.skipped[0]).toMatch(/dog\.jpg \(item dog, instance 1\)/);
  });
});
