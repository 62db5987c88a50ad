/**
 * The layer functions (promptEncoder -> maskDecoder -> postprocessMasks on TfjsOps, no predictor
 * class) against the official outputs of the reduced ViT SAM (vit_mini.pth): every manifest case of
 * dog.jpg and its batch of boxes, fed the fixture's image embeddings, one test per case. truck.jpg's
 * cases (another original size) run through the same functions in predictor.test.ts (tinyvit), and
 * on vit_mini through the ORT decoder (ort-decoder.test.ts); each tfjs-wasm decode costs seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { samConfig, vitConfig, type SamConfig } from './config.js';
import { MaskDecoderShapeError, maskDecoder } from './mask-decoder.js';
import { initBackend } from './ops/backend.js';
import { TfjsOps } from './ops/tfjs-ops.js';
import { applyBoxes, applyCoords, postprocessMasks, preprocessShape } from './postprocess.js';
import { densePe, preparePromptEncoderWeights, promptEncoder } from './prompt-encoder.js';
import type { FloatTensor, WeightMap } from '@samtune/tensor';
import { toFloat32 } from '@samtune/tensor';
import {
  RatioTally,
  batchCase,
  promptCases,
  readManifest,
  readOutputs,
  refTensor,
  type Manifest,
} from './test-utils/decoder-cases.js';
import { referencePath } from './test-utils/fixtures.js';

const MODEL = 'vit_mini';
const config: SamConfig = samConfig('custom', vitConfig(192, 4, 3, [1, 3]));
let ops: TfjsOps;
let tensors: Map<string, tf.Tensor>;
let outputs: WeightMap;
let manifest: Manifest;
const tally = new RatioTally();

beforeAll(async () => {
  await initBackend('wasm');
  manifest = readManifest();
  outputs = readOutputs(MODEL);
  const weights = readTorchCheckpoint(referencePath(`${MODEL}.pth`));
  tensors = new Map();
  for (const [k, t] of [...weights, ...preparePromptEncoderWeights(config.promptEncoder, weights)]) {
    if (k.startsWith('prompt_encoder.') || k.startsWith('mask_decoder.'))
      tensors.set(k, tf.tensor(toFloat32(t).data, [...t.shape]));
  }
  ops = new TfjsOps(tensors);
});

afterAll(() => {
  console.log(tally.summary(MODEL));
  for (const t of tensors?.values() ?? []) t.dispose();
});

interface Prompts1024 {
  coords?: Float32Array;
  labels?: number[];
  boxes?: Float32Array;
  mask?: FloatTensor;
}

/** One decoder run on host inputs; returns host arrays (all tensors freed). */
function run(
  embedding: FloatTensor,
  p: Prompts1024,
  multimask: boolean,
  post?: { input: [number, number]; original: [number, number] },
) {
  return tf.tidy(() => {
    const b = p.boxes ? p.boxes.length / 4 : 1;
    const n = p.labels?.length ?? 0;
    const { sparse, dense } = promptEncoder(ops, config.promptEncoder, {
      ...(p.coords ? { coords: tf.tensor(p.coords, [1, n, 2]), labels: tf.tensor(p.labels ?? [], [1, n]) } : {}),
      ...(p.boxes ? { boxes: tf.tensor(p.boxes, [b, 4]) } : {}),
      ...(p.mask ? { masks: tf.tensor(p.mask.data, [1, 1, 256, 256]) } : {}),
      padPoints: p.boxes === undefined,
    });
    const imageEmbeddings = tf.tensor(embedding.data, [...embedding.shape]);
    const out = maskDecoder(ops, config.maskDecoder, {
      imageEmbeddings,
      imagePe: densePe(ops),
      sparse,
      dense,
      multimaskOutput: multimask,
    });
    const full = post ? postprocessMasks(ops, out.masks, post.input, post.original) : undefined;
    return {
      sparseShape: sparse.shape,
      masks: { shape: out.masks.shape, data: out.masks.dataSync() },
      iou: { shape: out.iou.shape, data: out.iou.dataSync() },
      full: full ? { shape: full.shape, data: full.dataSync() } : undefined,
    };
  });
}

const STEM = 'dog';
const DOG_CASES = promptCases(readManifest(), STEM); // read while collecting: one test per case

