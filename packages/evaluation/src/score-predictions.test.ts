import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from '@samtune/datasets';
import { writeMaskPng } from '@samtune/transforms';
import { PredictionsFileError, readPredictions, scorePredictions } from './score-predictions.js';

/** Made by test-utils/predictions/make-cases.py with pycocotools (see its header). */
const CASES = join(import.meta.dirname, 'test-utils', 'predictions');
interface Expected {
  ap: number;
  ap50: number;
  ap75: number;
  matched: number;
  f1: number;
  iou: number;
  gt_plain: number;
  gt_crowd: number;
  detections: number;
}
const expected = JSON.parse(readFileSync(join(CASES, 'expected.json'), 'utf8')) as Record<string, Expected>;
const tmp = mkdtempSync(join(tmpdir(), 'samtune-score-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The case's gt.json with blank PNGs of the declared sizes beside it, loaded as a dataset. */
async function caseDataset(name: string): Promise<Dataset> {
  const dir = join(tmp, name);
  const gt = JSON.parse(readFileSync(join(CASES, name, 'gt.json'), 'utf8')) as {
    images: { file_name: string; width: number; height: number }[];
  };
  rmSync(dir, { recursive: true, force: true });
  for (const im of gt.images) {
    const data = new Uint8Array(im.width * im.height);
    await writeMaskPng(join(dir, im.file_name), { width: im.width, height: im.height, data });
  }
  copyFileSync(join(CASES, name, 'gt.json'), join(dir, 'gt.json'));
  return loadDataset(join(dir, 'gt.json'));
}

describe('scorePredictions against pycocotools COCOeval (segm)', () => {
  for (const name of ['crowd', 'ties']) {
    it(`matches AP, AP50, AP75 and the IoU-0.50 pixel metrics on the '${name}' case`, async () => {
      const ds = await caseDataset(name);
      expect(ds.skipped).toEqual([]);
      const e = expected[name] as Expected;
      const results = await readPredictions(join(CASES, name, 'results.json'));
      const r = await scorePredictions(ds.subsets.default ?? [], ds.labels, results, 'results.json');
      expect(r.skipped).toEqual([]);
      expect(r.ap).toBeCloseTo(e.ap, 12);
      expect(r.ap50).toBeCloseTo(e.ap50, 12);
      expect(r.ap75).toBeCloseTo(e.ap75, 12);
      expect(r).toMatchObject({ images: 8, instances: e.gt_plain, crowd: e.gt_crowd, detections: e.detections });
      expect(r.matched).toBe(e.matched);
      expect(r.f1).toBeCloseTo(e.f1, 12);
      expect(r.iou).toBeCloseTo(e.iou, 12);
      expect(r.dice).toBe(r.f1);
    });
  }

  it('the cases are sensitive: crowd as plain ground truth, or ties in file order, give other numbers', async () => {
    const crowd = await caseDataset('crowd');
    const items = crowd.subsets.default ?? [];
    const plain = items.map((it) => ({ ...it, instances: it.instances.map((inst) => ({ ...inst, iscrowd: false })) }));
    const results = await readPredictions(join(CASES, 'crowd', 'results.json'));
    const naive = await scorePredictions(plain, crowd.labels, results);
    expect(Math.abs(naive.ap - (expected.crowd as Expected).ap)).toBeGreaterThan(1e-3);

    const ties = await caseDataset('ties');
    const tieItems = ties.subsets.default ?? [];
    // gt.json lists image ids descending: renumbering the images in file order keeps every mask and
    // score but changes which tied detection comes first
    const position = new Map(tieItems.map((it, i) => [String(it.sourceId), i]));
    expect([...position.keys()]).toEqual(['8', '7', '6', '5', '4', '3', '2', '1']);
    const renumbered = tieItems.map((it, i) => ({ ...it, sourceId: i }));
    const tieResults = (await readPredictions(join(CASES, 'ties', 'results.json'))).map((d) => ({
      ...(d as Record<string, unknown>),
      image_id: position.get(String((d as Record<string, unknown>).image_id)),
    }));
    const fileOrder = await scorePredictions(renumbered, ties.labels, tieResults);
    expect(fileOrder.detections).toBe((expected.ties as Expected).detections);
    expect(Math.abs(fileOrder.ap - (expected.ties as Expected).ap)).toBeGreaterThan(1e-3);
  });

  it('reports and skips results it cannot score, and refuses a file that is not an array', async () => {
    const ds = await caseDataset('ties');
    const items = ds.subsets.default ?? [];
    const good = (await readPredictions(join(CASES, 'ties', 'results.json')))[0] as Record<string, unknown>;
    const r = await scorePredictions(
      items,
      ds.labels,
      [
        good,
        { ...good, image_id: 99 },
        { ...good, category_id: 7 },
        { ...good, score: 'high' },
        { ...good, segmentation: undefined },
        { ...good, segmentation: { size: [5, 5], counts: [25] } },
        'x',
      ],
      'res.json',
    );
    expect(r.detections).toBe(1);
    expect(r.skipped.map((s) => s.message)).toEqual([
      "scorePredictions: res.json, item '99', annotation '[1]': malformed annotation: image_id 99 is not an image of the evaluated subset",
      `scorePredictions: res.json, item '${String(good.image_id)}', annotation '[2]': unknown category 7; declared: [1, 2]`,
      `scorePredictions: res.json, item '${String(good.image_id)}', annotation '[3]': malformed annotation: expected a finite number score, got "high"`,
      `scorePredictions: res.json, item '${String(good.image_id)}', annotation '[4]': malformed annotation: expected a segmentation (RLE {size, counts} or polygons), got none (box-only results have no mask to score)`,
      `scorePredictions: res.json, item '${String(good.image_id)}', annotation '[5]': RLE size [h,w]=[5,5] but the image is [20,24]`,
      "scorePredictions: res.json, annotation '[6]': malformed annotation: expected {image_id, category_id, segmentation, score}, got string",
    ]);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"annotations": []}');
    await expect(readPredictions(bad)).rejects.toThrow(PredictionsFileError);
    await expect(readPredictions(bad)).rejects.toThrow(/expected '.*bad\.json' to hold a JSON array/);
  });
});
