/** Test-only: the config of a one-epoch run of the seeded tinyvit fixture on a dataset. */
import { join } from 'node:path';
import { defaultTrainConfig, type TrainConfig } from '../config.js';
import { referencePath } from './fixtures.js';

/** One epoch of `tinyvit.pth` on `root`, writing into `<dir>/<out>` with the cache in `<dir>/cache`. */
export function oneEpochConfig(dir: string, out: string, root: string): TrainConfig {
  const c = defaultTrainConfig();
  c.checkpoint = referencePath('tinyvit.pth');
  c.data.root = root;
  c.training.epochs = 1;
  c.runtime.cacheDir = join(dir, 'cache');
  c.out = join(dir, out);
  return c;
}
