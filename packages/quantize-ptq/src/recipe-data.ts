/**
 * What the `samtune optimize` recipe does the same for both model families (`optimize-recipe.ts`,
 * `sam2-optimize.ts`): the dataset's calibration and evaluation subsets, the options passed through
 * to the component loop, the report's data description, and the evaluation progress lines.
 */
import { resolve } from 'node:path';
import type { Dataset, DatasetItem } from '@samtune/datasets';
import { defaultEmbeddingCacheDir, openDataset, pickSubset, VAL_SUBSET_CANDIDATES } from '@samtune/evaluation';
import type { TrainItem } from '@samtune/training-data';
import type { SessionOptions } from '@samtune/onnx';
import { pickCalibrationItems } from './calibration-data.js';
import type { OptimizeLayoutOptions } from './optimize-dir.js';
import type { OptimizeWithDatasetOptions } from './optimize-recipe.js';
import { EtaReporter } from './progress.js';

/** The recipe's data: calibration items (seeded), evaluation items, and the shared settings. */
export interface RecipeData {
  readonly calName: string;
  readonly valName: string;
  readonly calItems: readonly DatasetItem[];
  /** The evaluation subset's items (all, for the output-agreement inputs). */
  readonly valItems: readonly DatasetItem[];
  /** The evaluation subset's usable items (`pickSubset`), for the metrics. */
  readonly evalItems: readonly TrainItem[];
  readonly cacheDir: string;
  readonly session: SessionOptions | undefined;
  readonly promptsPerImage: number;
  readonly seed: number;
}

function subset(ds: Dataset, wanted: string | undefined, candidates: readonly string[]) {
  return pickSubset(ds, wanted ?? 'auto', wanted ? [wanted] : candidates);
}

/** Opens the dataset and picks the recipe's subsets and calibration images. */
export async function openRecipeData(o: OptimizeWithDatasetOptions): Promise<RecipeData> {
  const seed = o.seed ?? 0;
  const ds = await openDataset(o.dataRoot, o.format ?? 'auto');
  const cal = subset(ds, o.calibrationSubset, ['train', 'training']);
  const val = subset(ds, o.evalSubset, VAL_SUBSET_CANDIDATES);
  return {
    calName: cal.name,
    valName: val.name,
    calItems: pickCalibrationItems(ds.subsets[cal.name] ?? [], o.subsetSize ?? 100, seed),
    valItems: ds.subsets[val.name] ?? [],
    evalItems: val.items,
    cacheDir: o.cacheDir ?? defaultEmbeddingCacheDir(),
    session: o.threads ? { intraOpNumThreads: o.threads } : undefined,
    promptsPerImage: o.promptsPerImage ?? 4,
    seed,
  };
}

/** The flags passed through to the component loop, and the report's data description. */
export function passThroughOptions(
  o: OptimizeWithDatasetOptions,
  d: RecipeData,
  fidelityImages: number,
  log: (line: string) => void,
): Omit<OptimizeLayoutOptions, 'calibration'> {
  return {
    ...(o.only ? { components: [o.only] } : {}),
    fidelitySamples: 200,
    ...(o.opTypes ? { opTypes: { encoder: o.opTypes, decoder: o.opTypes } } : {}),
    ...(o.activationMatMul !== undefined ? { activationMatMul: o.activationMatMul } : {}),
    ...(o.maxF1Drop !== undefined ? { maxF1Drop: o.maxF1Drop } : {}),
    ...(o.method ? { method: o.method } : {}),
    ...(o.percentile !== undefined ? { percentile: o.percentile } : {}),
    ...(o.dynamic !== undefined ? { dynamic: o.dynamic } : {}),
    ...(o.latencyRuns !== undefined ? { latencyRuns: o.latencyRuns } : {}),
    ...(d.session ? { session: d.session } : {}),
    ...(o.reportDir ? { reportDir: resolve(o.reportDir) } : {}),
    data: {
      'data root': o.dataRoot,
      'calibration subset': d.calName,
      'calibration images': d.calItems.length,
      'decoder calibration prompts': `up to ${d.promptsPerImage} instances per image, box + interior point each`,
      'evaluation subset': d.valName,
      'evaluation images': d.evalItems.length,
      'evaluation prompts': 'one tight box per instance (samtune eval recipe)',
      'output agreement inputs': `encoder: the first ${fidelityImages} '${d.valName}' images; decoder: every '${d.valName}' instance's box on the FP32 embeddings`,
    },
    ...(o.notes ? { notes: o.notes } : {}),
    log,
  };
}

/** Each evaluation's progress: total images, elapsed time and ETA, every 10%. */
export function evaluationProgress(log: (line: string) => void): (label: string, done: number, total: number) => void {
  const byLabel = new Map<string, EtaReporter>();
  return (label, done, total) => {
    let eta = byLabel.get(label);
    if (!eta) byLabel.set(label, (eta = new EtaReporter(`  evaluating ${label}:`, 'images', total, log)));
    eta.update(done);
  };
}
