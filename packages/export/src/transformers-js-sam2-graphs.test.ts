/**
 * The transformers.js `sam2` decoder graph, serialized and run by onnxruntime with transformers.js'
 * feeds (zero-size `input_boxes` / `input_points` for a missing kind), against the official
 * `SAM2ImagePredictor` outputs of `../shared/fixtures/sam2-reference/` on dog.jpg; and the in-graph
 * single-mask rule (incl. the stability fallback, which no fixture case triggers) on synthetic masks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '@samtune/test-fixtures';
import {
  clampLogits,
  compareTensors,
  initBackend,
  loadSam2Checkpoint,
  sam2ApplyCoords,
  sam2PredictorWeights,
  SAM2_DECODER_CONFIG,
  type FloatTensor,
  type WeightMap,
} from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { createSession, OnnxGraphOps, type Session } from '@samtune/onnx';
import { floatTensor } from '@samtune/tensor';
import {
  recordSam2PromptMaskDecoderGraph,
  selectSam2MaskInGraph,
  TJS_SAM2_NAMES,
} from './transformers-js-sam2-graphs.js';
import { sam2TransformersJsDecoderFeeds, verifySam2TransformersJsDecoder } from './transformers-js-sam2-verify.js';
import type { Sam2ExportSource } from './sam2-export.js';
import { tempDir, type PromptCase } from './test-utils/fixtures.js';

const ref = (name: string): string => sharedPath(join('fixtures', 'sam2-reference', name));

let single: Session;
let source: Sam2ExportSource;
let multi: Session;
let outputs: WeightMap;
let cases: PromptCase[];
let size: [number, number];

beforeAll(async () => {
  await initBackend('wasm');
  const manifest = JSON.parse(readFileSync(ref('manifest.json'), 'utf8'));
  cases = (manifest.cases.dog as (PromptCase | { case: 'batch' })[]).filter((c): c is PromptCase => c.case !== 'batch');
  size = manifest.images.dog.original_size;
  outputs = readSafetensors(ref('hiera_mini_outputs.safetensors')).tensors;
  const ckpt = await loadSam2Checkpoint(ref('sam2.1_hiera_mini_seeded.pt'), {
    facts: { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 },
  });
  source = { config: ckpt.config, weights: ckpt.weights, source: { path: ckpt.path, sha256: ckpt.sha256 } };
  const weights = sam2PredictorWeights(ckpt.weights);
  const open = (variant: 'single_mask' | 'multimask'): Promise<Session> =>
    createSession(recordSam2PromptMaskDecoderGraph(weights, SAM2_DECODER_CONFIG, { variant }).builder.toModelBytes(), {
      intraOpNumThreads: 2,
    });
  [single, multi] = [await open('single_mask'), await open('multimask')];
});

afterAll(async () => {
  await single?.release();
  await multi?.release();
});

function out(key: string): FloatTensor {
  const t = outputs.get(key);
  if (!t || t.dtype !== 'float32') throw new Error(`hiera_mini_outputs.safetensors: no float32 tensor '${key}'`);
  return t as FloatTensor;
}

function within(ours: FloatTensor | undefined, want: FloatTensor, what: string): void {
  if (!ours) throw new Error(`${what}: no output`);
  expect(ours.data.length, what).toBe(want.data.length);
  const a = compareTensors({ shape: want.shape, data: ours.data }, want);
  expect(a.ok, `${what} ${JSON.stringify(a)}`).toBe(true);
}

/** The official dog features. */
const dogFeatures = () => ({
  imageEmbedding: out('dog.image_embeddings'),
  highResFeatures: [out('dog.high_res_feats.0'), out('dog.high_res_feats.1')] as const,
});

/** Runs `session` on dog case `i` fed as transformers.js feeds it. */
async function runCase(session: Session, i: number): Promise<Record<string, FloatTensor>> {
  const c = cases.find((x) => x.case === i);
  if (!c) throw new Error(`manifest.json: no dog case ${i}`);
  const features = dogFeatures();
  const feeds = sam2TransformersJsDecoderFeeds(
    features,
    sam2ApplyCoords((c.point_coords ?? []).flat(), size),
    c.point_labels ?? [],
    c.box ? sam2ApplyCoords(c.box, size) : undefined,
  );
  return (await session.run(feeds)) as Record<string, FloatTensor>;
}

