/**
 * Test-only: an `Ops` that propagates shapes only (no data), with `-1` for dynamic dims, the way a
 * symbolic (ONNX) executor sees a forward. It throws on a reshape with more than one `-1` and on
 * any shape mismatch, and it records every op, so tests can prove a layer traces with a dynamic
 * number of points without reading tensor values.
 */
import type { Conv2dOptions, Ops } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

export interface Sym {
  readonly shape: readonly number[];
}

export class ShapeOpsError extends SamtuneError {
  readonly code: string = 'shape-ops';
  readonly kind: ErrorKind = 'internal';
}

function bdim(a: number, b: number, op: string): number {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === -1) return b;
  if (b === -1) return a;
  throw new ShapeOpsError(`${op}: cannot broadcast ${a} with ${b}`);
}

function broadcast(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    out.push(bdim(da, db, `${op}([${a.join(',')}], [${b.join(',')}])`));
  }
  return out;
}

const s = (shape: readonly number[]): Sym => ({ shape: [...shape] });

export class ShapeOps implements Ops<Sym> {
  readonly kind = 'shape';
  readonly log: string[] = [];

  constructor(private readonly params: ReadonlyMap<string, readonly number[]>) {}

  param(key: string): Sym {
    const p = this.params.get(key);
    if (!p) throw new ShapeOpsError(`param('${key}'): missing`);
    return s(p);
  }
  hasParam(key: string): boolean {
    return this.params.has(key);
  }
  constant(data: Float32Array, shape: readonly number[]): Sym {
    if (data.length !== shape.reduce((a, b) => a * b, 1))
      throw new ShapeOpsError(`constant: ${data.length} values for [${shape.join(',')}]`);
    return s(shape);
  }
  shape(x: Sym): number[] {
    return [...x.shape];
  }
  private ew(op: string, a: Sym, b: Sym): Sym {
    this.log.push(op);
    return s(broadcast(a.shape, b.shape, op));
  }
  add(a: Sym, b: Sym): Sym {
    return this.ew('add', a, b);
  }
  sub(a: Sym, b: Sym): Sym {
    return this.ew('sub', a, b);
  }
  mul(a: Sym, b: Sym): Sym {
    return this.ew('mul', a, b);
  }
  div(a: Sym, b: Sym): Sym {
    return this.ew('div', a, b);
  }
  scale(x: Sym): Sym {
    return s(x.shape);
  }
  addScalar(x: Sym): Sym {
    return s(x.shape);
  }
  equalScalar(x: Sym): Sym {
    return s(x.shape);
  }
  matmul(a: Sym, b: Sym, transposeB = false): Sym {
    const [m, k] = a.shape.slice(-2) as [number, number];
    const bb = b.shape.slice(-2) as [number, number];
    const [k2, n] = transposeB ? [bb[1], bb[0]] : bb;
    bdim(k, k2, `matmul inner dims [${a.shape.join(',')}] x [${b.shape.join(',')}]`);
    return s([...broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul'), m, n]);
  }
  linear(x: Sym, weight: Sym): Sym {
    if (x.shape.at(-1) !== weight.shape[1])
      throw new ShapeOpsError(`linear: x [${x.shape.join(',')}] vs weight [${weight.shape.join(',')}]`);
    return s([...x.shape.slice(0, -1), weight.shape[0] as number]);
  }
  conv2d(x: Sym, weight: Sym, _bias: Sym | undefined, opts: Conv2dOptions = {}): Sym {
    const { stride = 1, pad = 0 } = opts;
    const [b, , h, w] = x.shape as [number, number, number, number];
    const [o, , kh, kw] = weight.shape as [number, number, number, number];
    return s([b, o, Math.floor((h + 2 * pad - kh) / stride) + 1, Math.floor((w + 2 * pad - kw) / stride) + 1]);
  }
  convTranspose2d(x: Sym, weight: Sym, _bias: Sym | undefined, stride: number): Sym {
    const [b, cin, h, w] = x.shape as [number, number, number, number];
    if (weight.shape[0] !== cin)
      throw new ShapeOpsError(`convTranspose2d: x [${x.shape.join(',')}] vs weight [${weight.shape.join(',')}]`);
    return s([b, weight.shape[1] as number, h * stride, w * stride]);
  }
  reshape(x: Sym, shape: readonly number[]): Sym {
    this.log.push(`reshape [${x.shape.join(',')}] -> [${shape.join(',')}]`);
    if (shape.filter((d) => d === -1).length > 1)
      throw new ShapeOpsError(`reshape [${x.shape.join(',')}] -> [${shape.join(',')}]: more than one -1`);
    if (!x.shape.includes(-1)) {
      const total = x.shape.reduce((a, b) => a * b, 1);
      const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      if (shape.includes(-1) ? total % known !== 0 : total !== known)
        throw new ShapeOpsError(`reshape [${x.shape.join(',')}] -> [${shape.join(',')}]: sizes differ`);
      return s(shape.map((d) => (d === -1 ? total / known : d)));
    }
    return s(shape);
  }
  transpose(x: Sym, perm: readonly number[]): Sym {
    return s(perm.map((p) => x.shape[p] as number));
  }
  concat(xs: readonly Sym[], axis: number): Sym {
    const first = xs[0];
    if (!first) throw new ShapeOpsError('concat: no inputs');
    const ax = axis < 0 ? axis + first.shape.length : axis;
    const out = [...first.shape];
    for (const x of xs.slice(1)) {
      x.shape.forEach((d, i) => {
        if (i !== ax && d !== out[i] && d !== -1 && out[i] !== -1)
          throw new ShapeOpsError(`concat axis ${axis}: [${first.shape.join(',')}] vs [${x.shape.join(',')}]`);
      });
      const a = out[ax] as number;
      const b = x.shape[ax] as number;
      out[ax] = a === -1 || b === -1 ? -1 : a + b;
    }
    return s(out);
  }
  slice(x: Sym, axis: number, start: number, end: number): Sym {
    const ax = axis < 0 ? axis + x.shape.length : axis;
    return s(x.shape.map((d, i) => (i === ax ? end - start : d)));
  }
  pad(x: Sym, pads: readonly (readonly [number, number])[]): Sym {
    return s(x.shape.map((d, i) => (d === -1 ? -1 : d + (pads[i]?.[0] ?? 0) + (pads[i]?.[1] ?? 0))));
  }
  softmax(x: Sym): Sym {
    return s(x.shape);
  }
  layerNorm(x: Sym, weight: Sym): Sym {
    if (x.shape.at(-1) !== weight.shape[0])
      throw new ShapeOpsError(`layerNorm: x [${x.shape.join(',')}] vs weight [${weight.shape.join(',')}]`);
    return s(x.shape);
  }
  gelu(x: Sym): Sym {
    return s(x.shape);
  }
  relu(x: Sym): Sym {
    return s(x.shape);
  }
  sigmoid(x: Sym): Sym {
    return s(x.shape);
  }
  sin(x: Sym): Sym {
    return s(x.shape);
  }
  cos(x: Sym): Sym {
    return s(x.shape);
  }
  resizeBilinear(x: Sym, size: readonly [number, number]): Sym {
    return s([...x.shape.slice(0, 2), size[0], size[1]]);
  }
}
