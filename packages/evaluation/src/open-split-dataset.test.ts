import { describe, expect, it } from 'vitest';
import { openSplitDataset, pickSubset } from './setup.js';
import { sharedPath } from './test-utils/fixtures.js';

const css = sharedPath('fixtures/datumaro-formats/common_semantic_segmentation_dataset/dataset');
const datumaro = sharedPath('fixtures/datumaro-formats/datumaro_dataset/legacy');

describe('openSplitDataset (one-subset exports train without renaming anything)', () => {
  it('splits a one-subset dataset by seed and says so; train and val subsets are then found', async () => {
    const { dataset, split } = await openSplitDataset(css, 'auto', { valFraction: 0.5, seed: 0 });
    expect(split).toBe(
      "one subset 'default' (2 images): split by seed 0 into train 1 / val 1 images (data.val-fraction 0.5)",
    );
    expect(pickSubset(dataset, 'train', ['train']).items).toHaveLength(1);
    expect(pickSubset(dataset, 'auto').name).toBe('val');
    const again = await openSplitDataset(css, 'auto', { valFraction: 0.5, seed: 0 });
    expect(again.dataset.subsets.val?.[0]?.id).toBe(dataset.subsets.val?.[0]?.id);
  });

  it('leaves datasets with several subsets, and val-fraction 0, alone', async () => {
    const three = await openSplitDataset(datumaro, 'auto', { valFraction: 0.2, seed: 0 });
    expect(three.split).toBeUndefined();
    expect(Object.keys(three.dataset.subsets).sort()).toEqual(['test', 'train', 'validation']);
    const off = await openSplitDataset(css, 'auto', { valFraction: 0, seed: 0 });
    expect(off.split).toBeUndefined();
    expect(Object.keys(off.dataset.subsets)).toEqual(['default']);
  });
});
