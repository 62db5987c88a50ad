/**
 * Calibration: runs the FP32 model on the user's samples with the activation tensors to quantize
 * added as extra graph outputs, and accumulates their statistics (`TensorStats`: exact min/max and
 * a histogram). Ranges per method then come from the same statistics:
 * - `minmax`: `[min, max]` over all samples;
 * - `percentile`: `[q(1-p/100), q(p/100)]` of all values seen (p default 99.99);
 * - `entropy`: TensorRT's KL-divergence threshold.
 * Deterministic: same model, same samples in the same order → identical ranges.
 */
import { createSession, encodeModel, DataType } from '@samtune/onnx';
import type { HostTensor } from '@samtune/sam-model';
import type { ModelProto, SessionOptions } from '@samtune/onnx';
import { TensorStats, DEFAULT_BINS } from './histogram.js';
import type { TensorRange } from './histogram.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Calibration methods. */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';

/** Inputs of one model run, by graph input name. */
export type Feeds = Readonly<Record<string, HostTensor>>;

/** Default percentile of `percentile` calibration. */
export const DEFAULT_PERCENTILE = 99.99;

/** Thrown when calibration cannot run (no samples, a tensor missing from the model, a failing run). */
export class CalibrationError extends SamtuneError {
  readonly code: string = 'calibration';
  readonly kind: ErrorKind = 'input';
}

export interface CalibrateOptions {
  /** Collect histograms (needed by `percentile` and `entropy`). Default true. */
  readonly histograms?: boolean;
  /** Histogram bins. Default 4096. */
  readonly bins?: number;
  /** Activation tensors fetched per run (bounds memory on big models; more → several runs per sample). Default all. */
  readonly tensorsPerRun?: number;
  /** onnxruntime session options (threads). */
  readonly session?: SessionOptions;
  /** Called after each sample. */
  readonly onProgress?: (done: number) => void;
}

/** Statistics of every calibrated tensor. */
export interface CalibrationStats {
  readonly stats: ReadonlyMap<string, TensorStats>;
  readonly samples: number;
}

/** The model with `tensors` added as float graph outputs (those that are not outputs already). */
export function withExtraOutputs(model: ModelProto, tensors: readonly string[]): ModelProto {
  const have = new Set(model.graph.output.map((o) => o.name));
  const extra = tensors.filter((t) => !have.has(t)).map((name) => ({ name, elemType: DataType.FLOAT }));
  return { ...model, graph: { ...model.graph, output: [...model.graph.output, ...extra] } };
}

/**
 * Runs the model on every sample and collects the statistics of `tensors` (graph inputs are read
 * from the feeds directly).
 */
export async function collectStats(
  model: ModelProto,
  tensors: readonly string[],
  samples: Iterable<Feeds> | AsyncIterable<Feeds>,
  options: CalibrateOptions = {},
): Promise<CalibrationStats> {
  const inputs = new Set(model.graph.input.map((v) => v.name));
  const produced = new Set(model.graph.node.flatMap((n) => n.output));
  const missing = tensors.filter((t) => !inputs.has(t) && !produced.has(t));
  if (missing.length > 0)
    throw new CalibrationError(
      `collectStats(tensors): ${missing.length} tensor(s) are not produced by the model: ${missing.slice(0, 5).join(', ')}`,
    );
  const histograms = options.histograms ?? true;
  const stats = new Map(tensors.map((t) => [t, new TensorStats(t, histograms, options.bins ?? DEFAULT_BINS)]));
  const fromFeeds = tensors.filter((t) => inputs.has(t));
  const fetched = tensors.filter((t) => !inputs.has(t));
  const per = Math.max(1, options.tensorsPerRun ?? fetched.length);
  const groups: string[][] = [];
  for (let i = 0; i < fetched.length; i += per) groups.push(fetched.slice(i, i + per));
  const session = await createSession(encodeModel(withExtraOutputs(model, fetched)), options.session);
  let n = 0;
  try {
    for await (const feeds of samples) {
      for (const t of fromFeeds) {
        const v = feeds[t];
        if (!v || v.dtype !== 'float32')
          throw new CalibrationError(`collectStats(samples): sample ${n} has no float32 input '${t}'`);
        const st = stats.get(t) as TensorStats;
        st.observeShape(v.shape);
        st.update(v.data as Float32Array);
      }
      for (const group of groups) {
        const out = await session.run(feeds, group);
        for (const t of group) {
          const v = out[t] as HostTensor<'float32'>;
          const st = stats.get(t) as TensorStats;
          st.observeShape(v.shape);
          st.update(v.data);
        }
      }
      n++;
      options.onProgress?.(n);
    }
  } finally {
    await session.release();
  }
  if (n === 0) throw new CalibrationError('collectStats(samples): no calibration samples were given');
  return { stats, samples: n };
}

/** A tensor's shape as calibration saw it: the first sample's dims, and the axes that varied. */
export interface ObservedShape {
  readonly shape: readonly number[];
  readonly varyingAxes: ReadonlySet<number>;
}

/** Observed shapes of every calibrated tensor. */
export function observedShapes(stats: CalibrationStats): Map<string, ObservedShape> {
  const out = new Map<string, ObservedShape>();
  for (const [name, s] of stats.stats) if (s.shape) out.set(name, { shape: s.shape, varyingAxes: s.varyingAxes });
  return out;
}

/** Ranges of every tensor for a method (see the module comment). */
export function rangesFrom(
  stats: CalibrationStats,
  method: CalibrationMethod,
  percentile = DEFAULT_PERCENTILE,
): Map<string, TensorRange> {
  const out = new Map<string, TensorRange>();
  for (const [name, s] of stats.stats) {
    out.set(
      name,
      method === 'minmax' ? s.minMax() : method === 'percentile' ? s.percentileRange(percentile) : s.entropyRange(),
    );
  }
  return out;
}
