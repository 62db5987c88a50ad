/**
 * tfjs `Sum` and `Tile` on onnxruntime (ReduceSum with an axes input, Tile with a repeats input):
 * one session each, inputs without declared shape so any rank works; data are views on the wasm
 * heap. The stock kernel runs for non-float32 data, empty tensors, an empty axis list and tensors
 * under the size thresholds.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { backend_util, util } from '@tensorflow/tfjs';
import type { KernelArgs, OrtKernelContext } from './tfjs-ort-kernel-context.js';
import { heapF32, isWasmBackend, sizeOf } from './tfjs-ort-heap.js';
import { ONNX_FLOAT, ONNX_INT64 } from '@samtune/onnx';

/**
 * ORT body of tfjs `Sum` (input x; attrs axis: number | number[] | null (null = all), keepDims).
 * ReduceSum always keeps dims; the reduced layout is the same either way, so only the reported
 * shape differs: tfjs' `computeOutAndReduceShapes` (keepDims: `expandShapeToKeepDim`).
 */
export function ortSum(ctx: OrtKernelContext, args: KernelArgs): TensorInfo | undefined {
  const { backend, inputs, attrs } = args;
  const x = inputs.x;
  if (!x || !isWasmBackend(backend) || x.dtype !== 'float32') return undefined;
  const n = sizeOf(x.shape);
  if (n === 0 || n < ctx.thresholds.minSumElements) return undefined;
  // tfjs passes `axis: null` for "all axes"; parseAxisParam handles null although its type omits it
  const axes = util.parseAxisParam((attrs?.axis ?? null) as number | number[], x.shape);
  if (axes.length === 0) return undefined;
  const sorted = [...axes].sort((p, q) => p - q);
  const [reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, sorted);
  const outShape = attrs?.keepDims ? backend_util.expandShapeToKeepDim(reducedShape, sorted) : reducedShape;
  const keptShape = x.shape.map((d, i) => (sorted.includes(i) ? 1 : d));
  const session = ctx.sessions.get('Sum', () => ({
    nodes: [
      { opType: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attrs: { keepdims: { kind: 'int', value: 1 } } },
    ],
    inputs: [
      { name: 'x', elemType: ONNX_FLOAT },
      { name: 'axes', elemType: ONNX_INT64 },
    ],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT }],
  }));
  const out = backend.makeOutput(outShape, 'float32');
  session.run(
    {
      x: { data: heapF32(backend, x), dims: x.shape },
      axes: { data: BigInt64Array.from(sorted, BigInt), dims: [sorted.length] },
    },
    { y: { data: heapF32(backend, out), dims: keptShape } },
  );
  return out;
}

/** ORT body of tfjs `Tile` (input x; attrs reps: number[], one per dimension of x). */
export function ortTile(ctx: OrtKernelContext, args: KernelArgs): TensorInfo | undefined {
  const { backend, inputs, attrs } = args;
  const x = inputs.x;
  const reps = attrs?.reps as readonly number[] | undefined;
  if (!x || !reps || !isWasmBackend(backend) || x.dtype !== 'float32' || reps.length !== x.shape.length)
    return undefined;
  const outShape = x.shape.map((d, i) => d * (reps[i] as number));
  const n = sizeOf(outShape);
  if (n === 0 || n < ctx.thresholds.minTileElements) return undefined;
  const session = ctx.sessions.get('Tile', () => ({
    nodes: [{ opType: 'Tile', inputs: ['x', 'repeats'], outputs: ['y'] }],
    inputs: [
      { name: 'x', elemType: ONNX_FLOAT },
      { name: 'repeats', elemType: ONNX_INT64 },
    ],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT }],
  }));
  const out = backend.makeOutput(outShape, 'float32');
  session.run(
    {
      x: { data: heapF32(backend, x), dims: x.shape },
      repeats: { data: BigInt64Array.from(reps, (r) => BigInt(r)), dims: [reps.length] },
    },
    { y: { data: heapF32(backend, out), dims: outShape } },
  );
  return out;
}
