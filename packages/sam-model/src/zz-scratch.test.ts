import { it, expect } from 'vitest';
import { readTorchCheckpoint } from './checkpoint/torch.js';
import { DEFAULT_MASK_DECODER, DEFAULT_PROMPT_ENCODER } from './config.js';
import { initBackend } from './ops/backend.js';
import { maskDecoder } from './mask-decoder.js';
import { densePe, preparePromptEncoderWeights, promptEncoder } from './prompt-encoder.js';
import { parity, type OpsProgram } from './onnx/test-utils/parity.js';
import { readOutputs, refTensor } from './test-utils/decoder-cases.js';
import { referencePath } from './test-utils/fixtures.js';
import type { FloatTensor } from './tensor.js';
it('onnx dyn', async () => {
  await initBackend('wasm');
  const w = readTorchCheckpoint(referencePath('vit_mini.pth'));
  const weights = new Map([...w, ...preparePromptEncoderWeights(DEFAULT_PROMPT_ENCODER, w)]);
  const emb = refTensor(readOutputs('vit_mini'), 'vit_mini', 'dog.image_embeddings');
  const program: OpsProgram = (ops, [e, c, l, m]) => {
    const { sparse, dense } = promptEncoder(ops, DEFAULT_PROMPT_ENCODER, { coords: c!, labels: l!, masks: m!, padPoints: false });
    const out = maskDecoder(ops, DEFAULT_MASK_DECODER, { imageEmbeddings: e!, imagePe: densePe(ops), sparse, dense, multimaskOutput: true });
    return ops.add(out.masks, ops.reshape(out.iou, [1, 3, 1, 1]));
  };
  const mk = (n: number): FloatTensor[] => [
    { dtype: 'float32', shape: [1, n, 2], data: Float32Array.from({ length: 2 * n }, (_, i) => (i * 97) % 1000) },
    { dtype: 'float32', shape: [1, n], data: Float32Array.from({ length: n }, (_, i) => [1, 0, -1, 2, 3][i % 5]!) },
  ];
  const mask: FloatTensor = { dtype: 'float32', shape: [1, 1, 256, 256], data: Float32Array.from({ length: 65536 }, (_, i) => Math.sin(i / 300)) };
  const runs = [2, 5].map((n) => {
    const [c, l] = mk(n);
    return [{ tensor: emb }, { tensor: c!, dims: [1, 'N', 2] }, { tensor: l!, dims: [1, 'N'] }, { tensor: mask }];
  });
  const res = await parity(program, runs, weights);
  for (const r of res) console.log('ONNXDYN', r.staticShape, r.onnx.shape, r.agreement);
  expect(res.every((r) => r.agreement.ok)).toBe(true);
});