describe(`promptEncoder + maskDecoder + postprocessMasks on ${STEM} (vit_mini)`, () => {
  it.each(DOG_CASES.map((c) => [c.case, c] as const))('matches the official outputs of case %s', (_, c) => {
    const image = manifest.images[STEM];
    if (!image) throw new Error(`manifest.json: no image '${STEM}'`);
    expect(preprocessShape(image.original_size)).toEqual(image.input_size);
    const embedding = refTensor(outputs, MODEL, `${STEM}.image_embeddings`);
    const key = `${STEM}.case${c.case}`;
    const withMasks = outputs.has(`${key}.masks`);
    const r = run(
      embedding,
      {
        ...(c.point_coords
          ? { coords: applyCoords(c.point_coords.flat(), image.original_size), labels: c.point_labels ?? [] }
          : {}),
        ...(c.box ? { boxes: applyBoxes(c.box, image.original_size) } : {}),
        ...(c.mask_input_from_case !== null ? { mask: refTensor(outputs, MODEL, `${key}.mask_input`) } : {}),
      },
      c.multimask_output,
      withMasks ? { input: image.input_size, original: image.original_size } : undefined,
    );
    // Official token layout: points (+1 padding point without a box), then 2 box corners.
    const nPoints = c.point_coords?.length ?? 0;
    expect(r.sparseShape).toEqual([1, nPoints + (c.box ? 2 : nPoints > 0 ? 1 : 0), 256]);
    const m = c.multimask_output ? 3 : 1;
    const low = tally.check(
      'low_res_masks',
      key,
      { shape: r.masks.shape.slice(1), data: r.masks.data },
      refTensor(outputs, MODEL, `${key}.low_res_masks`),
    );
    expect(low.ok, `${key}.low_res_masks ${JSON.stringify(low)}`).toBe(true);
    expect(r.iou.shape).toEqual([1, m]);
    const iou = tally.check(
      'iou_predictions',
      key,
      { shape: [m], data: r.iou.data },
      refTensor(outputs, MODEL, `${key}.iou_predictions`),
    );
    expect(iou.ok, `${key}.iou_predictions ${JSON.stringify(iou)}`).toBe(true);
    if (withMasks) {
      if (!r.full) throw new Error(`${key}: no postprocessed masks`);
      expect(r.full.shape).toEqual([1, m, ...image.original_size]);
      const full = tally.check(
        'masks',
        key,
        { shape: r.full.shape.slice(1), data: r.full.data },
        refTensor(outputs, MODEL, `${key}.masks`),
      );
      expect(full.ok, `${key}.masks ${JSON.stringify(full)}`).toBe(true);
    }
  });

  it('matches the official outputs of the batch of boxes', () => {
    const image = manifest.images[STEM];
    if (!image) throw new Error(`manifest.json: no image '${STEM}'`);
    const embedding = refTensor(outputs, MODEL, `${STEM}.image_embeddings`);
    const bc = batchCase(manifest, STEM);
    const r = run(embedding, { boxes: applyBoxes(bc.boxes.flat(), image.original_size) }, bc.multimask_output);
    expect(r.sparseShape).toEqual([3, 2, 256]);
    const key = `${STEM}.batch`;
    const low = tally.check('low_res_masks', key, r.masks, refTensor(outputs, MODEL, `${key}.low_res_masks`));
    expect(low.ok, `${key}.low_res_masks ${JSON.stringify(low)}`).toBe(true);
    const iou = tally.check('iou_predictions', key, r.iou, refTensor(outputs, MODEL, `${key}.iou_predictions`));
    expect(iou.ok, `${key}.iou_predictions ${JSON.stringify(iou)}`).toBe(true);
  });
});

describe('maskDecoder input checks', () => {
  it('rejects mismatched dense / image embedding shapes with the expected and actual shapes', () => {
    tf.tidy(() => {
      const sparse = tf.zeros([2, 3, 256]);
      const emb = tf.zeros([1, 256, 64, 64]);
      const inputs = { imageEmbeddings: emb, imagePe: densePe(ops), sparse, multimaskOutput: false };
      // dense [1,…] is shared by every prompt (accepted); another batch size is not
      expect(() => maskDecoder(ops, config.maskDecoder, { ...inputs, dense: tf.zeros([3, 256, 64, 64]) })).toThrow(
        MaskDecoderShapeError,
      );
      expect(() =>
        maskDecoder(ops, config.maskDecoder, {
          ...inputs,
          dense: tf.zeros([2, 256, 64, 64]),
          imageEmbeddings: tf.zeros([3, 256, 64, 64]),
        }),
      ).toThrow(/expected \[1,256,H,W\] or \[2,256,H,W\], got \[3,256,64,64\]/);
    });
  });
});
