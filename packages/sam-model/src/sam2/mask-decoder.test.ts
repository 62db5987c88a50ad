/**
 * SAM 2.1 prompt encoder + mask decoder + predictor post-processing against the official
 * `SAM2ImagePredictor` outputs on the seeded checkpoint (`../shared/fixtures/sam2-reference/`),
 * starting from the fixture's image embedding and high-res features: every prompt case of dog.jpg
 * and the batch of three boxes, on onnxruntime (the ONNX recorder) and on tfjs (wasm), each tensor
 * within `1e-4 + 1e-3·max|ref|`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FloatTensor, HostTensor, WeightMap } from '@samtune/tensor';
import { floatTensor } from '@samtune/tensor';
import { AgreementTally } from '../compare.js';
import { initBackend } from '../ops/backend.js';
import { SAM2_DECODER_CONFIG } from './mask-decoder-config.js';
import { clampLogits, sam2ApplyCoords, selectSam2Masks } from './predictor-postprocess.js';
import {
  decodeOnOrt,
  decodeOnTfjs,
  readSam2Manifest,
  readSam2Tensors,
  sam2DecoderWeights,
  sam2Ref,
  type BatchCase,
  type PromptCase,
  type Sam2DecodeInputs,
  type Sam2DecodeOutputs,
} from '../test-utils/sam2-decoder-cases.js';

const FILE = 'hiera_mini_outputs.safetensors';
const STEM = 'dog';
const manifest = readSam2Manifest();
const CASES = manifest.cases[STEM] ?? [];
const EXECUTORS = ['ort', 'tfjs'] as const;
let weights: Map<string, HostTensor>;
let outputs: WeightMap;
const tally = new AgreementTally();

beforeAll(async () => {
  await initBackend('wasm');
  weights = sam2DecoderWeights();
  outputs = readSam2Tensors(FILE);
});

afterAll(() => {
  console.log(tally.summary('sam2.1 hiera_mini'));
});

function ref(key: string): FloatTensor {
  return sam2Ref(outputs, FILE, key);
}

function inputsOf(c: PromptCase | BatchCase, originalSize: [number, number]): Sam2DecodeInputs {
  const base = {
    embedding: ref(`${STEM}.image_embeddings`),
    highRes: [ref(`${STEM}.high_res_feats.0`), ref(`${STEM}.high_res_feats.1`)] as const,
  };
  if (c.case === 'batch') {
    return { ...base, boxes: floatTensor(sam2ApplyCoords(c.boxes.flat(), originalSize), [c.boxes.length, 4]) };
  }
  const n = c.point_coords?.length ?? 0;
  return {
    ...base,
    ...(c.point_coords
      ? {
          coords: floatTensor(sam2ApplyCoords(c.point_coords.flat(), originalSize), [1, n, 2]),
          labels: floatTensor(Float32Array.from(c.point_labels ?? []), [1, n]),
        }
      : {}),
    ...(c.box ? { boxes: floatTensor(sam2ApplyCoords(c.box, originalSize), [1, 4]) } : {}),
    ...(c.mask_input_from_case !== null
      ? { mask: floatTensor(ref(`${STEM}.case${c.case}.mask_input`).data, [1, 1, 256, 256]) }
      : {}),
    ...(outputs.has(`${STEM}.case${c.case}.masks`) ? { originalSize } : {}),
  };
}

/** One output plane `[B,4,H,W]` -> the selected tokens `[B,M,H,W]` (selection from the low-res logits). */
function pick(full: FloatTensor, tokens: number[][]): FloatTensor {
  const [b, t, h, w] = full.shape as [number, number, number, number];
  const plane = h * w;
  const m = tokens[0]?.length ?? 0;
  const out = new Float32Array(b * m * plane);
  tokens.forEach((row, i) =>
    row.forEach((tok, j) =>
      out.set(full.data.subarray((i * t + tok) * plane, (i * t + tok + 1) * plane), (i * m + j) * plane),
    ),
  );
  return floatTensor(out, [b, m, h, w]);
}

