/**
 * The transformers.js `sam2` export (issue 25, acceptance 2): `exportSam2TransformersJs` on the seeded
 * reduced-Hiera SAM 2.1 fixture writes a folder that `@huggingface/transformers` loads with
 * `Sam2Model.from_pretrained` / `AutoProcessor.from_pretrained` from a local path with remote models
 * off; for a box, a point and a box + point its masks, `iou_scores` and `object_score_logits` match
 * samtune's own SAM 2.1 model (`Sam2Model.predict`, what `samtune predict` runs, `multimask: 'auto'`)
 * on images whose resize to 1024x1024 is exact (1024x1024: none; 512x512: a 2x upscale).
 *
 * The fixture weights are random: the binary masks are taken at a threshold that splits samtune's
 * logits in two (their median), the same threshold for both sides.
 */
import { readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoProcessor, env, RawImage, Sam2Model as TjsSam2Model, type Sam2Processor } from '@huggingface/transformers';
import {
  initBackend,
  loadSam2Checkpoint,
  Sam2Model,
  Sam2Predictor,
  sam2PredictorWeights,
  type FloatTensor,
  type PredictPrompts,
} from '@samtune/sam-model';
import { createSession } from '@samtune/onnx';
import { sharedPath } from '@samtune/test-fixtures';
import { readImage, type RgbImage } from '@samtune/transforms';
import { TRANSFORMERS_JS_FILES } from './transformers-js-config.js';
import { exportSam2TransformersJs } from './transformers-js-sam2.js';
import type { TransformersJsResult } from './transformers-js.js';
import { referencePath, tempDir } from './test-utils/fixtures.js';
import { crop, maskIou, median } from './test-utils/masks.js';

const CHECKPOINT = sharedPath(join('fixtures', 'sam2-reference', 'sam2.1_hiera_mini_seeded.pt'));
/** The reduced trunk's facts the shapes lack (the fixture README, `manifest.models.hiera_mini`). */
const FACTS = { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 };

/** A prompt in original pixels, and the same prompt in the processor's form. */
interface Case {
  readonly name: string;
  readonly prompts: PredictPrompts;
  readonly processor: { input_points?: number[][][]; input_labels?: number[][]; input_boxes?: number[][][] };
}

/** Prompts for an image of side `s`. */
function cases(s: number): Case[] {
  const box: [number, number, number, number] = [0.2 * s, 0.25 * s, 0.7 * s, 0.8 * s];
  const p: [number, number] = [0.45 * s, 0.5 * s];
  const q: [number, number] = [0.6 * s, 0.3 * s];
  return [
    { name: 'box', prompts: { box }, processor: { input_boxes: [[box]] } },
    { name: 'point', prompts: { points: [p], labels: [1] }, processor: { input_points: [[p]], input_labels: [[1]] } },
    {
      name: 'box+point',
      prompts: { box, points: [q], labels: [0] },
      processor: { input_boxes: [[box]], input_points: [[q]], input_labels: [[0]] },
    },
  ];
}

