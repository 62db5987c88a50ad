/**
 * SAM 2.1's decoder training forward and loss, written ONCE against `TrainOps<T>` so that the tfjs
 * path (`sam2-train-step.ts`: `tf.variableGrads`) evaluates it and the ort path
 * (`ort-engine/sam2-training-graph.ts`: recorded, differentiated by the ONNX autodiff) records it:
 * SAM 2 prompt encoder (frozen) -> SAM 2 mask decoder (train mode: no stability fallback; token 0,
 * or tokens 1..3 for a multimask prompt) -> `sam2LossOn` (focal, dice, IoU, object-score BCE).
 *
 * The high-resolution features enter already projected (`[feat_s0, feat_s1]`); to train
 * `conv_s0`/`conv_s1`, as the official step does, pass `sam2ProjectHighRes(ops, level0, level1)` of the
 * RAW neck levels. Coordinates are in the 1024 frame (`sam2ApplyCoords`).
 */
import type { TrainOps } from '@samtune/tensor';
import { sam2LossOn, type Sam2LossConfig } from '@samtune/losses';
import { densePe, sam2PredictMasks, sam2PromptEncoder, type Sam2DecoderConfig } from '@samtune/sam-model';

/** Inputs of one micro-batch of B prompts on one image. */
export interface Sam2TrainInputs<T> {
  /** `[1,256,64,64]` image embedding (neck level 2 + `no_mem_embed`). */
  readonly embedding: T;
  /** `[feat_s0 [1,32,256,256], feat_s1 [1,64,128,128]]`, projected (see the module comment). */
  readonly highResFeatures: readonly [T, T];
  /** `[B,4]` XYXY boxes (1024 frame). */
  readonly boxes?: T;
  /** `[B,N,2]` clicks and `[B,N]` labels (1024 frame). */
  readonly coords?: T;
  readonly labels?: T;
  /** `[B,1,256,256]` mask-input logits. */
  readonly maskInput?: T;
  /** `[B,1,256,256]` 0/1 targets. */
  readonly targets: T;
  /** Tokens 1..3 (best of 3 by the loss) instead of token 0. */
  readonly multimask: boolean;
}

/** The loss parts and the decoder outputs the loss saw. */
export interface Sam2TrainForward<T> {
  readonly loss: T;
  readonly focal: T;
  readonly dice: T;
  readonly iou: T;
  readonly class: T;
  /** `[B,N',256]` sparse prompt embeddings. */
  readonly sparse: T;
  /** `[B,M,256,256]` logits, `[B,M]` IoU, `[B,1]` object-score logits. */
  readonly masks: T;
  readonly iouPredictions: T;
  readonly objectScore: T;
}

/** The forward and loss (module comment). Weights under samtune's names (`sam2PredictorWeights`). */
export function sam2DecoderLoss<T>(
  ops: TrainOps<T>,
  cfg: Sam2DecoderConfig,
  x: Sam2TrainInputs<T>,
  lossConfig: Sam2LossConfig = {},
): Sam2TrainForward<T> {
  const { sparse, dense } = sam2PromptEncoder(ops, cfg.promptEncoder, {
    coords: x.coords,
    labels: x.labels,
    boxes: x.boxes,
    masks: x.maskInput,
  });
  const out = sam2PredictMasks(ops, cfg.maskDecoder, {
    imageEmbeddings: x.embedding,
    imagePe: densePe(ops),
    sparse,
    dense,
    highResFeatures: x.highResFeatures,
  });
  const [start, end] = x.multimask ? [1, cfg.maskDecoder.numMultimaskOutputs + 1] : [0, 1];
  const masks = ops.slice(out.masks, 1, start, end);
  const iouPredictions = ops.slice(out.iou, 1, start, end);
  const r = sam2LossOn(ops, masks, iouPredictions, out.objectScore, x.targets, lossConfig);
  return { ...r, sparse, masks, iouPredictions, objectScore: out.objectScore };
}
