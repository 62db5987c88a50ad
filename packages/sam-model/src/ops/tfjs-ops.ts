/**
 * `Ops` on tfjs tensors: eager and differentiable (tf.grads / tf.variableGrads see through every op).
 * Layouts follow torch (NCHW, OIHW); convolutions transpose to tfjs' NHWC internally.
 * Memory: each composite op runs in its own `tf.tidy`, so only its result survives (a whole
 * encoder in one outer tidy would otherwise hold every temporary); callers still tidy forwards.
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2dOptions, TrainOps } from '@samtune/tensor';
import { MissingWeightError } from '@samtune/tensor';

const SQRT1_2 = Math.SQRT1_2;

/** Weight lookup for `TfjsOps`: frozen tensors and (for training) `tf.Variable`s by checkpoint key. */
export type TfjsWeights = ReadonlyMap<string, tf.Tensor>;

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export class TfjsOps implements TrainOps<tf.Tensor> {
  readonly kind = 'tfjs';

  constructor(private readonly weights: TfjsWeights) {}

  param(key: string): tf.Tensor {
    const w = this.weights.get(key);
    if (!w) throw new MissingWeightError(this.kind, key);
    return w;
  }

  hasParam(key: string): boolean {
    return this.weights.has(key);
  }

  constant(data: Float32Array, shape: readonly number[]): tf.Tensor {
    return tf.tensor(data, [...shape], 'float32');
  }

  shape(x: tf.Tensor): number[] {
    return [...x.shape];
  }

  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(a, b);
  }
  sub(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.sub(a, b);
  }
  mul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.mul(a, b);
  }
  div(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.div(a, b);
  }
  scale(x: tf.Tensor, s: number): tf.Tensor {
    return tf.tidy(() => {
      return tf.mul(x, tf.scalar(s));
    });
  }
  addScalar(x: tf.Tensor, s: number): tf.Tensor {
    return tf.tidy(() => {
      return tf.add(x, tf.scalar(s));
    });
  }
  softplus(x: tf.Tensor): tf.Tensor {
    return tf.softplus(x);
  }
  sqrt(x: tf.Tensor): tf.Tensor {
    return tf.sqrt(x);
  }
  powScalar(x: tf.Tensor, e: number): tf.Tensor {
    return e === 2 ? tf.mul(x, x) : tf.pow(x, e);
  }
  sum(x: tf.Tensor, axis: number): tf.Tensor {
    return tf.sum(x, axis);
  }
  mean(x: tf.Tensor, axes: readonly number[]): tf.Tensor {
    return tf.mean(x, [...axes]);
  }
  greaterEqualScalar(x: tf.Tensor, value: number): tf.Tensor {
    return tf.tidy(() => tf.cast(tf.greaterEqual(x, tf.scalar(value)), 'float32'));
  }
  argMinOneHot(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.cast(tf.oneHot(tf.argMin(x, -1), x.shape[x.rank - 1] as number), 'float32'));
  }
  equalScalar(x: tf.Tensor, value: number): tf.Tensor {
    return tf.tidy(() => {
      return tf.cast(tf.equal(x, tf.scalar(value)), 'float32');
    });
  }

  matmul(a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor {
    return tf.matMul(a, b, false, transposeB);
  }

  linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const inDim = x.shape[x.rank - 1] as number;
      const outDim = weight.shape[0] as number;
      const flat = tf.reshape(x, [-1, inDim]);
      let y = tf.matMul(flat, weight, false, true);
      if (bias) y = tf.add(y, bias);
      return tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
    });
  }

  conv2d(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, opts: Conv2dOptions = {}): tf.Tensor {
    return tf.tidy(() => {
      const { stride = 1, pad = 0, groups = 1 } = opts;
      let nhwc = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
      if (pad > 0)
        nhwc = tf.pad(nhwc, [
          [0, 0],
          [pad, pad],
          [pad, pad],
          [0, 0],
        ]);
      const cin = x.shape[1] as number;
      let y: tf.Tensor4D;
      if (groups === 1) {
        const filter = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D; // OIHW -> HWIO
        y = tf.conv2d(nhwc, filter, stride, 'valid');
      } else if (groups === cin && weight.shape[0] === cin) {
        const filter = tf.transpose(weight, [2, 3, 0, 1]) as tf.Tensor4D; // [C,1,kh,kw] -> [kh,kw,C,1]
        y = tf.depthwiseConv2d(nhwc, filter, stride, 'valid');
      } else {
        throw new Error(
          `TfjsOps.conv2d(opts.groups): only groups 1 or depthwise (groups = C_in = ${cin}) are supported, got ${groups}`,
        );
      }
      if (bias) y = tf.add(y, bias);
      return tf.transpose(y, [0, 3, 1, 2]);
    });
  }

  convTranspose2d(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | undefined, stride: number): tf.Tensor {
    return tf.tidy(() => {
      const [b, cin, h, w] = x.shape as [number, number, number, number];
      const [wcin, cout, kh, kw] = weight.shape as [number, number, number, number];
      if (wcin !== cin || kh !== stride || kw !== stride) {
        throw new Error(
          `TfjsOps.convTranspose2d(x, weight): needs weight [Cin=${cin},Cout,k=${stride},k=${stride}], got [${weight.shape.join(',')}]`,
        );
      }
      // kernel == stride: every input pixel writes its own k x k output block -> one matmul + reshape.
      const rows = tf.reshape(tf.transpose(x, [0, 2, 3, 1]), [b * h * w, cin]);
      const y = tf.matMul(rows, tf.reshape(weight, [cin, cout * kh * kw]));
      const blocks = tf.transpose(tf.reshape(y, [b, h, w, cout, kh, kw]), [0, 3, 1, 4, 2, 5]);
      const out = tf.reshape(blocks, [b, cout, h * kh, w * kw]);
      return bias ? tf.add(out, tf.reshape(bias, [1, cout, 1, 1])) : out;
    });
  }

  reshape(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
    return tf.reshape(x, [...shape]);
  }
  transpose(x: tf.Tensor, perm: readonly number[]): tf.Tensor {
    return tf.transpose(x, [...perm]);
  }
  concat(xs: readonly tf.Tensor[], axis: number): tf.Tensor {
    return tf.concat([...xs], axis);
  }
  slice(x: tf.Tensor, axis: number, start: number, end: number): tf.Tensor {
    return tf.tidy(() => {
      const ax = normAxis(axis, x.rank);
      const begin = x.shape.map((_, i) => (i === ax ? start : 0));
      const size = x.shape.map((d, i) => (i === ax ? end - start : d));
      return tf.slice(x, begin, size);
    });
  }
  pad(x: tf.Tensor, pads: readonly (readonly [number, number])[]): tf.Tensor {
    return tf.pad(
      x,
      pads.map(([a, b]) => [a, b] as [number, number]),
    );
  }

  softmax(x: tf.Tensor): tf.Tensor {
    return tf.softmax(x, -1);
  }
  layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, tf.scalar(eps)))), weight), bias);
    });
  }
  gelu(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      return tf.mul(tf.mul(x, tf.scalar(0.5)), tf.add(tf.scalar(1), tf.erf(tf.mul(x, tf.scalar(SQRT1_2)))));
    });
  }
  relu(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
  sigmoid(x: tf.Tensor): tf.Tensor {
    return tf.sigmoid(x);
  }
  sin(x: tf.Tensor): tf.Tensor {
    return tf.sin(x);
  }
  cos(x: tf.Tensor): tf.Tensor {
    return tf.cos(x);
  }
  resizeBilinear(x: tf.Tensor, size: readonly [number, number]): tf.Tensor {
    return tf.tidy(() => {
      const nhwc = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
      const y = tf.image.resizeBilinear(nhwc, [size[0], size[1]], false, true);
      return tf.transpose(y, [0, 3, 1, 2]);
    });
  }
}
