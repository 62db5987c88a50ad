import { OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import * as ort from '../packages/onnx/node_modules/onnxruntime-node/dist/index.js';
const mk = (c: number, kind: string) => {
  const w = new Map([['w', { dtype: 'float32', shape: [c], data: new Float32Array(c).fill(1) }], ['b', { dtype: 'float32', shape: [c], data: new Float32Array(c) }]]) as never;
  const ops = new OnnxGraphOps(w, new OnnxGraphBuilder({ name: 'ln', opset: 17 }));
  const n = (1 << 20) / c;
  const a = ops.input('a', [1, n, c]);
  const y = kind === 'ln' ? ops.layerNorm(a, ops.param('w'), ops.param('b'), 1e-5) : kind === 'add' ? ops.addScalar(a, 1) : ops.reduceMean ? a : a;
  ops.output('y', y, [1, n, c]);
  return { bytes: ops.builder.toModelBytes(), n };
};
for (const [c, kind] of [[256, 'ln'], [64, 'ln'], [256, 'add']] as const) {
  const { bytes, n } = mk(c, kind);
  const A = new ort.Tensor('float32', Float32Array.from({ length: 1 << 20 }, Math.random), [1, n, c]);
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  for (let i = 0; i < 5; i++) await s.run({ a: A });
  const t = performance.now(); for (let i = 0; i < 50; i++) await s.run({ a: A });
  console.log(c, kind, ((performance.now() - t) / 50).toFixed(2), 'ms');
}
