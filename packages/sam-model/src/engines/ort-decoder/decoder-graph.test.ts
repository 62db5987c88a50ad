/**
 * The decoder graph's `fast` form (re-associated cross-attentions, channels-last mask head: what the
 * labelling page runs in onnxruntime-web) computes the official form's values: every output of the
 * official-I/O graph (masks at the original size, IoU, low-res masks) for points, a box and a mask
 * input, on the reference checkpoint and the fixture's dog embedding.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSession } from '@samtune/onnx';
import { floatTensor, type HostTensor } from '@samtune/tensor';
import { loadSamCheckpoint } from '../../checkpoint/load.js';
import { RatioTally, readOutputs, refTensor } from '../../test-utils/decoder-cases.js';
import { referencePath } from '../../test-utils/fixtures.js';
import { recordDecoderGraph } from './decoder-graph.js';
import { pointFeeds } from './prompts.js';

const tally = new RatioTally();
afterAll(() => console.log(tally.summary('decoder-graph fast')));

describe('recordDecoderGraph({ fast: true })', () => {
  it('gives the official form’s masks, IoU and low-res masks', async () => {
    const { config, weights } = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    const emb = refTensor(readOutputs('tinyvit'), 'tinyvit', 'dog.image_embeddings');
    const size: [number, number] = [534, 800];
    const sessions = await Promise.all(
      [false, true].map((fast) =>
        createSession(recordDecoderGraph(config, weights, { variant: 'multimask', fast }).builder.toModelBytes()),
      ),
    );
    const prompts = [
      { points: [[400, 293.7] as const], labels: [1] },
      { box: [160, 133.5, 560, 480.6] as const },
      { box: [10, 20, 300, 400] as const, points: [[100, 200] as const, [250, 90] as const], labels: [1, 0] },
    ];
    const lowRes = new Float32Array(256 * 256).map((_, i) => Math.sin(i / 97) * 4);
    for (const [k, p] of prompts.entries()) {
      const hasMask = k === 2 ? 1 : 0;
      const feeds: Record<string, HostTensor> = {
        image_embeddings: emb,
        ...pointFeeds('test', p, size, config.imageEncoder.imgSize),
        mask_input: floatTensor(lowRes, [1, 1, 256, 256]),
        has_mask_input: floatTensor(Float32Array.of(hasMask), [1]),
        orig_im_size: floatTensor(Float32Array.from(size), [2]),
      };
      const [want, got] = await Promise.all(sessions.map((s) => s.run(feeds)));
      for (const out of ['masks', 'iou_predictions', 'low_res_masks']) {
        const a = tally.check(out, `fast-vs-official.${k}`, got![out]!, want![out]!);
        expect(a.ok, `${out} of prompt ${k}: ${JSON.stringify(a)}`).toBe(true);
      }
    }
    await Promise.all(sessions.map((s) => s.release()));
  });
});