function expectClose(family: string, key: string, ours: FloatTensor, r: FloatTensor): void {
  const a = tally.check(family, key, { shape: r.shape, data: ours.data }, r);
  expect(ours.data.length, `${key} element count`).toBe(r.data.length);
  expect(a.ok, `${key} ${JSON.stringify(a)}`).toBe(true);
}

function checkCase(c: PromptCase | BatchCase, out: Sam2DecodeOutputs, exec: string): void {
  const key = `${STEM}.${c.case === 'batch' ? 'batch' : `case${c.case}`}`;
  const sel = selectSam2Masks(SAM2_DECODER_CONFIG, out.masks, out.iou, c.multimask_output);
  const decode = manifest.models.hiera_mini?.decode[STEM]?.find((d) => d.case === c.case);
  const expected = decode?.output_token;
  expect(sel.tokens, `${key} tokens`).toEqual(
    c.case === 'batch' || !c.multimask_output ? (expected as number[]).map((t) => [t]) : expected,
  );
  const tag = `${key} (${exec})`;
  expectClose('sparse_embeddings', tag, out.sparse, ref(`${key}.sparse_embeddings`));
  expectClose('low_res_masks', tag, clampLogits(sel.masks), ref(`${key}.low_res_masks`));
  expectClose('iou_predictions', tag, sel.iou, ref(`${key}.iou_predictions`));
  expectClose('all_iou_predictions', tag, out.iou, ref(`${key}.all_iou_predictions`));
  expectClose('object_score_logits', tag, out.objectScore, ref(`${key}.object_score_logits`));
  if (out.full) expectClose('masks', tag, pick(out.full, sel.tokens), ref(`${key}.masks`));
}

describe.each(EXECUTORS)('SAM 2.1 decoder on %s vs the official outputs (dog, hiera_mini)', (exec) => {
  it.each(CASES.map((c) => [String(c.case), c] as const))('case %s', async (_, c) => {
    const image = manifest.images[STEM];
    if (!image) throw new Error(`manifest.json: no image '${STEM}'`);
    const x = inputsOf(c, image.original_size);
    const out = exec === 'ort' ? await decodeOnOrt(weights, x) : decodeOnTfjs(weights, x);
    checkCase(c, out, exec);
  });
});

describe('selectSam2Masks', () => {
  const plane = 4;
  const masks = floatTensor(
    // token 0 unstable (one pixel in (-0.05, 0.05]), tokens 1..3 constant
    Float32Array.from([1, 1, 1, 0.01, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]),
    [1, 4, 2, 2],
  );
  const iou = floatTensor(Float32Array.from([0.9, 0.2, 0.7, 0.5]), [1, 4]);
  it('keeps token 0 for a stable single mask and tokens 1..3 in order for multimask', () => {
    const stable = floatTensor(
      masks.data.map((v, i) => (i < plane ? 1 : v)),
      masks.shape,
    );
    expect(selectSam2Masks(SAM2_DECODER_CONFIG, stable, iou, false).tokens).toEqual([[0]]);
    const multi = selectSam2Masks(SAM2_DECODER_CONFIG, masks, iou, true);
    expect(multi.tokens).toEqual([[1, 2, 3]]);
    expect([...multi.iou.data]).toEqual([...iou.data.subarray(1)].map(Math.fround));
  });
  it('falls back to the best-IoU token of 1..3 (mask and IoU together) below the stability threshold', () => {
    const sel = selectSam2Masks(SAM2_DECODER_CONFIG, masks, iou, false);
    expect(sel.stability).toEqual([0.75]);
    expect(sel.tokens).toEqual([[2]]);
    expect([...sel.masks.data]).toEqual([3, 3, 3, 3]);
    expect(sel.iou.data[0]).toBeCloseTo(0.7, 6);
    expect(selectSam2Masks(SAM2_DECODER_CONFIG, masks, iou, false, false).tokens).toEqual([[0]]);
  });
});
