import { describe, expect, it } from 'vitest';
import { createMask } from '@samtune/transforms';
import type { Dataset } from '@samtune/datasets';
import { SubsetError } from '@samtune/evaluation';
import { TargetStore, type TrainItem } from '@samtune/training-data';
import { checkUsableInstances, crowdCount, NoUsableInstancesError, pickValSubset } from './usable-data.js';

const full = () => {
  const m = createMask(8, 6);
  m.data.fill(1);
  return m;
};
const item = (id: string, instances: TrainItem['instances']): TrainItem => ({
  id,
  imagePath: `/x/${id}.png`,
  width: 8,
  height: 6,
  instances,
});

describe('usable data checks (issue 23)', () => {
  it('counts crowd instances and stops a run with no usable instance, saying why', async () => {
    const crowdOnly = item('a', [
      { id: '1', iscrowd: true, mask: full },
      { id: '2', iscrowd: true, mask: full },
    ]);
    const empty = item('b', [{ id: '3', mask: () => createMask(8, 6) }]);
    const bare = item('c', []);
    expect(crowdCount([crowdOnly, empty])).toBe(2);
    const keep = new TargetStore(0, false, 'keep');
    await checkUsableInstances(
      keep,
      { train: { name: 't', items: [crowdOnly] }, val: { name: 'v', items: [crowdOnly] } },
      'keep',
    );
    const ignore = new TargetStore(0, false, 'ignore');
    await expect(
      checkUsableInstances(
        ignore,
        { train: { name: 'train', items: [crowdOnly] }, val: { name: 'v', items: [crowdOnly] } },
        'ignore',
      ),
    ).rejects.toThrow(
      "runTraining: the training subset 'train' has 0 usable instances (1 images, 2 instances); 2 are crowd regions left out by data.crowd 'ignore' (CVAT writes every mask-tool object as iscrowd 1): use --crowd keep (data.crowd keep) to train on them. Nothing was trained",
    );
    const err = await checkUsableInstances(
      keep,
      { train: { name: 't', items: [crowdOnly] }, val: { name: 'val', items: [empty, bare] } },
      'keep',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoUsableInstancesError);
    expect((err as Error).message).toBe(
      "runTraining: the validation subset 'val' has 0 usable instances (2 images, 1 instances); 1 have an empty mask. Nothing was trained",
    );
    await expect(
      checkUsableInstances(
        keep,
        { train: { name: 't', items: [bare] }, val: { name: 'v', items: [crowdOnly] } },
        'keep',
      ),
    ).rejects.toThrow('(1 images, 0 instances); its images have no annotations');
  });

  it('a one-subset dataset that could not be split says which flag to set', () => {
    const ds = {
      format: 'coco',
      root: '/x',
      labels: [],
      subsets: { train: [{ ...item('a', []), subset: 'train' }] },
      skipped: [],
    } as unknown as Dataset;
    const err = (() => {
      try {
        return pickValSubset(
          ds,
          'auto',
          "one subset 'default' (1 images): split by seed 0 into train 1 / val 0 images",
        );
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SubsetError);
    expect((err as Error).message).toContain(
      'left no validation image: give a dataset of at least 2 images with data.val-fraction > 0 (--val-fraction), or name a validation subset with data.val.subset',
    );
  });
});
