import { OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import * as ort from '../packages/onnx/node_modules/onnxruntime-node/dist/index.js';
const w = new Map([['w', { dtype: 'float32', shape: [256], data: new Float32Array(256).fill(1) }], ['b', { dtype: 'float32', shape: [256], data: new Float32Array(256) }]]) as never;
const ops = new OnnxGraphOps(w, new OnnxGraphBuilder({ name: 'ln', opset: 17 }));
const a = ops.input('a', [1, 4096, 256]); const b = ops.input('b2', [1, 4096, 256]);
ops.output('y', ops.layerNorm(ops.add(a, b), ops.param('w'), ops.param('b'), 1e-5), [1, 4096, 256]);
const bytes = ops.builder.toModelBytes();
const A = new ort.Tensor('float32', Float32Array.from({ length: 1 << 20 }, Math.random), [1, 4096, 256]);
for (const lvl of ['basic', 'all'] as const) {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: lvl });
  for (let i = 0; i < 5; i++) await s.run({ a: A, b2: A });
  const t = performance.now(); for (let i = 0; i < 50; i++) await s.run({ a: A, b2: A });
  console.log(lvl, ((performance.now() - t) / 50).toFixed(2), 'ms');
}
