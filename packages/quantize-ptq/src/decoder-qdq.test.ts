import { decoderFeeds, recordDecoderGraph } from '@samtune/export';
import { loadSamCheckpoint } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { decodeModel } from '@samtune/onnx';
import type { FloatTensor } from '@samtune/sam-model';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Feeds } from './calibrate.js';
import { compareOutputs } from './fidelity.js';
import { DEFAULT_EXCLUDES } from './optimize-dir.js';
import { quantizeStatic } from './quantize.js';
import { sharedPath } from './test-utils/graphs.js';

// The real exported SAM decoder (fixture TinyViT checkpoint, official ONNX signature), calibrated on
// the fixture embeddings of dog.jpg / truck.jpg with box and point prompts, checked on other prompts.
let decoder: Uint8Array;
let emb: FloatTensor[];
beforeAll(async () => {
  const ck = await loadSamCheckpoint(sharedPath('fixtures/sam-reference/tinyvit.pth'));
  decoder = recordDecoderGraph(ck.config, ck.weights, { variant: 'multimask' }).builder.toModelBytes();
  const ref = readSafetensors(sharedPath('fixtures/sam-reference/tinyvit_outputs.safetensors')).tensors;
  emb = ['dog', 'truck'].map((s) => ref.get(`${s}.image_embeddings`) as FloatTensor);
});

function feeds(shift: number): Feeds[] {
  return emb.flatMap((e, i) => [
    decoderFeeds(e, { box: [100 + shift + 40 * i, 120, 520 + shift, 430 - 30 * i] }, [534, 800]),
    decoderFeeds(e, { points: [[300 + shift, 260 - 20 * i]], labels: [1] }, [534, 800]),
    decoderFeeds(
      e,
      {
        points: [
          [250 + shift, 200],
          [600, 380 + 10 * i],
        ],
        labels: [1, 0],
      },
      [534, 800],
    ),
  ]);
}

describe('static INT8 of the exported SAM decoder', () => {
  it('loads in onnxruntime, uses Gemm for all 47 linear layers with constant reshapes, and stays close to FP32', async () => {
    const r = await quantizeStatic(decoder, feeds(0), {
      exclude: DEFAULT_EXCLUDES.decoder,
      session: { intraOpNumThreads: 2 },
    });
    expect(r.summary.quantized).toEqual({ 'MatMul+Add→Gemm': 47 });
    const reasons = new Set(r.summary.keptFloat.map((k) => k.reason));
    expect([...reasons].sort()).toEqual(['both inputs are activations (enable activationMatMul)', 'excluded by name']);
    const q = decodeModel(r.bytes);
    const gemms = q.graph.node.filter((n) => n.opType === 'Gemm');
    expect(gemms).toHaveLength(47);
    expect(gemms.filter((n) => n.input[1]?.startsWith('mask_decoder.iou_prediction_head'))).toHaveLength(3);
    // token tensors [1,T,256] with T varying with the prompt: Reshape([-1,256]) → Gemm → Reshape([1,-1,N]),
    // constant shapes from calibration (a run-time Shape→Slice→Concat here trips an ORT 1.30 optimizer bug)
    expect(q.graph.node.some((n) => n.opType === 'Shape' && n.name?.includes('MatMul'))).toBe(false);

    const fid = await compareOutputs(decoder, r.bytes, feeds(37), { session: { intraOpNumThreads: 2 } });
    expect(fid.samples).toBe(6);
    expect(fid.outputs.low_res_masks?.relRmse).toBeLessThan(0.06);
    expect(fid.outputs.masks?.cosine).toBeGreaterThan(0.998);
    expect(fid.outputs.iou_predictions?.relRmse).toBeLessThan(0.05);
  });
});