describe('transformers.js sam2 decoder on onnxruntime vs SAM2ImagePredictor (dog)', () => {
  it.each([1, 2])('single_mask, case %i (box / box + points: token 0): masks, IoU, object score', async (i) => {
    const r = await runCase(single, i);
    expect(r[TJS_SAM2_NAMES.predMasks]?.shape).toEqual([1, 1, 1, 256, 256]);
    within(clampLogits(r[TJS_SAM2_NAMES.predMasks] as FloatTensor), out(`dog.case${i}.low_res_masks`), 'masks');
    within(r[TJS_SAM2_NAMES.iouScores], out(`dog.case${i}.iou_predictions`), 'iou');
    within(r[TJS_SAM2_NAMES.objectScoreLogits], out(`dog.case${i}.object_score_logits`), 'object score');
  });

  it.each([0, 3])('multimask, case %i: tokens 1..3 and their IoU', async (i) => {
    const r = await runCase(multi, i);
    expect(r[TJS_SAM2_NAMES.predMasks]?.shape).toEqual([1, 1, 3, 256, 256]);
    within(clampLogits(r[TJS_SAM2_NAMES.predMasks] as FloatTensor), out(`dog.case${i}.low_res_masks`), 'masks');
    within(r[TJS_SAM2_NAMES.iouScores], out(`dog.case${i}.iou_predictions`), 'iou');
  });

  it('single_mask, case 0 (one point): the multimask token with the best IoU', async () => {
    const r = await runCase(single, 0);
    const iou = out('dog.case0.iou_predictions').data;
    const k = iou.indexOf(Math.max(...iou));
    const masks = out('dog.case0.low_res_masks');
    const plane = 256 * 256;
    within(
      clampLogits(r[TJS_SAM2_NAMES.predMasks] as FloatTensor),
      floatTensor(masks.data.slice(k * plane, (k + 1) * plane), [1, 256, 256]),
      'mask',
    );
    expect(r[TJS_SAM2_NAMES.iouScores]?.data[0]).toBeCloseTo(iou[k] as number, 4);
  });
});

describe('verifySam2TransformersJsDecoder (the check the export runs after writing; single_mask: transformers-js-sam2.test.ts)', () => {
  it('multimask passes on the official dog features', async () => {
    const variant = 'multimask';
    const path = join(tempDir('tjs-sam2-verify'), `${variant}.onnx`);
    recordSam2PromptMaskDecoderGraph(sam2PredictorWeights(source.weights), source.config, { variant }).builder.save(
      path,
    );
    const summary = await verifySam2TransformersJsDecoder(path, source, variant, dogFeatures(), size);
    expect(summary.cases).toEqual(['one_point', 'box', 'box_and_point', 'two_points']);
    expect(Object.keys(summary.worst_ratio).sort()).toEqual(['iou_scores', 'object_score_logits', 'pred_masks']);
    for (const r of Object.values(summary.worst_ratio)) expect(r.ratio).toBeLessThanOrEqual(1);
  });
});

describe('selectSam2MaskInGraph', () => {
  const IOU = [0, 0.1, 0.3, 0.2]; // token 2 has the best IoU of tokens 1..3
  /** Runs the rule on labels and 4 tokens of 2x4 logits (token 0's given); returns the chosen token (by its IoU). */
  async function chosen(labels: number[], token0: number[]): Promise<number> {
    const ops = new OnnxGraphOps(new Map());
    const l = ops.input('labels', [1, labels.length]);
    const m = ops.input('masks', [1, 4, 2, 4]);
    const iou = ops.input('iou', [1, 4]);
    const picked = selectSam2MaskInGraph(ops, SAM2_DECODER_CONFIG.maskDecoder, l, m, iou);
    ops.output('iou_out', picked.iou);
    const s = await createSession(ops.builder.toModelBytes());
    try {
      const masks = new Float32Array(32).fill(-1);
      masks.set(token0, 0);
      const r = await s.run({
        labels: floatTensor(Float32Array.from(labels), [1, labels.length]),
        masks: floatTensor(masks, [1, 4, 2, 4]),
        iou: floatTensor(Float32Array.from(IOU), [1, 4]),
      });
      return IOU.findIndex((v) => Math.abs(v - (r.iou_out?.data[0] as number)) < 1e-6);
    } finally {
      await s.release();
    }
  }
  const stable = [1, 1, 1, 1, -1, -1, -1, -1]; // 4 above +0.05, 4 above -0.05: score 1
  const unstable = [1, 1, 1, 0, 0, 0, -1, -1]; // 3 / 6 = 0.5 < 0.98
  const empty = [-1, -1, -1, -1, -1, -1, -1, -1]; // no pixel above -0.05: score 1

  it('box or several points: token 0 when stable, else the best IoU of 1..3; one point: the best', async () => {
    expect(await chosen([2, 3], stable)).toBe(0);
    expect(await chosen([2, 3], unstable)).toBe(2);
    expect(await chosen([2, 3, 1], empty)).toBe(0);
    expect(await chosen([1, 0], stable)).toBe(0);
    expect(await chosen([1, 0], unstable)).toBe(2);
    expect(await chosen([1], stable)).toBe(2);
    expect(await chosen([0], stable)).toBe(2);
  });
});
