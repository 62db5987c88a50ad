import { describe, expect, it } from 'vitest';
import { canonicalSubsetName, openSplitDataset, pickSubset } from './setup.js';
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

describe('pickSubset (issue 23)', () => {
  const item = (id: string) => ({ id, subset: 'x', imagePath: `/x/${id}.png`, width: 1, height: 1, instances: [] });
  const ds = (subsets: Record<string, ReturnType<typeof item>[]>, skipped: { message: string }[] = []) =>
    ({ format: 't', root: '/x', labels: [], subsets, skipped }) as unknown as Parameters<typeof pickSubset>[0];

  it("finds CVAT's Train / Validation / Test and COCO's val2017 whatever the case, and val <-> validation", () => {
    const cvat = ds({ Train: [item('a')], Validation: [item('b')], Test: [item('c')] });
    expect(pickSubset(cvat, 'train', ['train']).name).toBe('Train');
    expect(pickSubset(cvat, 'auto').name).toBe('Validation');
    expect(pickSubset(cvat, 'val', ['val']).name).toBe('Validation');
    expect(pickSubset(cvat, 'TEST', ['TEST']).name).toBe('Test');
    const coco = ds({ train2017: [item('a')], val2017: [item('b')] });
    expect([pickSubset(coco, 'train', ['train']).name, pickSubset(coco, 'auto').name]).toEqual([
      'train2017',
      'val2017',
    ]);
    expect(pickSubset(ds({ val: [item('a')] }), 'validation', ['validation']).name).toBe('val');
    expect(canonicalSubsetName('Validation')).toBe('val');
  });

  it('a subset left empty because its only image was skipped says why', () => {
    const skippedMsg = "loadCoco: /x/a.json, subset 'val', item 'a': image file '/x/a.png' does not exist";
    expect(() => pickSubset(ds({}, [{ message: skippedMsg }]), 'val', ['val'])).toThrow(
      `pickSubset(/x, 'val'): no non-empty subset 'val'; the dataset has no subsets; left out while loading (1 problem(s)): ${skippedMsg}`,
    );
  });
});
