/**
 * SAM 2's mask decoder (`sam2/modeling/sam/mask_decoder.py`, image mode of SAM 2.1), written once
 * against `Ops<T>` on SAM 1's decoder (`predictMasks`, the two-way transformer and its layers),
 * with SAM 2's differences as a `DecoderVariant`:
 * - output tokens `[obj_score_token, iou_token, mask_tokens×4]`, then the sparse prompt tokens;
 * - the upscaling fuses the high-resolution features (`upscaleMasks` with `highRes`);
 * - the IoU head ends in a sigmoid;
 * - an object-score head (3-layer ReLU MLP `pred_obj_score_head`) on the obj-score token.
 *
 * Weights under SAM 1's prefix `mask_decoder.` (`sam2PredictorWeights` maps the official
 * `sam_mask_decoder.*`). Differentiable end to end; no tensor reads, no branching on values.
 */
import type { MaskDecoderConfig } from '../config.js';
import { ParamScope, conv2d, mlp } from '../layers.js';
import type { Ops } from '@samtune/tensor';
import {
  MASK_DECODER_PREFIX,
  MaskDecoderShapeError,
  predictMasks,
  upscaleMasks,
  type MaskDecoderInputs,
} from '../mask-decoder.js';

/** Inputs of `sam2PredictMasks`: SAM 1's, plus the two high-resolution feature levels. */
export interface Sam2MaskDecoderInputs<T> extends MaskDecoderInputs<T> {
  /**
   * `[feat_s0 [1|B,C/8,4h,4w], feat_s1 [1|B,C/4,2h,2w]]`: neck levels 0/1 already projected by
   * `conv_s0`/`conv_s1` (`sam2ProjectHighRes`; the predictor's cached `high_res_feats`).
   */
  readonly highResFeatures: readonly [T, T];
}

/** All four masks, their IoU and the object score. */
export interface Sam2MaskDecoderOutputs<T> {
  /** `[B,4,4h,4w]` low-res logits of mask tokens 0..3. */
  readonly masks: T;
  /** `[B,4]` predicted IoU (after the sigmoid). */
  readonly iou: T;
  /** `[B,1]` object-score logits. */
  readonly objectScore: T;
}

/**
 * `conv_s0` / `conv_s1` (1x1 convs of the decoder) on the RAW neck levels 0/1 (`[1|B,C,4h,4w]`,
 * `[1|B,C,2h,2w]`, C = 256): SAM 2 applies them in `forward_image`; training keeps them in the graph
 * so that they get gradients.
 */
export function sam2ProjectHighRes<T>(ops: Ops<T>, level0: T, level1: T): [T, T] {
  const p = new ParamScope(ops, MASK_DECODER_PREFIX);
  return [conv2d(p.child('conv_s0'), level0), conv2d(p.child('conv_s1'), level1)];
}

/**
 * Official SAM 2 `MaskDecoder.predict_masks` (`repeat_image` when the embedding is `[1,…]`).
 * @returns every mask token's logits and IoU, and the object score
 */
export function sam2PredictMasks<T>(
  ops: Ops<T>,
  cfg: MaskDecoderConfig,
  inputs: Sam2MaskDecoderInputs<T>,
): Sam2MaskDecoderOutputs<T> {
  const [s0, s1] = inputs.highResFeatures;
  const es = ops.shape(inputs.imageEmbeddings);
  const [h, w] = [es[2] as number, es[3] as number];
  const c = cfg.transformerDim;
  const check = (t: T, ch: number, f: number, name: string): void => {
    const s = ops.shape(t);
    if (s.length !== 4 || s[1] !== ch || s[2] !== f * h || s[3] !== f * w) {
      throw new MaskDecoderShapeError(
        `sam2PredictMasks(${name}): expected [1|B,${ch},${f * h},${f * w}], got [${s.join(',')}]`,
      );
    }
  };
  check(s0, c / 8, 4, 'highResFeatures[0]');
  check(s1, c / 4, 2, 'highResFeatures[1]');
  const out = predictMasks(ops, cfg, inputs, {
    leadingTokens: ['obj_score_token'],
    iouSigmoid: true,
    upscale: (up, keys, hyperIn, size) => upscaleMasks(up, keys, hyperIn, size, [s0, s1]),
  });
  const b = ops.shape(out.iou)[0] as number;
  const p = new ParamScope(ops, MASK_DECODER_PREFIX);
  const objectScore = ops.reshape(mlp(p.child('pred_obj_score_head'), ops.slice(out.tokens, 1, 0, 1), 3), [b, 1]);
  return { masks: out.masks, iou: out.iou, objectScore };
}
