/**
 * Quantization parameters and the arithmetic of ONNX `QuantizeLinear`:
 * `q = saturate(roundHalfToEven(x / scale) + zeroPoint)`, `x ≈ (q - zeroPoint) * scale`.
 *
 * - Activations: per-tensor, asymmetric **uint8** (0..255) over a range widened to contain 0 (so
 *   that 0, e.g. padding, is exact).
 * - Weights: symmetric **int8** (zero point 0) over [-127, 127] (or [-63, 63] with `reduceRange`),
 *   per channel along an axis or per tensor.
 * - Biases of Conv/Gemm: int32 with scale `inputScale * weightScale[c]`, zero point 0.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { numel } from '@samtune/tensor';

/** Thrown when quantization parameters cannot be computed (non-finite range, bad axis or shape). */
export class QuantParamsError extends SamtuneError {
  readonly code: string = 'quant-params';
  readonly kind: ErrorKind = 'input';
}

/** Per-tensor affine parameters of an activation. */
export interface ActivationParams {
  readonly scale: number;
  /** 0..255 (uint8). */
  readonly zeroPoint: number;
}

/** Quantized weights and their per-channel (or per-tensor: one entry) scales. */
export interface QuantizedWeight {
  /** int8 values, same shape and order as the float weight. */
  readonly data: Int8Array;
  /** One scale per channel along `axis` (length 1 when `axis` is undefined). */
  readonly scales: Float32Array;
  /** The channel axis, or undefined for per-tensor. */
  readonly axis: number | undefined;
}

/** Smallest scale used for an all-zero range (avoids division by zero; ONNX needs scale > 0). */
export const MIN_SCALE = 1e-8;

/** Rounds half to even, as ONNX `QuantizeLinear` does. */
export function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; fix the ties that land on an odd number.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Float32 rounding of a scale, as it will be stored in the model. */
const f32 = (x: number): number => Math.fround(x);

/**
 * uint8 parameters of a per-tensor range `[min, max]` (widened to contain 0):
 * `scale = (max - min) / 255`, `zeroPoint = round(-min / scale)` clamped to 0..255.
 */
export function activationParams(min: number, max: number): ActivationParams {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new QuantParamsError(`activationParams(min, max): expected finite min <= max, got [${min}, ${max}]`);
  }
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const scale = f32(Math.max((hi - lo) / 255, MIN_SCALE));
  const zeroPoint = Math.min(255, Math.max(0, roundHalfToEven(-lo / scale)));
  return { scale, zeroPoint };
}

/** `QuantizeLinear` to uint8 of one value. */
export function quantizeUint8(x: number, p: ActivationParams): number {
  return Math.min(255, Math.max(0, roundHalfToEven(x / p.scale) + p.zeroPoint));
}

/**
 * Symmetric int8 quantization of a float weight, per channel along `axis` (undefined: per tensor).
 * `scale[c] = max|w[c]| / qmax` with `qmax = 127` (63 with `reduceRange`, for CPUs without VNNI where
 * u8·s8 pair sums can saturate int16).
 * @param shape the weight's shape, e.g. MatMul B `[K,N]` (axis 1), Conv W `[O,I,kh,kw]` (axis 0).
 */
export function quantizeWeight(
  data: Float32Array,
  shape: readonly number[],
  axis: number | undefined,
  reduceRange = false,
): QuantizedWeight {
  const count = numel(shape);
  if (count !== data.length) {
    throw new QuantParamsError(
      `quantizeWeight(data, shape): shape [${shape.join(',')}] needs ${count} values, got ${data.length}`,
    );
  }
  if (axis !== undefined && (axis < 0 || axis >= shape.length)) {
    throw new QuantParamsError(
      `quantizeWeight(axis): axis ${axis} is outside the weight's rank ${shape.length} (shape [${shape.join(',')}])`,
    );
  }
  const qmax = reduceRange ? 63 : 127;
  const channels = axis === undefined ? 1 : (shape[axis] as number);
  // element i belongs to channel floor(i / inner) % channels
  const inner = axis === undefined ? count : numel(shape.slice(axis + 1));
  const absMax = new Float64Array(channels);
  for (let i = 0; i < count; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v))
      throw new QuantParamsError(`quantizeWeight(data): element ${i} is ${v}; weights must be finite`);
    const c = axis === undefined ? 0 : Math.floor(i / inner) % channels;
    const a = Math.abs(v);
    if (a > (absMax[c] as number)) absMax[c] = a;
  }
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = Math.max((absMax[c] as number) / qmax, MIN_SCALE);
  const q = new Int8Array(count);
  for (let i = 0; i < count; i++) {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % channels;
    q[i] = Math.min(qmax, Math.max(-qmax, roundHalfToEven((data[i] as number) / (scales[c] as number))));
  }
  return { data: q, scales, axis };
}

/** int32 bias quantization: `q[c] = round(b[c] / (inputScale * weightScales[c]))` (one weight scale broadcasts). */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScales: Float32Array,
): { data: Int32Array; scales: Float32Array } {
  if (weightScales.length !== 1 && weightScales.length !== bias.length) {
    throw new QuantParamsError(
      `quantizeBias(bias, weightScales): ${bias.length} bias values need 1 or ${bias.length} weight scales, got ${weightScales.length}`,
    );
  }
  const scales = new Float32Array(bias.length);
  const data = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = Math.max(
      f32(inputScale * (weightScales.length === 1 ? (weightScales[0] as number) : (weightScales[c] as number))),
      MIN_SCALE,
    );
    scales[c] = s;
    data[c] = Math.min(2 ** 31 - 1, Math.max(-(2 ** 31), roundHalfToEven((bias[c] as number) / s)));
  }
  return { data, scales };
}
