/**
 * Refuses weights holding NaN or ±Infinity: such a checkpoint (a training run that diverged, a
 * corrupted file) would otherwise give empty masks, F1 0 or NaN losses far from the cause.
 */
import type { WeightMap } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** One float tensor with non-finite values: the first bad element (flat row-major index) and the count. */
export interface NonFiniteTensor {
  readonly key: string;
  readonly shape: readonly number[];
  readonly index: number;
  readonly value: number;
  readonly count: number;
}

/** Thrown by `checkFiniteWeights`; `tensors` lists every float tensor with NaN/±Infinity. */
export class NonFiniteWeightsError extends SamtuneError {
  readonly code: string = 'non-finite-weights';
  readonly kind: ErrorKind = 'input';
  constructor(
    message: string,
    readonly tensors: readonly NonFiniteTensor[],
  ) {
    super(message);
  }
}

/** The first non-finite element of `data` and how many there are; undefined when all are finite. */
export function findNonFinite(data: Float32Array): { index: number; value: number; count: number } | undefined {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    // v - v is 0 for finite v, NaN for NaN and ±Infinity.
    if (v - v !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  return first < 0 ? undefined : { index: first, value: data[first] as number, count };
}

/**
 * Checks every float32 tensor of `weights` for NaN/±Infinity; throws one `NonFiniteWeightsError`
 * naming each bad tensor (key, shape, first flat index and value, count). `source` names the file.
 */
export function checkFiniteWeights(weights: WeightMap, source = '<weights>'): void {
  const bad: NonFiniteTensor[] = [];
  for (const [key, t] of weights) {
    if (t.dtype !== 'float32') continue;
    const f = findNonFinite(t.data as Float32Array);
    if (f) bad.push({ key, shape: t.shape, ...f });
  }
  if (bad.length === 0) return;
  const lines = bad
    .slice(0, 10)
    .map(
      (b) =>
        `  ${b.key} [${b.shape.join(',')}]: ${b.count} non-finite value(s), first ${b.value} at flat index ${b.index}`,
    );
  if (bad.length > 10) lines.push(`  … and ${bad.length - 10} more tensors`);
  throw new NonFiniteWeightsError(
    `checkFiniteWeights(${source}): expected finite weights, got NaN/Infinity in ${bad.length} tensor(s):\n${lines.join('\n')}`,
    bad,
  );
}
