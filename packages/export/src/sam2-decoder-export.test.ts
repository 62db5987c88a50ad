/**
 * The exported SAM 2.1 decoder (samexporter's `SAM2ImageDecoder` I/O), serialized and run by
 * onnxruntime as a consumer would (feeds by input name; coordinates scaled by hand, `x·1024/W`,
 * `y·1024/H`; box corners as points 2/3 before the clicks), against the official `SAM2ImagePredictor`
 * outputs of `../shared/fixtures/sam2-reference/`: multimask cases 0 and 3 (masks = tokens 1..3,
 * clamped; IoU), and for the single-mask cases 1, 2, 4 the IoU of tokens 1..3 (`all_iou_predictions`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '@samtune/test-fixtures';
import { compareTensors, sam2PredictorWeights, type FloatTensor, type WeightMap } from '@samtune/sam-model';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { createSession, type Session } from '@samtune/onnx';
import { floatTensor } from '@samtune/tensor';
import { recordSam2DecoderGraph, SAM2_DECODER_INPUTS, SAM2_DECODER_OUTPUTS } from './sam2-decoder-graph.js';

const ref = (name: string): string => sharedPath(join('fixtures', 'sam2-reference', name));
const FILE = 'hiera_mini_outputs.safetensors';

interface Case {
  case: number;
  point_coords: [number, number][] | null;
  point_labels: number[] | null;
  box: [number, number, number, number] | null;
  mask_input_from_case: number | null;
  multimask_output: boolean;
}

let session: Session;
let outputs: WeightMap;
let cases: Case[];
let size: [number, number];

beforeAll(async () => {
  const manifest = JSON.parse(readFileSync(ref('manifest.json'), 'utf8'));
  cases = (manifest.cases.dog as (Case | { case: 'batch' })[]).filter((c): c is Case => c.case !== 'batch');
  size = manifest.images.dog.original_size;
  outputs = readSafetensors(ref(FILE)).tensors;
  const ops = recordSam2DecoderGraph(sam2PredictorWeights(readTorchCheckpoint(ref('sam2.1_hiera_mini_seeded.pt'))));
  session = await createSession(ops.builder.toModelBytes(), { intraOpNumThreads: 2 });
});

afterAll(async () => session?.release());

function out(key: string): FloatTensor {
  const t = outputs.get(key);
  if (!t || t.dtype !== 'float32') throw new Error(`${FILE}: no float32 tensor '${key}'`);
  return t as FloatTensor;
}

function within(
  ours: FloatTensor | undefined,
  want: { shape: readonly number[]; data: Float32Array },
  what: string,
): void {
  if (!ours) throw new Error(`${what}: no output`);
  expect(ours.data.length, what).toBe(want.data.length);
  const a = compareTensors({ shape: want.shape, data: ours.data }, want);
  expect(a.ok, `${what} ${JSON.stringify(a)}`).toBe(true);
}

describe('exported SAM 2.1 decoder (samexporter I/O) on onnxruntime vs SAM2ImagePredictor', () => {
  it('declares samexporter’s inputs and outputs, in order, with a dynamic point count', () => {
    expect(session.inputs.map((i) => i.name)).toEqual([...SAM2_DECODER_INPUTS]);
    expect(session.outputs.map((o) => o.name)).toEqual([...SAM2_DECODER_OUTPUTS]);
    expect(session.inputs[3]?.shape).toEqual([1, 'num_points', 2]);
  });

  it.each([0, 1, 2, 3, 4])('dog case %i', async (i) => {
    const c = cases.find((x) => x.case === i);
    if (!c) throw new Error(`manifest.json: no dog case ${i}`);
    const [h, w] = size;
    const xy = (x: number, y: number): number[] => [
      Math.fround(Math.fround(x) / w) * 1024,
      Math.fround(Math.fround(y) / h) * 1024,
    ];
    const coords: number[] = [];
    const labels: number[] = [];
    if (c.box) {
      coords.push(...xy(c.box[0], c.box[1]), ...xy(c.box[2], c.box[3]));
      labels.push(2, 3);
    }
    (c.point_coords ?? []).forEach(([x, y], k) => {
      coords.push(...xy(x, y));
      labels.push(c.point_labels?.[k] as number);
    });
    const n = labels.length;
    const mask = c.mask_input_from_case !== null ? out(`dog.case${i}.mask_input`).data : new Float32Array(256 * 256);
    const r = await session.run({
      image_embed: out('dog.image_embeddings'),
      high_res_feats_0: out('dog.high_res_feats.0'),
      high_res_feats_1: out('dog.high_res_feats.1'),
      point_coords: floatTensor(Float32Array.from(coords), [1, n, 2]),
      point_labels: floatTensor(Float32Array.from(labels), [1, n]),
      mask_input: floatTensor(mask, [1, 1, 256, 256]),
      has_mask_input: floatTensor(Float32Array.of(c.mask_input_from_case !== null ? 1 : 0), [1]),
    });
    expect(r.masks?.shape).toEqual([1, 3, 256, 256]);
    if (c.multimask_output) {
      within(r.masks, out(`dog.case${i}.low_res_masks`), `case ${i} masks`);
      within(r.iou_predictions, out(`dog.case${i}.iou_predictions`), `case ${i} iou_predictions`);
    } else {
      const all = out(`dog.case${i}.all_iou_predictions`);
      within(r.iou_predictions, { shape: [3], data: all.data.slice(1) }, `case ${i} iou of tokens 1..3`);
    }
  });
});
