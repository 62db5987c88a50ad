/**
 * The demo's model and recipe: the official MobileSAM checkpoint (`tiny_vit`) when it is cached or
 * can be downloaded, otherwise a seeded model of the same architecture (`initWeightsFromShapes`
 * with the `tiny_vit` preset), written once to the cache as safetensors. The recipe is the default
 * one with a short schedule so that it finishes in a few minutes on 2 cores.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import {
  CHECKPOINT_REGISTRY,
  defaultCacheDir,
  expectedShapes,
  initWeightsFromShapes,
  resolveCheckpointDetailed,
  SAM_PRESETS,
  writeSamSafetensors,
} from '@samtune/sam-model';
import { defaultTrainConfig, type TrainConfig } from './config.js';
import { emptyRunFolder } from './run-folder.js';

/** Which weights the demo uses. */
export interface DemoCheckpoint {
  /** Local path of the checkpoint file. */
  readonly path: string;
  /** True for the official MobileSAM weights, false for the seeded stand-in. */
  readonly official: boolean;
  /** One sentence for the user saying which weights are used and why. */
  readonly message: string;
}

export interface DemoCheckpointOptions {
  /** Cache directory (default `defaultCacheDir()`). */
  readonly cacheDir?: string;
  /** Give up on the download after this many ms (default 20000). */
  readonly downloadTimeoutMs?: number;
  /** Do not download (a cached official checkpoint is still used). */
  readonly offline?: boolean;
  readonly onDownloadProgress?: (done: number, total: number | undefined) => void;
  /** Seed of the stand-in model. Default 0. */
  readonly seed?: number;
}

/** The official MobileSAM checkpoint if cached/downloadable, else the seeded stand-in (see module comment). */
export async function resolveDemoCheckpoint(options: DemoCheckpointOptions = {}): Promise<DemoCheckpoint> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  let reason = 'offline mode';
  const cached = existsSync(join(cacheDir, CHECKPOINT_REGISTRY.tiny_vit?.fileName ?? 'mobile_sam.pt'));
  if (!options.offline || cached) {
    const timeout = options.downloadTimeoutMs ?? 20_000;
    const fetchImpl: typeof fetch = (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeout) });
    try {
      const r = await resolveCheckpointDetailed('tiny_vit', {
        cacheDir,
        fetchImpl,
        retries: 1, // the demo falls back to the seeded model quickly; one retry rides out a dropped connection
        retryDelayMs: 500,
        ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
      });
      return { path: r.path, official: true, message: `Using the official MobileSAM checkpoint (${r.path}).` };
    } catch (e) {
      reason = `${(e as Error).name}: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  const seed = options.seed ?? 0;
  const path = join(cacheDir, `seeded-tiny_vit-seed${seed}.safetensors`);
  if (!existsSync(path)) {
    mkdirSync(cacheDir, { recursive: true });
    const config = SAM_PRESETS.tiny_vit;
    writeSamSafetensors(path, initWeightsFromShapes(expectedShapes(config), seed), config, {
      'samtune.seeded': String(seed),
    });
  }
  return {
    path,
    official: false,
    message: `The official MobileSAM checkpoint is not cached and could not be downloaded (${reason}). Using a SEEDED (random) MobileSAM-shaped model instead: the pipeline runs end to end, but its metrics mean nothing. Put mobile_sam.pt into ${cacheDir} to use the real weights.`,
  };
}

/** The demo recipe: `examples/plant-mini`, 5 epochs, lr 1e-4, at most 8 instances per image. */
export function demoTrainConfig(repoRoot: string, checkpoint: string, out: string): TrainConfig {
  const c = defaultTrainConfig();
  c.checkpoint = checkpoint;
  c.data.root = join(repoRoot, 'examples', 'plant-mini');
  c.data.train.maxInstances = 8;
  c.optimizer.lr = 1e-4;
  c.training.epochs = 5;
  c.out = out;
  return c;
}

/** The demo recipe in one sentence, printed by `samtune demo` (it differs from the README defaults). */
export const DEMO_RECIPE =
  'demo recipe: lr 1e-4 (the default is 1e-5) and at most 8 instances an image (default: all), 5 epochs, box prompts, so that it finishes in minutes on 2 cores';

/** Thrown when the demo photos (examples/plant-mini) are not found above the working directory. */
export class DemoDataError extends SamtuneError {
  readonly code: string = 'demo-data';
  readonly kind: ErrorKind = 'not-found';
}

/** The repo root: the nearest ancestor of `start` holding examples/plant-mini. */
export function findDemoRoot(start = process.cwd()): string {
  let dir = resolve(start);
  while (!existsSync(join(dir, 'examples', 'plant-mini'))) {
    const up = dirname(dir);
    if (up === dir)
      throw new DemoDataError(
        `findDemoRoot(start): no examples/plant-mini above ${start}; run the demo from the samtune repository`,
      );
    dir = up;
  }
  return dir;
}

export interface PrepareDemoOptions extends DemoCheckpointOptions {
  /** Run directory (default `<repo>/runs/demo`); emptied first (refused when it is a non-empty folder that is not a run folder). */
  readonly out?: string;
  /** Epochs (default 5). */
  readonly epochs?: number;
  /** Where to look for the repository (default the working directory). */
  readonly cwd?: string;
}

/** A demo run ready to train: the weights used and the config. */
export interface PreparedDemo {
  readonly checkpoint: DemoCheckpoint;
  readonly config: TrainConfig;
}

/** Finds the demo data, chooses the weights, empties the run directory and builds the config. */
export async function prepareDemo(options: PrepareDemoOptions = {}): Promise<PreparedDemo> {
  const root = findDemoRoot(options.cwd);
  const out = resolve(options.out ?? join(root, 'runs', 'demo'));
  emptyRunFolder(out, `prepareDemo(options.out)`);
  const checkpoint = await resolveDemoCheckpoint(options);
  const config = demoTrainConfig(root, checkpoint.path, out);
  if (options.epochs !== undefined) config.training.epochs = options.epochs;
  return { checkpoint, config };
}
