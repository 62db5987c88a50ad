/**
 * The in-graph single-mask rule against sam-model's `useMultimask`/`selectMaskIndex` on many label
 * sets (dynamic N), the prompt recipe, and the verification failure path: a model that disagrees with
 * its reference is deleted and the error names the output and the ratio.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  floatTensor,
  initBackend,
  inferSamConfig,
  selectMaskIndex,
  useMultimask,
  type FloatTensor,
  type ImageEncoderSession,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';
import { readTorchCheckpoint } from '@samtune/tensor-files';
import { createSession, OnnxGraphOps } from '@samtune/onnx';
import { recordDecoderGraph } from './decoder-graph.js';
import { recordEncoderGraph } from './encoder-graph.js';
import { ExportVerificationError, OnnxPromptError } from './errors.js';
import { selectMaskInGraph } from './graph-steps.js';
import { decoderFeeds } from './prompts.js';
import { verifyDecoderFile } from './verify-decoder.js';
import { verifyEncoderFiles } from './verify-encoder.js';
import { referencePath, tempDir } from './test-utils/fixtures.js';

describe('selectMaskInGraph: the samtune rule inside the graph', () => {
  it('matches useMultimask + selectMaskIndex for every label set (padding, boxes, background points, ties)', async () => {
    const ops = new OnnxGraphOps(new Map());
    const labels = ops.input('labels', [1, 'n']);
    const masks = ops.input('masks', [1, 4, 1, 2]);
    const iou = ops.input('iou', [1, 4]);
    const picked = selectMaskInGraph(ops, labels, masks, iou, 3);
    ops.output('mask', picked.masks);
    ops.output('score', picked.iou);
    const session = await createSession(ops.builder.toModelBytes());
    const labelSets = [
      [1, -1],
      [0, -1],
      [1],
      [2, 3],
      [1, 0, -1],
      [1, 2, 3],
      [0, 2, 3],
      [-1],
      [1, 1, -1],
      [1, -1, -1, -1],
      [3, 2],
      [0, 1, 2, 3],
    ];
    const ious = [
      [0.99, 0.2, 0.8, 0.5],
      [0.1, 0.7, 0.7, 0.3],
      [0.5, 0.4, 0.3, 0.9],
    ];
    try {
      for (const l of labelSets) {
        for (const s of ious) {
          const maskData = Float32Array.from([0, 0.5, 10, 10.5, 20, 20.5, 30, 30.5]); // token t -> 10t, 10t+0.5
          const out = await session.run({
            labels: { dtype: 'float32', shape: [1, l.length], data: Float32Array.from(l) },
            masks: { dtype: 'float32', shape: [1, 4, 1, 2], data: maskData },
            iou: { dtype: 'float32', shape: [1, 4], data: Float32Array.from(s) },
          });
          const hasBox = l.includes(2) || l.includes(3);
          const numPoints = l.filter((v) => v === 0 || v === 1).length;
          const expected = useMultimask({ hasBox, numPoints }) ? 1 + selectMaskIndex(s.slice(1)) : 0;
          expect(Array.from((out.mask as FloatTensor).data), `labels [${l}] iou [${s}]`).toEqual([
            10 * expected,
            10 * expected + 0.5,
          ]);
          expect((out.score as FloatTensor).data[0]).toBeCloseTo(s[expected] as number, 6);
          expect(out.mask?.shape).toEqual([1, 1, 1, 2]);
        }
      }
    } finally {
      await session.release();
    }
  });
});

describe('decoderFeeds: the official ONNX prompt recipe', () => {
  const emb = floatTensor(new Float32Array(4), [1, 1, 2, 2]);
  it('appends a padding point without a box, box corners labelled 2,3 after the points, no padding with a box', () => {
    const a = decoderFeeds(emb, { points: [[10, 20]], labels: [1] }, [100, 200]);
    expect(Array.from(a.point_coords.data as Float32Array)).toEqual([10, 20, 0, 0]);
    expect(Array.from(a.point_labels.data as Float32Array)).toEqual([1, -1]);
    expect(Array.from(a.has_mask_input.data as Float32Array)).toEqual([0]);
    expect(Array.from(a.orig_im_size.data as Float32Array)).toEqual([100, 200]);
    const b = decoderFeeds(emb, { points: [[10, 20]], labels: [0], box: [1, 2, 3, 4] }, [100, 200]);
    expect(Array.from(b.point_coords.data as Float32Array)).toEqual([10, 20, 1, 2, 3, 4]);
    expect(Array.from(b.point_labels.data as Float32Array)).toEqual([0, 2, 3]);
    expect(b.point_labels.shape).toEqual([1, 3]);
  });
  it('refuses no prompt, mismatched labels and a mask input of the wrong size', () => {
    expect(() => decoderFeeds(emb, {}, [1, 1])).toThrow(OnnxPromptError);
    expect(() => decoderFeeds(emb, { points: [[1, 2]], labels: [1, 0] }, [1, 1])).toThrow(
      /equal lengths, got 1 points and 2 labels/,
    );
    expect(() =>
      decoderFeeds(emb, { box: [0, 0, 1, 1], maskInput: floatTensor(new Float32Array(4), [1, 2, 2]) }, [1, 1]),
    ).toThrow(/expected \[1,256,256\]/);
  });
});

describe('verification failures delete the file and name the output', () => {
  const dir = tempDir('verify');
  let weights: WeightMap;
  let config: SamConfig;
  beforeAll(async () => {
    await initBackend('wasm');
    weights = readTorchCheckpoint(referencePath('tinyvit.pth'));
    config = inferSamConfig(weights);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decoder: a reference with a shifted IoU head fails on iou_predictions', async () => {
    const path = join(dir, 'decoder.onnx');
    recordDecoderGraph(config, weights, { variant: 'multimask' }).builder.save(path);
    const key = 'mask_decoder.iou_prediction_head.layers.2.bias';
    const bias = weights.get(key) as FloatTensor;
    const shifted = new Map(weights).set(
      key,
      floatTensor(
        bias.data.map((v) => v + 0.5),
        bias.shape,
      ),
    );
    const err = await verifyDecoderFile(path, 'multimask', { config, weights: shifted }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportVerificationError);
    expect((err as ExportVerificationError).output).toBe('iou_predictions');
    expect((err as Error).message).toMatch(
      /output 'iou_predictions' on case 'one_point \(token 0\)'.*ratio \d+\.\d+, expected <= 1\); the file was deleted/,
    );
    expect((err as ExportVerificationError).agreement.ratio).toBeGreaterThan(1);
    expect(existsSync(path)).toBe(false);
  });

  it('encoder: a reference that disagrees fails on image_embeddings', async () => {
    const path = join(dir, 'encoder_rgb.onnx');
    recordEncoderGraph(config, weights, 'rgb').builder.save(path);
    const zeros = floatTensor(new Float32Array(256 * 64 * 64), [1, 256, 64, 64]);
    const fake = { embed: async () => zeros } as unknown as ImageEncoderSession;
    const err = await verifyEncoderFiles({ rgb: path }, { config, encoder: async () => fake }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportVerificationError);
    expect((err as Error).message).toMatch(/output 'image_embeddings' on case 'synthetic_683x1024'/);
    expect(existsSync(path)).toBe(false);
  });
});
