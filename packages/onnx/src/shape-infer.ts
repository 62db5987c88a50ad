/**
 * Static shape propagation for `OnnxGraphOps`: every op's output shape from its input shapes,
 * with `-1` for a dimension known only at run time (a dynamic axis such as the number of points N).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when an op's input shapes are incompatible (names the op, the argument and both shapes). */
export class OnnxShapeError extends SamtuneError {
  readonly code: string = 'onnx-shape';
  readonly kind: ErrorKind = 'input';
}

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/** numpy broadcasting; `-1` (dynamic) broadcasts like an unknown size that must match. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : (a[i - (rank - a.length)] as number);
    const db = i < rank - b.length ? 1 : (b[i - (rank - b.length)] as number);
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (da === -1) out.push(db);
    else if (db === -1) out.push(da);
    else
      throw new OnnxShapeError(
        `OnnxGraphOps.${op}(a, b): shapes ${fmt(a)} and ${fmt(b)} do not broadcast (axis ${i}: ${da} vs ${db})`,
      );
  }
  return out;
}

/** Batched matmul `[...,M,K] x [...,K,N]` (or `[...,N,K]` with `transposeB`). */
export function matmulShape(a: readonly number[], b: readonly number[], transposeB: boolean): number[] {
  if (a.length < 2 || b.length < 2) {
    throw new OnnxShapeError(`OnnxGraphOps.matmul(a, b): needs rank >= 2 operands, got a ${fmt(a)} and b ${fmt(b)}`);
  }
  const m = a[a.length - 2] as number;
  const k = a[a.length - 1] as number;
  const kb = b[b.length - (transposeB ? 1 : 2)] as number;
  const n = b[b.length - (transposeB ? 2 : 1)] as number;
  if (k !== kb && k !== -1 && kb !== -1) {
    throw new OnnxShapeError(
      `OnnxGraphOps.matmul(a, b${transposeB ? ', transposeB' : ''}): inner dims differ: a ${fmt(a)} has K=${k}, b ${fmt(b)} has K=${kb}`,
    );
  }
  const batch = broadcastShapes('matmul', a.slice(0, -2), b.slice(0, -2));
  return [...batch, m, n];
}

/** Output side of a convolution: `floor((in + 2*pad - k) / stride) + 1` (dynamic stays dynamic). */
export function convOut(inSize: number, k: number, stride: number, pad: number): number {
  return inSize < 0 ? -1 : Math.floor((inSize + 2 * pad - k) / stride) + 1;
}

/** Product of the dims, or -1 if any is dynamic. */
export function staticNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}

/**
 * The ONNX `Reshape` target for `ops.reshape(x, shape)` and the static output shape.
 * At most one `-1` goes to ONNX; further `-1`s are turned into `0` (copy the input dim) where the
 * input dim at the same position is dynamic and every earlier dim is unchanged, so reshapes that
 * keep dynamic leading dims (e.g. `[B,N,C] -> [B,N,h,C/h]` with B and N dynamic) work.
 */
export function reshapeTarget(x: readonly number[], target: readonly number[]): { onnx: number[]; shape: number[] } {
  for (let i = 0; i < target.length; i++) {
    const t = target[i] as number;
    if (t === 0 || t < -1)
      throw new OnnxShapeError(`OnnxGraphOps.reshape(x, shape): bad target dim ${t} at axis ${i} in ${fmt(target)}`);
  }
  const onnx = [...target];
  const unknown = (): number => onnx.filter((d) => d === -1).length;
  for (let i = 0; i < Math.min(onnx.length, x.length) && unknown() > 1; i++) {
    if (onnx[i] === -1 && x[i] === -1) onnx[i] = 0;
    else if (onnx[i] !== x[i]) break;
  }
  const free = onnx.filter((d) => d === -1).length;
  if (free > 1) {
    throw new OnnxShapeError(
      `OnnxGraphOps.reshape(x, shape): target ${fmt(target)} for x ${fmt(x)} has ${free} unknown (-1) dims that are not copies of x's leading dynamic dims; at most one is allowed`,
    );
  }
  const shape = onnx.map((d) => (d === 0 ? -1 : d));
  const total = staticNumel(x);
  const known = staticNumel(shape.filter((d) => d !== -1));
  if (free === 1 && total >= 0 && !onnx.includes(0)) {
    if (total % known !== 0) {
      throw new OnnxShapeError(
        `OnnxGraphOps.reshape(x, shape): x ${fmt(x)} (${total} elements) cannot be reshaped to ${fmt(target)}`,
      );
    }
    shape[onnx.indexOf(-1)] = total / known;
  } else if (free === 0 && total >= 0 && staticNumel(shape) !== total) {
    throw new OnnxShapeError(
      `OnnxGraphOps.reshape(x, shape): x ${fmt(x)} has ${total} elements, target ${fmt(target)} has ${staticNumel(shape)}`,
    );
  }
  return { onnx, shape };
}

/** Normalises a possibly negative axis; throws when out of range. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw new OnnxShapeError(`OnnxGraphOps.${op}(axis): axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Length of `[start:end]` on an axis of length `dim` (python slice semantics; -1 if unknown). */
export function sliceLength(dim: number, start: number, end: number): number {
  if (dim < 0) return start >= 0 && end >= 0 ? Math.max(0, end - start) : -1;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
  return Math.max(0, clamp(end) - clamp(start));
}

/** Shape of `concat(xs, axis)`; other dims must agree (dynamic dims are taken on trust). */
export function concatShape(shapes: readonly (readonly number[])[], axis: number): number[] {
  const first = shapes[0];
  if (!first) throw new OnnxShapeError('OnnxGraphOps.concat(xs): needs at least one tensor, got none');
  const ax = normAxis('concat', axis, first.length);
  const out = [...first];
  for (const s of shapes.slice(1)) {
    if (s.length !== first.length)
      throw new OnnxShapeError(`OnnxGraphOps.concat(xs, ${axis}): ranks differ: ${fmt(first)} vs ${fmt(s)}`);
    for (let i = 0; i < s.length; i++) {
      const d = s[i] as number;
      if (i === ax) out[i] = out[i] === -1 || d === -1 ? -1 : (out[i] as number) + d;
      else if (out[i] === -1) out[i] = d;
      else if (d !== -1 && d !== out[i]) {
        throw new OnnxShapeError(
          `OnnxGraphOps.concat(xs, ${axis}): shapes ${fmt(first)} and ${fmt(s)} differ on axis ${i}`,
        );
      }
    }
  }
  return out;
}
