/**
 * Checks that a run has data to learn from before it trains: crowd counts for the dataset line, a
 * validation subset with a hint when a one-subset dataset could not be split, and a stop with the
 * reason when the training or validation images hold no usable instance (all crowd with
 * `data.crowd ignore`, empty masks, no annotations) — instead of training on nothing and exiting 0.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import type { Dataset } from '@samtune/datasets';
import { pickSubset, SubsetError } from '@samtune/evaluation';
import { type CrowdPolicy, type TargetStore, type TrainItem } from '@samtune/training-data';

/** Thrown when the training or validation images hold no instance to train or validate on. */
export class NoUsableInstancesError extends SamtuneError {
  readonly code: string = 'no-usable-instances';
  readonly kind: ErrorKind = 'input';
}

/** Crowd instances (`iscrowd`) of the items. */
export function crowdCount(items: readonly TrainItem[]): number {
  let n = 0;
  for (const it of items) for (const inst of it.instances) if (inst.iscrowd) n++;
  return n;
}

/** `pickSubset` for the validation subset; its error says what to set when a one-subset dataset was not split. */
export function pickValSubset(
  dataset: Dataset,
  name: string,
  split: string | undefined,
): ReturnType<typeof pickSubset> {
  try {
    return pickSubset(dataset, name);
  } catch (e) {
    const names = Object.keys(dataset.subsets);
    if (!(e instanceof SubsetError) || names.length !== 1) throw e;
    const only = names[0] as string;
    throw new SubsetError(
      `${e.message}. ${split ? `The split (${split})` : `The one subset '${only}' was not split`} left no validation image: give a dataset of at least 2 images with data.val-fraction > 0 (--val-fraction), or name a validation subset with data.val.subset`,
    );
  }
}

/** Throws NoUsableInstancesError when `train` or `val` has no usable instance (targets already computed). */
export async function checkUsableInstances(
  targets: TargetStore,
  subsets: { readonly train: SubsetItems; readonly val: SubsetItems },
  crowd: CrowdPolicy,
): Promise<void> {
  for (const [role, subset] of Object.entries(subsets)) {
    let usable = 0;
    let instances = 0;
    let skippedCrowd = 0;
    let skippedEmpty = 0;
    for (const item of subset.items) {
      const t = await targets.get(item);
      usable += t.targets.length;
      instances += item.instances.length;
      skippedCrowd += t.skippedCrowd;
      skippedEmpty += t.skippedEmpty;
    }
    if (usable > 0) continue;
    const hint =
      instances === 0
        ? 'its images have no annotations'
        : skippedCrowd > 0
          ? `${skippedCrowd} are crowd regions left out by data.crowd '${crowd}' (CVAT writes every mask-tool object as iscrowd 1): use --crowd keep (data.crowd keep) to train on them`
          : `${skippedEmpty} have an empty mask`;
    throw new NoUsableInstancesError(
      `runTraining: the ${role === 'train' ? 'training' : 'validation'} subset '${subset.name}' has 0 usable instances (${subset.items.length} images, ${instances} instances); ${hint}. Nothing was trained`,
    );
  }
}

interface SubsetItems {
  readonly name: string;
  readonly items: readonly TrainItem[];
}
