/**
 * The page's prompt graph with the cropped mask head (`cropHead`) gives the whole head's low-res
 * masks on the kept region and the same masks at the original size, on the reference checkpoint and
 * the fixture's dog embedding (800x534: 44 of 64 grid rows kept); so do the page's graphs
 * (`wasm: true`: the dense PE computed in the image-side graph, LayerNorms decomposed).
 */
import { describe, expect, it } from 'vitest';
import { createSession } from '@samtune/onnx';
import type { FloatTensor, HostTensor } from '@samtune/tensor';
import { loadSamCheckpoint } from '../../checkpoint/load.js';
import { preprocessShape } from '../../postprocess.js';
import { readOutputs, refTensor } from '../../test-utils/decoder-cases.js';
import { referencePath } from '../../test-utils/fixtures.js';
import { headSizeFor } from './cropped-head.js';
import { recordPostprocessGraph } from './postprocess-graph.js';
import { pointFeeds } from './prompts.js';
import { recordImageSideGraph, recordPromptGraph } from './split-graphs.js';

const i64 = (v: readonly number[]): HostTensor => ({
  dtype: 'int64',
  shape: [v.length],
  data: BigInt64Array.from(v, BigInt),
});

/** `max|a - b| <= 1e-4 + 1e-3 * max|b|` (shared/README's agreement). */
function expectClose(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, what).toBe(b.length);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(b[i]!));
  }
  expect(diff, what).toBeLessThanOrEqual(1e-4 + 1e-3 * ref);
}

describe('recordPromptGraph({ cropHead: true })', () => {
  it('keeps the rows the post-processing reads, with the whole head’s values there and the same masks', async () => {
    const { config, weights } = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    const emb = refTensor(readOutputs('tinyvit'), 'tinyvit', 'dog.image_embeddings');
    const size: [number, number] = [534, 800];
    const inputSize = preprocessShape(size, config.imageEncoder.imgSize);
    const head = headSizeFor(inputSize, config.promptEncoder.imageEmbeddingSize);
    expect(head).toEqual([44, 64]);
    const [side, whole, cropped, post, pageSide, pagePrompt] = await Promise.all(
      [
        recordImageSideGraph(config, weights),
        recordPromptGraph(config, weights),
        recordPromptGraph(config, weights, { cropHead: true }),
        recordPostprocessGraph(config, 'logits'),
        recordImageSideGraph(config, weights, { wasm: true }),
        recordPromptGraph(config, weights, { cropHead: true, wasm: true }),
      ].map((ops) => createSession(ops.builder.toModelBytes())),
    );
    const image = await side!.run({ image_embeddings: emb });
    const pageImage = await pageSide!.run({ image_embeddings: emb });
    const sizes = { input_size: i64(inputSize), original_size: i64(size) };
    for (const p of [{ points: [[400, 293.7] as const], labels: [1] }, { box: [160, 133.5, 560, 480.6] as const }]) {
      const feeds = { ...image, ...pointFeeds('test', p, size, config.imageEncoder.imgSize) };
      const want = (await whole!.run(feeds)).low_res_masks as FloatTensor;
      const got = (await cropped!.runTyped({ ...feeds, head_size: i64(head) })).low_res_masks as FloatTensor;
      const [rows, cols] = [4 * head[0], 4 * head[1]];
      expect(got.shape).toEqual([1, 4, rows, cols]);
      const region = new Float32Array(4 * rows * cols);
      for (let m = 0; m < 4; m++)
        for (let y = 0; y < rows; y++)
          region.set(want.data.subarray((m * 256 + y) * 256, (m * 256 + y) * 256 + cols), (m * rows + y) * cols);
      expectClose(got.data, region, 'low_res_masks');
      const pageFeeds = { ...feeds, ...pageImage, head_size: i64(head) };
      const page = (await pagePrompt!.runTyped(pageFeeds)).low_res_masks as FloatTensor;
      expectClose(page.data, got.data, 'low_res_masks of the page graphs');
      const [a, b] = await Promise.all(
        [got, want].map(
          async (low) => ((await post!.runTyped({ low_res_masks: low, ...sizes })).masks as FloatTensor).data,
        ),
      );
      expectClose(a!, b!, 'masks at the original size');
    }
    await Promise.all([side, whole, cropped, post, pageSide, pagePrompt].map((s) => s!.release()));
  });
});
