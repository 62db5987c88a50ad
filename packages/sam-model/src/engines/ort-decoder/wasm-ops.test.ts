/**
 * `WasmGraphOps`: its decomposed LayerNorm gives onnxruntime's `LayerNormalization` values, and the
 * page's prompt graph with `tanhGelu` gives the erf form's masks (IoU) on the reference checkpoint
 * and the fixture's dog embedding.
 */
import { describe, expect, it } from 'vitest';
import { createSession, OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import type { FloatTensor, HostTensor } from '@samtune/tensor';
import { loadSamCheckpoint } from '../../checkpoint/load.js';
import { mulberry32 } from '../../init.js';
import { readOutputs, refTensor } from '../../test-utils/decoder-cases.js';
import { referencePath } from '../../test-utils/fixtures.js';
import { pointFeeds } from './prompts.js';
import { recordImageSideGraph, recordPromptGraph } from './split-graphs.js';
import { WasmGraphOps } from './wasm-ops.js';

const rand = mulberry32(3);
const floats = (n: number, scale: number): Float32Array =>
  Float32Array.from({ length: n }, () => (rand() - 0.3) * scale);

describe('WasmGraphOps', () => {
  it('records LayerNorm as ReduceMean + elementwise ops with the LayerNormalization kernel’s values', async () => {
    const [rows, c] = [64, 96];
    const weights = new Map<string, HostTensor>([
      ['w', { dtype: 'float32', shape: [c], data: floats(c, 2) }],
      ['b', { dtype: 'float32', shape: [c], data: floats(c, 1) }],
    ]);
    const x: FloatTensor = { dtype: 'float32', shape: [1, rows, c], data: floats(rows * c, 5) };
    const [kernel, page] = [OnnxGraphOps, WasmGraphOps].map((Ops) => {
      const ops = new Ops(weights, new OnnxGraphBuilder({ opset: 17 }));
      ops.output('y', ops.layerNorm(ops.input('x', x.shape), ops.param('w'), ops.param('b'), 1e-6));
      expect(ops.builder.listNodes().some((n) => n.opType === 'LayerNormalization')).toBe(Ops === OnnxGraphOps);
      return ops.builder.toModelBytes();
    });
    const [want, got] = await Promise.all(
      [kernel!, page!].map(async (bytes) => {
        const s = await createSession(bytes);
        const y = ((await s.runTyped({ x })).y as FloatTensor).data;
        await s.release();
        return y;
      }),
    );
    for (let i = 0; i < want!.length; i++) expect(Math.abs(got![i]! - want![i]!)).toBeLessThan(1e-5);
  });

  it('with tanhGelu, the page’s prompt graph gives the erf form’s low-res masks (IoU >= 0.99)', async () => {
    const { config, weights } = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    const emb = refTensor(readOutputs('tinyvit'), 'tinyvit', 'dog.image_embeddings');
    const [side, exact, tanh] = await Promise.all(
      [
        recordImageSideGraph(config, weights, { wasm: true }),
        recordPromptGraph(config, weights, { wasm: true }),
        recordPromptGraph(config, weights, { wasm: true, tanhGelu: true }),
      ].map((ops) => createSession(ops.builder.toModelBytes())),
    );
    const image = await side!.run({ image_embeddings: emb });
    const size: [number, number] = [534, 800];
    for (const p of [{ points: [[400, 293.7] as const], labels: [1] }, { box: [160, 133.5, 560, 480.6] as const }]) {
      const feeds = { ...image, ...pointFeeds('test', p, size, config.imageEncoder.imgSize) };
      const [a, b] = await Promise.all(
        [exact!, tanh!].map(async (s) => ((await s.runTyped(feeds)).low_res_masks as FloatTensor).data),
      );
      let [inter, union] = [0, 0];
      for (let i = 0; i < a!.length; i++) {
        inter += Number(a![i]! > 0 && b![i]! > 0);
        union += Number(a![i]! > 0 || b![i]! > 0);
      }
      expect(union).toBeGreaterThan(1000);
      expect(inter / union).toBeGreaterThanOrEqual(0.99);
    }
    await Promise.all([side, exact, tanh].map((s) => s!.release()));
  });
});