describe('exportSam2TransformersJs (seeded hiera_mini fixture)', () => {
  const root = tempDir('tjs-sam2');
  const dir = join(root, 'samtune-sam2');
  let model: Sam2Model;
  let predictor: Sam2Predictor;
  let result: TransformersJsResult;
  const measured: string[] = [];

  beforeAll(async () => {
    await initBackend('wasm');
    const ckpt = await loadSam2Checkpoint(CHECKPOINT, { facts: FACTS });
    result = await exportSam2TransformersJs(
      { config: ckpt.config, weights: ckpt.weights, source: { path: ckpt.path, sha256: ckpt.sha256 } },
      dir,
    );
    model = await Sam2Model.load(CHECKPOINT, { facts: FACTS });
    predictor = new Sam2Predictor({
      config: ckpt.config,
      weights: sam2PredictorWeights(ckpt.weights),
      trainable: false,
    });
  }, 300_000);
  afterAll(async () => {
    console.log(`transformers.js sam2 vs samtune: ${measured.join('; ')}`);
    console.log(`export verification: ${JSON.stringify(result?.verification)}`);
    await model?.release();
    predictor?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('writes the files transformers.js reads for sam2, verified', () => {
    const config = JSON.parse(readFileSync(join(dir, TRANSFORMERS_JS_FILES.config), 'utf8'));
    expect(config.model_type).toBe('sam2');
    expect(config.vision_config.num_feature_levels).toBe(3);
    expect(config['transformers.js_config']).toEqual({ dtype: 'fp32' });
    const pre = JSON.parse(readFileSync(join(dir, TRANSFORMERS_JS_FILES.preprocessor), 'utf8'));
    expect(pre).toMatchObject({
      processor_class: 'Sam2Processor',
      size: { height: 1024, width: 1024 },
      do_pad: false,
      do_rescale: true,
    });
    expect(pre.image_mean.map((v: number) => +v.toFixed(6))).toEqual([0.485, 0.456, 0.406]);
    const samtune = JSON.parse(readFileSync(join(dir, TRANSFORMERS_JS_FILES.samtune), 'utf8'));
    expect(samtune.checkpoint.sha256).toBe(model.source.sha256);
    expect(samtune.verification.decoder.cases).toEqual(['one_point', 'box', 'box_and_point', 'two_points']);
    for (const part of Object.values(result.verification))
      for (const r of Object.values(part.worst_ratio)) expect(r.ratio).toBeLessThanOrEqual(1);
    expect(Object.keys(result.verification.decoder.worst_ratio).sort()).toEqual([
      'iou_scores',
      'object_score_logits',
      'pred_masks',
    ]);
  });

  it('declares the session I/O of transformers.js Sam2Model', async () => {
    const enc = await createSession(join(dir, TRANSFORMERS_JS_FILES.visionEncoder));
    const dec = await createSession(join(dir, TRANSFORMERS_JS_FILES.decoder));
    try {
      expect(enc.inputs).toEqual([{ name: 'pixel_values', dtype: 'float32', shape: [1, 3, 1024, 1024] }]);
      expect(enc.outputs.map((o) => [o.name, o.shape])).toEqual([
        ['image_embeddings.0', [1, 32, 256, 256]],
        ['image_embeddings.1', [1, 64, 128, 128]],
        ['image_embeddings.2', [1, 256, 64, 64]],
      ]);
      expect(dec.inputs.map((i) => [i.name, i.dtype])).toEqual([
        ['image_embeddings.0', 'float32'],
        ['image_embeddings.1', 'float32'],
        ['image_embeddings.2', 'float32'],
        ['input_points', 'float32'],
        ['input_labels', 'int64'],
        ['input_boxes', 'float32'],
      ]);
      expect(dec.outputs.map((o) => [o.name, o.shape])).toEqual([
        ['iou_scores', [1, 1, 1]],
        ['pred_masks', [1, 1, 1, 256, 256]],
        ['object_score_logits', [1, 1, 1]],
      ]);
    } finally {
      await enc.release();
      await dec.release();
    }
  });

  /**
   * Images and their expectation. 1024x1024 needs no resize: transformers.js feeds the official model
   * input, and everything agrees (IoU 1.0). A 512x512 image is upscaled 2x by transformers.js with
   * sharp (uint8, its own bilinear sampling) where SAM 2.1 resizes the float image with torch's
   * half-pixel bilinear: `pixel_values` differ by up to 2.8 (normalised units), and on these random
   * weights (mask boundaries every few pixels) the IoU drops to 0.977-0.985 and the scores move by up
   * to 3e-3. That gap is transformers.js' preprocessing, not the export: only the mask IoU is asserted
   * there, as measured.
   */
  const images: { name: string; load: () => Promise<RgbImage>; minIou: number; exact: boolean }[] = [
    {
      name: 'truck.jpg crop 1024x1024 (no resize)',
      load: async () => crop(await readImage(referencePath('truck.jpg')), 1024, 1024),
      minIou: 0.99,
      exact: true,
    },
    {
      name: 'dog.jpg crop 512x512 (2x upscale by sharp)',
      load: async () => crop(await readImage(referencePath('dog.jpg')), 512, 512),
      minIou: 0.97,
      exact: false,
    },
  ];

  it('@huggingface/transformers loads the folder offline and reproduces samtune predict (box, point, box + point)', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = dirname(dir);
    const tjsModel = (await TjsSam2Model.from_pretrained(basename(dir))) as TjsSam2Model;
    const processor = (await AutoProcessor.from_pretrained(basename(dir))) as Sam2Processor;
    try {
      for (const im of images) {
        const img = await im.load();
        const emb = await model.embedImage(img);
        const raw = new RawImage(img.data, img.width, img.height, 3);
        const imageInputs = await processor(raw);
        const embeddings = await tjsModel.get_image_embeddings(imageInputs);
        for (const c of cases(img.width)) {
          const ref = await model.predict(emb, c.prompts, { multimask: 'auto' });
          const refMask = ref.masks as FloatTensor;
          const refIou = ref.iouPredictions.data[0] as number;
          const features = { imageEmbedding: emb.embedding, highResFeatures: emb.highResFeats! };
          const refObj = predictor.predict(features, c.prompts, emb.originalSize, { returnMasks: false })
            .objectScoreLogits.data[0] as number;
          const thr = median(refMask.data);
          const inputs = await processor(raw, c.processor);
          const out = await tjsModel({ ...inputs, ...embeddings });
          expect(out.pred_masks.dims).toEqual([1, 1, 1, 256, 256]);
          const [masks] = await processor.post_process_masks(
            out.pred_masks,
            inputs.original_sizes,
            inputs.reshaped_input_sizes,
            { mask_threshold: thr },
          );
          expect(masks.dims).toEqual([1, 1, img.height, img.width]);
          const iou = maskIou(refMask.data, thr, masks.data as Uint8Array);
          const score = out.iou_scores.data[0] as number;
          const diff = Math.abs(score - refIou);
          const tol = 1e-3 + 1e-2 * Math.abs(refIou);
          measured.push(
            `${im.name} ${c.name}: mask IoU ${iou.toFixed(4)}, |iou_scores - ref| ${diff.toExponential(1)}, object score ${(out.object_score_logits.data[0] as number).toFixed(4)} vs ${refObj.toFixed(4)}`,
          );
          expect(iou, `${im.name} ${c.name} mask IoU`).toBeGreaterThanOrEqual(im.minIou);
          if (!im.exact) continue;
          expect(diff, `${im.name} ${c.name} iou_scores ${score} vs ${refIou}`).toBeLessThanOrEqual(tol);
          const obj = out.object_score_logits.data[0] as number;
          expect(Math.abs(obj - refObj), `${im.name} ${c.name} object score ${obj} vs ${refObj}`).toBeLessThanOrEqual(
            1e-3 + 1e-2 * Math.abs(refObj),
          );
        }
      }
    } finally {
      await tjsModel.dispose();
    }
  }, 600_000);
});
