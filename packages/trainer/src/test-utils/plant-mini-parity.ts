/**
 * Test-only: the full-batch recipe of issue 9's engine parity check on examples/plant-mini
 * (tinyvit.pth, `--data.train.batch-size 6 --optimizer.lr 1e-4 --early-stopping.enabled false`,
 * 5 epochs), for either engine, and the tfjs engine's committed per-epoch train losses. The recipe
 * has no schedule over the epoch count, so the first N epochs of the 5 are an N-epoch run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTrainConfig, type TrainConfig, type TrainEngineName } from '../config.js';
import { referencePath, repoPath } from './fixtures.js';

/** The committed per-epoch train losses of the tfjs engine (see `make-tfjs-losses.ts`). */
export const TFJS_LOSSES_FILE = join(import.meta.dirname, 'plant-mini-tfjs-losses.json');

/** Contents of `TFJS_LOSSES_FILE`. */
export interface EngineLosses {
  readonly command: string;
  readonly engine: TrainEngineName;
  readonly backend: string;
  readonly date: string;
  /** Mean train loss of each epoch (1..5). */
  readonly trainLoss: readonly number[];
  readonly prompts: readonly number[];
}

/** The parity recipe for `engine` (`epochs` of it), writing into `out` with embeddings cached in `cacheDir`. */
export function plantMiniParityConfig(engine: TrainEngineName, out: string, cacheDir: string, epochs = 5): TrainConfig {
  const c = defaultTrainConfig();
  c.checkpoint = referencePath('tinyvit.pth');
  c.data.root = repoPath('examples/plant-mini');
  c.data.train.batchSize = 6;
  c.optimizer.lr = 1e-4;
  c.earlyStopping.enabled = false;
  c.training.epochs = epochs;
  c.runtime.engine = engine;
  c.runtime.cacheDir = cacheDir;
  c.out = out;
  return c;
}

export function readTfjsLosses(): EngineLosses {
  return JSON.parse(readFileSync(TFJS_LOSSES_FILE, 'utf8')) as EngineLosses;
}
