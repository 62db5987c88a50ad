/**
 * The training engine contract. The trainer owns the state of record (`TrainState`: weights and
 * Adam moments in plain buffers); an engine is what turns micro-batches into gradients and steps:
 *
 * ```
 * engine.load(state)                        once per run (and after a resume)
 * for each batch: engine.accumulate(...)×k  forward + loss + backward, gradients summed
 *                 engine.step(lr)           Adam
 * engine.endEpoch()                         frees per-epoch memory (before validation)
 * engine.read(state)                        before checkpoints, validation and interrupts
 * engine.evalDecoder()                      validation on the engine's executor, loss included
 * ```
 *
 * Engines are registered by name (`registry.ts`, like onnxruntime-common's `registerBackend`):
 * `ort` (default) and `tfjs` (the reference).
 */
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import type { Sam2Config, SamConfig } from '@samtune/sam-model';
import type { SamLossConfig } from '@samtune/losses';
import type { EvalDecoder } from '@samtune/evaluation';
import type { MicroBatchRecipe } from '../recipe/options.js';
import type { TrainState } from './train-state.js';
import type { AdamOptions, DecoderPromptBatch, LossParts } from './types.js';

/** What an engine is built from. */
export interface TrainEngineContext {
  /** SAM 1, or SAM 2.1 (`isSam2Config`): the engines then train `sam2DecoderLoss`. */
  readonly config: SamConfig | Sam2Config;
  /**
   * The checkpoint's weights (`prompt_encoder.*` frozen, `mask_decoder.*` give shapes and initial
   * values); SAM 2.1 under samtune's names (`sam2PredictorWeights`).
   */
  readonly weights: WeightMap;
  /** Adam's hyper-parameters (the learning rate of each step is `step`'s argument). */
  readonly adam: AdamOptions;
  readonly loss?: SamLossConfig;
  /** ort engine: the micro-batch sizes whose sessions keep a memory arena (`runtime.ortArena`). */
  readonly arenaBatches?: readonly number[];
}

/** One training engine (see the module comment). */
export interface TrainEngine {
  /** The registered name (`runtime.engine`). */
  readonly name: string;
  /** Takes the weights and Adam's state from `state` (copies: the engine trains its own). */
  load(state: TrainState): void;
  /**
   * Forward + backward of one micro-batch of one image's prompts; adds `scale * grad` to the
   * engine's accumulator and returns the unscaled loss parts (means over the micro-batch).
   * @param embedding `[1,256,64,64]` the image's embedding
   * @param targets `[B,1,256,256]` 0/1 low-res targets, row-major
   * @param scale `B_micro / B_batch`, so that the accumulated gradient is the batch mean's
   * @param recipe the micro-batch's recipe inputs beyond SAM's defaults (`recipe/`; SAM 1 only)
   * @param highResFeats SAM 2.1: the image's projected `high_res_feats.0/.1` (`[1,32,256,256]`,
   *   `[1,64,128,128]`, from the embedding cache); required there, ignored by SAM 1 engines
   */
  accumulate(
    embedding: FloatTensor,
    batch: DecoderPromptBatch,
    targets: Float32Array,
    scale: number,
    recipe?: MicroBatchRecipe,
    highResFeats?: readonly [FloatTensor, FloatTensor],
  ): LossParts;
  /** Copies of the gradients accumulated since the last step, by key (zeros when none; tests, diagnostics). */
  gradients?(): Map<string, FloatTensor>;
  /** One Adam step from the accumulated gradients (then cleared). */
  step(lr: number): void;
  /** Writes the current weights, moments and step counts into `state`. */
  read(state: TrainState): void;
  /**
   * What validation decodes with: the engine's current weights on the engine's executor, the loss
   * included (`@samtune/evaluation`'s `ortEvalDecoder` / `tfjsEvalDecoder`). The caller releases it;
   * the engine does not step while it is in use.
   */
  evalDecoder(): EvalDecoder;
  /** Ends an epoch's training pass: frees memory kept between steps (the ort engine's arenas). */
  endEpoch(): void;
  dispose(): void;
}

/** Builds an engine (`registerTrainEngine`). */
export type TrainEngineFactory = (context: TrainEngineContext) => TrainEngine;
