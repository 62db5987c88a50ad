/**
 * Integration: the gradient graph of a two-layer attention block (multi-head attention with
 * MatMul/Softmax/Transpose/Reshape, residual Add, LayerNorm, a GELU MLP) against central finite
 * differences of every weight and of the input, on onnxruntime-node.
 */
import { expect, it } from 'vitest';
import type { OnnxGraphOps, OnnxValue } from '../onnx-ops.js';
import { gradCheck, type TensorSpec } from './test-utils/grad-check.js';

const B = 2;
const N = 3;
const C = 4;
const HEADS = 2;
const HIDDEN = 6;

function layerParams(l: number): Record<string, TensorSpec> {
  const p: Record<string, TensorSpec> = {};
  for (const n of ['q', 'k', 'v', 'o']) {
    p[`l${l}.${n}.weight`] = { shape: [C, C] };
    p[`l${l}.${n}.bias`] = { shape: [C] };
  }
  p[`l${l}.fc1.weight`] = { shape: [HIDDEN, C] };
  p[`l${l}.fc1.bias`] = { shape: [HIDDEN] };
  p[`l${l}.fc2.weight`] = { shape: [C, HIDDEN] };
  p[`l${l}.fc2.bias`] = { shape: [C] };
  for (const n of ['norm1', 'norm2']) {
    p[`l${l}.${n}.weight`] = { shape: [C], kind: 'positive' };
    p[`l${l}.${n}.bias`] = { shape: [C] };
  }
  return p;
}

function block(ops: OnnxGraphOps, v: Readonly<Record<string, OnnxValue>>, l: number, x: OnnxValue): OnnxValue {
  const w = (n: string): OnnxValue => v[`l${l}.${n}`] as OnnxValue;
  const lin = (h: OnnxValue, n: string): OnnxValue => ops.linear(h, w(`${n}.weight`), w(`${n}.bias`));
  const heads = (h: OnnxValue): OnnxValue => ops.transpose(ops.reshape(h, [B, N, HEADS, C / HEADS]), [0, 2, 1, 3]);
  const q = heads(lin(x, 'q'));
  const k = heads(lin(x, 'k'));
  const val = heads(lin(x, 'v'));
  const attn = ops.softmax(ops.scale(ops.matmul(q, k, true), 1 / Math.sqrt(C / HEADS)));
  const mixed = ops.reshape(ops.transpose(ops.matmul(attn, val), [0, 2, 1, 3]), [B, N, C]);
  const h = ops.layerNorm(ops.add(x, lin(mixed, 'o')), w('norm1.weight'), w('norm1.bias'), 1e-5);
  const mlp = lin(ops.gelu(lin(h, 'fc1')), 'fc2');
  return ops.layerNorm(ops.add(h, mlp), w('norm2.weight'), w('norm2.bias'), 1e-5);
}

it('two-layer attention block: every weight and the input match finite differences', async () => {
  const r = await gradCheck({
    name: 'attention_block',
    inputs: { x: { shape: [B, N, C] } },
    params: { ...layerParams(0), ...layerParams(1) },
    build: (ops, v) => block(ops, v, 1, block(ops, v, 0, v.x as OnnxValue)),
  });
  const bad = Object.entries(r.perValue).filter(([, e]) => !e.ok);
  expect(bad, JSON.stringify(bad)).toEqual([]);
  expect(Object.keys(r.perValue).length).toBe(1 + 2 * 16);
  expect(r.graph.unreached).toEqual([]);
  console.log(
    `attention block: worst |analytic - fd| / bound ${r.worst.toFixed(3)}, ${r.graph.addedNodes} backward nodes`,
  );
});
