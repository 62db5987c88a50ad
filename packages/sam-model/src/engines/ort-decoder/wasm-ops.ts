/**
 * `OnnxGraphOps` for graphs that onnxruntime-web (wasm) runs: the same values, recorded with the
 * ops its kernels run fast. Measured in headless Chromium (onnxruntime-web 1.30, one thread): its
 * `LayerNormalization` kernel takes ~4.5 ms on `[4096,256]` (scalar loops), while `ReduceMean` and
 * the elementwise Sub/Mul/Add run vectorized, ~0.35 ms per pass over the same tensor. So a
 * LayerNorm over the last axis is recorded as `mean = ReduceMean(x)`, `d = x - mean`,
 * `r = 1 / sqrt(ReduceMean(d*d) + eps)`, `d * r * weight + bias`: the textbook definition (as torch
 * computes it), ~2.5x faster there. (This pattern, with `Reciprocal`, is not one onnxruntime fuses
 * back into `LayerNormalization`.)
 *
 * Optionally (`tanhGelu`) GELU is onnxruntime's `FastGelu` (com.microsoft): the tanh form
 * `0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))`, within 4.7e-4 of the erf form everywhere, ~2.3x
 * faster there than its `Gelu` (erf) kernel. Not the same values: an approximation, opt-in.
 */
import { OnnxGraphOps, type OnnxGraphBuilder, type OnnxGraphOpsOptions, type OnnxValue } from '@samtune/onnx';
import type { WeightMap } from '@samtune/tensor';

/** Options of `WasmGraphOps` beyond `OnnxGraphOpsOptions`. */
export interface WasmGraphOpsOptions {
  /** GELU as `FastGelu` (the tanh approximation; see the file comment). Default false: the erf form. */
  readonly tanhGelu?: boolean;
}

/** `OnnxGraphOps` whose `layerNorm` is the decomposed form above (see the file comment). */
export class WasmGraphOps extends OnnxGraphOps {
  constructor(
    weights: WeightMap,
    builder?: OnnxGraphBuilder,
    options: OnnxGraphOpsOptions = {},
    private readonly wasm: WasmGraphOpsOptions = {},
  ) {
    super(weights, builder, options);
  }

  override gelu(x: OnnxValue): OnnxValue {
    return this.wasm.tanhGelu ? this.emit('FastGelu', [x], x.shape, {}, 'com.microsoft') : super.gelu(x);
  }

  override layerNorm(x: OnnxValue, weight: OnnxValue, bias: OnnxValue, eps: number): OnnxValue {
    const mean = (v: OnnxValue): OnnxValue =>
      this.emit('ReduceMean', [v], [...v.shape.slice(0, -1), 1], { axes: [-1], keepdims: 1 });
    const d = this.sub(x, mean(x));
    const std = this.sqrt(this.addScalar(mean(this.mul(d, d)), eps));
    const r = this.emit('Reciprocal', [std], std.shape);
    return this.add(this.mul(this.mul(d, r), weight), bias);
  }
}
