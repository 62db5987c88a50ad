/**
 * Output fidelity of an INT8 model: both models run on the same inputs and every output is compared,
 * pooled over all samples. Independent of labels and of how good the checkpoint is, so it also
 * means something for random-weight fixtures, and it is what per-node choices are judged by.
 */
import { createSession } from '@samtune/onnx';
import type { SessionOptions } from '@samtune/onnx';
import type { Feeds } from './calibrate.js';

/** Agreement of one output, pooled over the samples. */
export interface OutputFidelity {
  /** `‖int8 - fp32‖ / ‖fp32‖` over all values. */
  readonly relRmse: number;
  /** Cosine similarity of the flattened outputs. */
  readonly cosine: number;
  readonly maxAbsDiff: number;
  readonly maxAbsRef: number;
  /** Fraction of values whose sign (`> 0`, the mask threshold for logits) agrees. */
  readonly signAgreement: number;
  readonly values: number;
}

/** Fidelity per output name, and the sample count. */
export interface FidelityResult {
  readonly samples: number;
  readonly outputs: Readonly<Record<string, OutputFidelity>>;
}

class Acc {
  diff2 = 0;
  ref2 = 0;
  q2 = 0;
  dot = 0;
  maxDiff = 0;
  maxRef = 0;
  agree = 0;
  n = 0;
  add(a: Float32Array, b: Float32Array): void {
    for (let i = 0; i < a.length; i++) {
      const x = a[i] as number;
      const y = b[i] as number;
      const d = x - y;
      this.diff2 += d * d;
      this.ref2 += x * x;
      this.q2 += y * y;
      this.dot += x * y;
      if (Math.abs(d) > this.maxDiff) this.maxDiff = Math.abs(d);
      if (Math.abs(x) > this.maxRef) this.maxRef = Math.abs(x);
      if (x > 0 === y > 0) this.agree++;
    }
    this.n += a.length;
  }
  result(): OutputFidelity {
    const denom = Math.sqrt(this.ref2 * this.q2);
    return {
      relRmse: this.ref2 > 0 ? Math.sqrt(this.diff2 / this.ref2) : Math.sqrt(this.diff2),
      cosine: denom > 0 ? this.dot / denom : 1,
      maxAbsDiff: this.maxDiff,
      maxAbsRef: this.maxRef,
      signAgreement: this.n > 0 ? this.agree / this.n : 1,
      values: this.n,
    };
  }
}

/**
 * Runs `reference` and `candidate` (paths or bytes) on every sample and compares all outputs the two
 * share (see `OutputFidelity`). `maxSamples` caps the samples used (default all).
 */
export async function compareOutputs(
  reference: string | Uint8Array,
  candidate: string | Uint8Array,
  samples: Iterable<Feeds> | AsyncIterable<Feeds>,
  options: { readonly session?: SessionOptions; readonly maxSamples?: number } = {},
): Promise<FidelityResult> {
  const ref = await createSession(reference, options.session);
  const cand = await createSession(candidate, options.session);
  const accs = new Map<string, Acc>();
  let n = 0;
  try {
    const names = ref.outputs.map((o) => o.name).filter((name) => cand.outputs.some((o) => o.name === name));
    for await (const feeds of samples) {
      if (n >= (options.maxSamples ?? Number.POSITIVE_INFINITY)) break;
      const a = await ref.run(feeds, names);
      const b = await cand.run(feeds, names);
      for (const name of names) {
        let acc = accs.get(name);
        if (!acc) accs.set(name, (acc = new Acc()));
        acc.add((a[name] as { data: Float32Array }).data, (b[name] as { data: Float32Array }).data);
      }
      n++;
    }
  } finally {
    await ref.release();
    await cand.release();
  }
  return { samples: n, outputs: Object.fromEntries([...accs].map(([k, v]) => [k, v.result()])) };
}
