/**
 * SAM 2's prompt encoder as `SAM2ImagePredictor` drives it (`sam2/modeling/sam/prompt_encoder.py`,
 * `_prep_prompts` / `_predict`), written against `Ops<T>` on SAM 1's layers (`embedPoints`,
 * `embedMasks`, `noMaskDense`): the same modules, two differences in how prompts become tokens:
 * - a box enters as two points labelled 2 and 3 placed BEFORE the clicks;
 * - the padding point (label -1, `not_a_point_embed`) is ALWAYS appended when there are points or a
 *   box (SAM 1 pads only without a box). Box -> 3 tokens, box + 2 clicks -> 5.
 *
 * Weights are read under SAM 1's key prefix `prompt_encoder.` (`sam2PredictorWeights` maps the
 * official `sam_prompt_encoder.*` keys). Coordinates are in the 1024 frame, unshifted.
 */
import type { PromptEncoderConfig } from '../config.js';
import type { Ops } from '@samtune/tensor';
import { PromptShapeError, promptEncoder, type PromptEmbeddings } from '../prompt-encoder.js';

/** SAM 2 prompts in the 1024 frame; batch sizes must agree (static). */
export interface Sam2PromptInputs<T> {
  /** `[B,N,2]` XY clicks (unshifted). Needs `labels`. */
  readonly coords?: T;
  /** `[B,N]` float labels: 1 fg, 0 bg. */
  readonly labels?: T;
  /** `[B,4]` XYXY boxes. */
  readonly boxes?: T;
  /** `[B,1,256,256]` low-res mask logits of an earlier prediction. */
  readonly masks?: T;
}

/**
 * Official SAM 2 prompt path: box corners (labels 2, 3) then clicks, padding point appended.
 * @returns `sparse [B,(2)+N+1,C]` (`[B,0,C]` without points and box), `dense [B|1,C,64,64]`
 */
export function sam2PromptEncoder<T>(
  ops: Ops<T>,
  cfg: PromptEncoderConfig,
  inputs: Sam2PromptInputs<T>,
): PromptEmbeddings<T> {
  const { coords, labels, boxes, masks } = inputs;
  if ((coords === undefined) !== (labels === undefined)) {
    throw new PromptShapeError('sam2PromptEncoder(inputs): coords and labels must be given together');
  }
  if (boxes === undefined) {
    return promptEncoder(ops, cfg, { ...(coords && labels ? { coords, labels } : {}), masks, padPoints: true });
  }
  const bs = ops.shape(boxes);
  const b = bs[0] as number;
  if (bs.length !== 2 || bs[1] !== 4 || b < 1) {
    throw new PromptShapeError(`sam2PromptEncoder(boxes): expected [B,4] XYXY with a static B, got [${bs.join(',')}]`);
  }
  const corners = ops.reshape(boxes, [b, 2, 2]);
  const cornerLabels = ops.constant(
    Float32Array.from({ length: 2 * b }, (_, i) => 2 + (i % 2)),
    [b, 2],
    'sam2_box_corner_labels',
  );
  if (coords === undefined || labels === undefined) {
    return promptEncoder(ops, cfg, { coords: corners, labels: cornerLabels, masks, padPoints: true });
  }
  const cb = ops.shape(coords)[0];
  if (cb !== b) {
    throw new PromptShapeError(
      `sam2PromptEncoder(coords, boxes): the batch sizes must agree, got coords [${ops.shape(coords).join(',')}] and boxes [${bs.join(',')}]`,
    );
  }
  return promptEncoder(ops, cfg, {
    coords: ops.concat([corners, coords], 1),
    labels: ops.concat([cornerLabels, labels], 1),
    masks,
    padPoints: true,
  });
}
