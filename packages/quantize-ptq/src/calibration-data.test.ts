import { loadDataset } from '@samtune/datasets';
import type { Dataset, DatasetItem } from '@samtune/datasets';
import type { FloatTensor } from '@samtune/sam-model';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Feeds } from './calibrate.js';
import {
  CalibrationDataError,
  decoderCalibrationFeeds,
  encoderCalibrationFeeds,
  pickCalibrationItems,
} from './calibration-data.js';
import { sharedPath } from './test-utils/graphs.js';

// Datumaro's COCO test dataset: train/a.jpg (H,W)=(5,10) with one instance, val/b.jpg (10,5) with one
// instance and one crowd region.
let ds: Dataset;
beforeAll(async () => {
  ds = await loadDataset(sharedPath('fixtures/datumaro-formats/coco_dataset/coco_instances'));
});
const zeros: FloatTensor = { dtype: 'float32', shape: [1, 256, 64, 64], data: new Float32Array(256 * 64 * 64) };
const collect = async (it: AsyncIterable<Feeds>): Promise<Feeds[]> => {
  const out: Feeds[] = [];
  for await (const f of it) out.push(f);
  return out;
};
const values = (f: Feeds, name: string): number[] => Array.from(f[name]?.data as Float32Array);

describe('calibration samples', () => {
  it('picks items by a seeded shuffle: deterministic, capped', () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    expect(pickCalibrationItems(xs, 4, 0)).toEqual(pickCalibrationItems(xs, 4, 0));
    expect(new Set(pickCalibrationItems(xs, 4, 1)).size).toBe(4);
    expect(pickCalibrationItems(xs, 100, 0).sort((a, b) => a - b)).toEqual(xs);
    expect(() => pickCalibrationItems(xs, 0)).toThrow(CalibrationDataError);
  });

  it('encoder: the official pre-processing, [1,3,1024,1024], zero padding below the resized image', async () => {
    const [f] = await collect(encoderCalibrationFeeds(ds.subsets.train as DatasetItem[]));
    const t = f?.images;
    expect(t?.shape).toEqual([1, 3, 1024, 1024]);
    const d = t?.data as Float32Array;
    // (H,W) = (5,10) resized to (512,1024): rows >= 512 are zero padding (after normalisation)
    expect(d[600]).not.toBe(0);
    expect(d[1024 * 511 + 5]).not.toBe(0);
    expect(d[1024 * 512 + 5]).toBe(0);
    expect(d[2 * 1024 * 1024 + 1024 * 1023]).toBe(0);
  });

  it('decoder: a box (labels 2,3) and an interior point (+ padding point) per instance (crowd by policy), 1024 frame', async () => {
    const seen: string[] = [];
    const feeds = await collect(
      decoderCalibrationFeeds(
        [...(ds.subsets.train ?? []), ...(ds.subsets.val ?? [])],
        async (p) => (seen.push(p), { embedding: zeros, originalSize: p.endsWith('a.jpg') ? [5, 10] : [10, 5] }),
        { crowd: 'ignore' },
      ),
    );
    expect(feeds).toHaveLength(4); // a: 1 instance, b: 1 instance (the crowd region skipped)
    const kept = await collect(
      decoderCalibrationFeeds([...(ds.subsets.train ?? []), ...(ds.subsets.val ?? [])], async (p) => ({
        embedding: zeros,
        originalSize: p.endsWith('a.jpg') ? [5, 10] : [10, 5],
      })),
    );
    expect(kept).toHaveLength(6); // the default keeps the crowd region (CVAT's mask objects) too
    expect(seen.map((p) => p.split('/').pop())).toEqual(['a.jpg', 'b.jpg']);
    const [box, point] = feeds as [Feeds, Feeds];
    expect(values(box, 'point_labels')).toEqual([2, 3]);
    expect(values(point, 'point_labels')).toEqual([1, -1]);
    expect(values(box, 'orig_im_size')).toEqual([5, 10]);
    for (const v of values(box, 'point_coords')) expect(v % 102.4).toBeCloseTo(0, 3); // pixel indices x 1024/10
    expect(box.image_embeddings).toBe(zeros);
    expect(values(box, 'has_mask_input')).toEqual([0]);
  });

  it('refuses a dataset without a usable instance', async () => {
    const crowdOnly = (ds.subsets.val ?? []).map((it) => ({ ...it, instances: it.instances.filter((i) => i.iscrowd) }));
    await expect(
      collect(
        decoderCalibrationFeeds(crowdOnly, async () => ({ embedding: zeros, originalSize: [10, 5] }), {
          crowd: 'ignore',
        }),
      ),
    ).rejects.toThrow(/no usable instance \(non-empty mask, non-crowd\) in 1 item/);
  });
});
