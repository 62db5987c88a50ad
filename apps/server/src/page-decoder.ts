/**
 * The decoder the labelling page runs with onnxruntime-web, in two forms:
 * - `single`: one ONNX model with the official SAM decoder signature (what `samtune export` writes;
 *   every click runs the whole decoder and resizes all four masks to the original size);
 * - `split`: three ONNX models recorded by `@samtune/sam-model` from the serving weights, the same
 *   split the server's own ORT engine runs: `image_side` (`recordImageSideGraph`, once per image
 *   embedding: the image keys and block 0's image-side projections), `prompt` (`recordPromptGraph`
 *   with `cropHead`, once per click: points -> low-res logits of all tokens, upscaled only where the
 *   image is (not its padding), and their IoU) and `postprocess`
 *   (`recordPostprocessGraph('logits')`, weight-free: the kept low-res masks -> logits at the
 *   original size; the page computes its values in JS, `public/postprocess.js`). Recorded for onnxruntime-web (`wasm: true`: LayerNorms as ReduceMean +
 *   elementwise ops, the dense PE computed in the image side; `tanhGelu`: the mask head's GELUs in
 *   the tanh form, within 4.7e-4 of erf's): the single form's masks (IoU >= 0.99, bench:label-loop).
 * Both travel as one body (the models concatenated, `parts` giving each name and byte length), so
 * the three parts of a split decoder always come from one version.
 */
import {
  recordImageSideGraph,
  recordPostprocessGraph,
  recordPromptGraph,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';

/** Which decoder form the page asks for. */
export type DecoderForm = 'single' | 'split';

/** Names of the split form's models, in body order. */
export const SPLIT_DECODER_PARTS = ['image_side', 'prompt', 'postprocess'] as const;

/** A decoder as sent to the page: the models concatenated, and each one's name and byte length in order. */
export interface DecoderFile {
  readonly bytes: Uint8Array;
  readonly parts: readonly (readonly [name: string, byteLength: number])[];
}

/** One model as a `DecoderFile` (the single form). */
export function singleDecoderFile(bytes: Uint8Array): DecoderFile {
  return { bytes, parts: [['decoder', bytes.byteLength]] };
}

/** Records the split form from a checkpoint's weights (only `prompt_encoder.*` and `mask_decoder.*` are read). */
export function splitDecoderFile(config: SamConfig, weights: WeightMap): DecoderFile {
  const models = [
    recordImageSideGraph(config, weights, { wasm: true }),
    recordPromptGraph(config, weights, { cropHead: true, wasm: true, tanhGelu: true }),
    recordPostprocessGraph(config, 'logits'),
  ].map((ops) => ops.builder.toModelBytes());
  const bytes = new Uint8Array(models.reduce((n, m) => n + m.byteLength, 0));
  let at = 0;
  for (const m of models) {
    bytes.set(m, at);
    at += m.byteLength;
  }
  return { bytes, parts: SPLIT_DECODER_PARTS.map((name, i) => [name, models[i]!.byteLength] as const) };
}
