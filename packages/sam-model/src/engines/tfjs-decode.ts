/**
 * The `tfjs` engine of `SamModel.predict`: `SamPredictor` (the reference executor) behind the same
 * options and outputs as the ORT engine (`multimask: 'auto'`, `maskOutput`). The binary and RLE
 * outputs are computed on the host here (the slow path; the ORT engine does them in its graph).
 */
import { selectMaskIndex, useMultimask } from '../mask-selection.js';
import type { Box, PredictPrompts, SamPredictor } from '../predictor.js';
import { floatTensor, type FloatTensor, type HostTensor } from '@samtune/onnx';
import {
  maskOutputOf,
  type BatchDecodeResult,
  type DecodeOptions,
  type DecodeResult,
} from './ort-decoder/ort-decoder.js';
import type { MaskRle } from './ort-decoder/rle.js';

/** `logits > threshold` per pixel and the COCO RLE (column-major) of each `(H,W)` plane. */
export function binaryOutputs(
  logits: FloatTensor,
  size: readonly [number, number],
  threshold: number,
  kind: 'binary' | 'rle',
): { binaryMasks?: HostTensor<'uint8'>; rle?: MaskRle[] } {
  const bin = new Uint8Array(logits.data.length);
  for (let i = 0; i < bin.length; i++) bin[i] = (logits.data[i] as number) > threshold ? 1 : 0;
  if (kind === 'binary') return { binaryMasks: { dtype: 'uint8', shape: [...logits.shape], data: bin } };
  const [H, W] = size;
  const plane = H * W;
  const rle: MaskRle[] = [];
  for (let o = 0; o < bin.length; o += plane) {
    const counts: number[] = [];
    let cur = 0;
    let run = 0;
    let area = 0;
    for (let x = 0; x < W; x++) {
      for (let y = 0; y < H; y++) {
        const v = bin[o + y * W + x] as number;
        if (v !== cur) {
          counts.push(run);
          run = 0;
          cur = v;
        }
        run++;
        area += v;
      }
    }
    counts.push(run);
    rle.push({ size: [H, W], counts, area });
  }
  return { rle };
}

function withMaskOutputs<R extends { masks?: FloatTensor }>(
  predictor: SamPredictor,
  r: R,
  size: readonly [number, number],
  opts: DecodeOptions,
): R & { binaryMasks?: HostTensor<'uint8'>; rle?: MaskRle[] } {
  const kind = maskOutputOf(opts);
  if (kind !== 'binary' && kind !== 'rle') return r;
  const { masks, ...rest } = r;
  return { ...(rest as R), ...binaryOutputs(masks as FloatTensor, size, predictor.config.maskThreshold, kind) };
}

/** `SamModel.predict` on tfjs (see `DecodeOptions`). */
export function predictTfjs(
  predictor: SamPredictor,
  embedding: FloatTensor,
  prompts: PredictPrompts,
  originalSize: readonly [number, number],
  opts: DecodeOptions,
): DecodeResult {
  const kind = maskOutputOf(opts);
  const auto = opts.multimask === 'auto';
  const multimask = auto
    ? useMultimask({ hasBox: prompts.box !== undefined, numPoints: prompts.points?.length ?? 0 })
    : (opts.multimask ?? true);
  let r = predictor.predict(embedding, prompts, originalSize, { multimask, returnMasks: kind !== 'none' });
  if (auto && multimask) {
    const k = selectMaskIndex(r.iouPredictions.data);
    const pick = (t: FloatTensor): FloatTensor => {
      const n = t.data.length / (t.shape[0] as number);
      return floatTensor(t.data.slice(k * n, (k + 1) * n), [1, ...t.shape.slice(1)]);
    };
    r = {
      lowResMasks: pick(r.lowResMasks),
      iouPredictions: pick(r.iouPredictions),
      ...(r.masks ? { masks: pick(r.masks) } : {}),
    };
  }
  return withMaskOutputs(predictor, r, originalSize, opts);
}

/** `SamModel.predictBatchBoxes` on tfjs (`'auto'` = token 0). */
export function predictBatchBoxesTfjs(
  predictor: SamPredictor,
  embedding: FloatTensor,
  boxes: readonly Box[],
  originalSize: readonly [number, number],
  opts: DecodeOptions,
): BatchDecodeResult {
  const kind = maskOutputOf(opts);
  const r = predictor.predictBatchBoxes(embedding, boxes, originalSize, {
    multimask: opts.multimask === 'auto' ? false : (opts.multimask ?? true),
    returnMasks: kind !== 'none',
  });
  return withMaskOutputs(predictor, r, originalSize, opts);
}
