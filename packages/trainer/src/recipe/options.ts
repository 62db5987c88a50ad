/**
 * The training recipe's options beyond SAM's defaults (`loss.resolution`, `prompt.iterations`) and
 * what one micro-batch needs for them. Dependency-free, so that the config module and both engines
 * can use it.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import type { ResizeGeometry } from '@samtune/transforms';

/** Where the loss is computed (`loss.resolution`, see `loss-resolution.ts`). */
export type LossResolution = 'lowres' | 'original';

/** The accepted `loss.resolution` values. */
export const LOSS_RESOLUTIONS: readonly LossResolution[] = ['lowres', 'original'];

/** The recipe options of a run (`loss.resolution`, `prompt.iterations`). */
export interface TrainRecipe {
  readonly resolution: LossResolution;
  /** Simulated-click passes after the first (`simulated-clicks.ts`); 0 = off. */
  readonly iterations: number;
}

/** What one micro-batch needs beyond the default step. */
export interface MicroBatchRecipe {
  readonly recipe: TrainRecipe;
  readonly geometry: ResizeGeometry;
  /** `[B*H*W]` 0/1 original-size instance masks (only with `loss.resolution original`). */
  readonly originalTargets?: Float32Array;
  /** Seeds the simulated clicks of this micro-batch. */
  readonly seed: number;
  /** Labels the generator with (epoch, image, first instance), so each micro-batch draws its own clicks. */
  readonly labels: readonly (string | number)[];
}

/** Thrown when the chosen engine cannot run a recipe option. */
export class RecipeUnsupportedError extends SamtuneError {
  readonly code: string = 'recipe-unsupported';
  readonly kind: ErrorKind = 'unsupported';
}

/** True when the recipe is SAM's default (low-res loss, one pass): nothing beyond the plain step. */
export function isDefaultRecipe(r: TrainRecipe): boolean {
  return r.resolution === 'lowres' && r.iterations === 0;
}

/**
 * Refuses recipe options the engine cannot run. Both built-in engines (`ort`, `tfjs`) run every
 * option; an engine registered with `registerTrainEngine` that cannot is named in `enginesWithout`.
 * @throws RecipeUnsupportedError (kind `unsupported`) for a non-default recipe on such an engine.
 */
export function checkRecipeEngine(engine: string, r: TrainRecipe, enginesWithout: readonly string[] = []): void {
  if (!enginesWithout.includes(engine) || isDefaultRecipe(r)) return;
  const asks = [
    ...(r.resolution !== 'lowres' ? [`loss.resolution ${r.resolution}`] : []),
    ...(r.iterations > 0 ? [`prompt.iterations ${r.iterations}`] : []),
  ];
  throw new RecipeUnsupportedError(
    `training engine '${engine}' does not support ${asks.join(' and ')}; use --engine ort or tfjs, or keep ` +
      `loss.resolution lowres and prompt.iterations 0`,
  );
}
