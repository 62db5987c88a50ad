/**
 * The user's own validation set of the gate (`samtune serve --val <labels.json> [--val-images <dir>]`):
 * a COCO labels file read by `@samtune/datasets` like the training labels (hostile-input rules
 * included: every image path stays inside its folder, bad items are reported and skipped). Checked
 * once when the server starts, so that a bad file stops the start with its reason instead of failing
 * every run later; each run's trainer reads it again (`data.val.root`) and the gate compares the
 * candidate and the serving version on it instead of the seeded split of the accepted labels.
 */
import { resolve } from 'node:path';
import { loadDataset, type Dataset } from '@samtune/datasets';
import { ServerConfigError } from '../errors.js';

/** The `--val` set as given to the server. */
export interface ValSetOptions {
  /** A COCO instances `.json` file. */
  readonly labels: string;
  /** Its image folder (default: the file's folder). */
  readonly images?: string;
}

/** A checked `--val` set: absolute paths and its size at start. */
export interface ValSet {
  readonly labels: string;
  /** Its image folder, when given. */
  readonly imagesDir?: string;
  /** Images and instances in it at start. */
  readonly images: number;
  readonly instances: number;
}

/** The `--val` file cannot serve as the gate's validation set; the message says which file and why. */
export class ValSetError extends ServerConfigError {
  override readonly code: string = 'val-set';
}

/**
 * Loads `opts.labels` and checks that it holds images with instances and is not `trainingLabels`
 * (the labels file the runs train on: a gate on the training data would pass anything).
 * @throws ValSetError for a file that is not a COCO `.json`, is the training labels file, cannot be
 *   read, or has no usable image
 */
export async function checkValSet(opts: ValSetOptions, trainingLabels: string): Promise<ValSet> {
  const labels = resolve(opts.labels);
  const images = opts.images === undefined ? undefined : resolve(opts.images);
  const where = `startServer(finetune.val): --val ${labels}`;
  if (!/\.json$/i.test(labels)) throw new ValSetError(`${where}: expected a COCO labels .json file, got another name`);
  if (labels === resolve(trainingLabels))
    throw new ValSetError(
      `${where}: expected a labels file other than the one fine-tuning trains on (the --images folder's), got that file`,
    );
  let dataset: Dataset;
  try {
    dataset = await loadDataset(labels, { format: 'coco', ...(images ? { images } : {}) });
  } catch (err) {
    throw new ValSetError(`${where}: cannot be read: ${(err as Error).message}`);
  }
  const items = Object.values(dataset.subsets).flat();
  const instances = items.reduce((n, i) => n + i.instances.length, 0);
  if (instances === 0) {
    const why = dataset.skipped
      .slice(0, 3)
      .map((s) => s.message)
      .join('; ');
    throw new ValSetError(
      `${where}: expected images with at least one instance, got ${items.length} image(s) and 0 instances${why ? ` (skipped: ${why})` : ''}`,
    );
  }
  return { labels, ...(images ? { imagesDir: images } : {}), images: items.length, instances };
}
