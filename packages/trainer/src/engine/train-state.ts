/**
 * The training run's state of record in plain buffers: the mask decoder's trainable tensors and
 * Adam's moments as flat float32 vectors in one layout (`flat-layout.ts`: checkpoint keys in a fixed
 * order, row-major each), plus Adam's step counts. The trainer owns it; an engine `load`s it when a
 * run starts (or resumes) and writes it back with `read` before checkpoints, validation and
 * interrupts. Checkpoints and the run state file are written from it, whichever engine trained.
 */
import { toFloat32, type FloatTensor, type WeightMap } from '@samtune/tensor';
import { isTrainableDecoderKey } from '@samtune/sam-model';
import { FlatLayout } from './flat-layout.js';
import { TrainStepError, type AdamState } from './types.js';

/** A tensor by key as the layout copies it in (`shape` for messages, `data` row-major). */
type TensorLike = { readonly shape: readonly number[]; readonly data: ArrayLike<number> };

/** Weights, Adam moments and step counts of the trainable decoder tensors (see the module comment). */
export class TrainState {
  readonly layout: FlatLayout;
  /** The trainable tensors, flat. */
  readonly params: Float32Array;
  /** Adam's first moments, flat. */
  readonly m: Float32Array;
  /** Adam's second moments, flat. */
  readonly v: Float32Array;
  /** Adam's bias-correction step count per slot of the layout (torch counts per parameter). */
  readonly counts: Float64Array;
  /** Number of optimizer steps taken. */
  steps = 0;

  /** @param decoder the trainable tensors (`mask_decoder.*`, the layout's order is the map's). */
  constructor(decoder: ReadonlyMap<string, TensorLike>) {
    if (decoder.size === 0) throw new TrainStepError('new TrainState(decoder): no trainable tensors, got an empty map');
    this.layout = new FlatLayout([...decoder].map(([k, t]) => [k, t.shape] as const));
    const n = this.layout.size;
    [this.params, this.m, this.v] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    this.counts = new Float64Array(this.layout.slots.length);
    this.layout.fill(this.params, decoder);
  }

  /**
   * The state of a fresh run: the trainable `mask_decoder.*` tensors of a checkpoint
   * (`isTrainableDecoderKey`: SAM 2.1's `conv_s0`/`conv_s1` stay frozen), Adam's moments zero.
   */
  static fromCheckpoint(weights: WeightMap): TrainState {
    const decoder = [...weights].filter(([k]) => isTrainableDecoderKey(k));
    return new TrainState(new Map(decoder.map(([k, t]) => [k, toFloat32(t)])));
  }

  /** Copies of the trainable tensors by checkpoint key. */
  weights(): Map<string, FloatTensor> {
    return this.layout.tensors(this.params);
  }

  /** Overwrites the trainable tensors (every key of the layout, same sizes; other keys are ignored). */
  setWeights(weights: WeightMap | ReadonlyMap<string, FloatTensor>): void {
    this.layout.fill(this.params, new Map([...weights].map(([k, t]) => [k, toFloat32(t)])));
  }

  /** Adam's state in the run-state file's format (`checkpoints.ts`). */
  adamState(): AdamState {
    const m = this.layout.tensors(this.m);
    const v = this.layout.tensors(this.v);
    const keys = this.layout.slots.map((s) => s.key);
    return {
      step: this.steps,
      steps: Object.fromEntries(keys.map((k, i) => [k, this.counts[i] as number])),
      m: Object.fromEntries(keys.map((k) => [k, (m.get(k) as FloatTensor).data])),
      v: Object.fromEntries(keys.map((k) => [k, (v.get(k) as FloatTensor).data])),
    };
  }

  /** Restores Adam's state (every key of the layout, same sizes). */
  loadAdamState(state: AdamState): void {
    const wrap = (r: Record<string, Float32Array>): Map<string, TensorLike> =>
      new Map(Object.entries(r).map(([k, d]) => [k, { shape: [d.length], data: d }]));
    const counts = this.layout.slots.map((s) => state.steps[s.key]);
    const missing = this.layout.slots.find((_, i) => counts[i] === undefined);
    if (missing)
      throw new TrainStepError(`TrainState.loadAdamState(state): no step count for '${missing.key}' in the state`);
    this.layout.fill(this.m, wrap(state.m));
    this.layout.fill(this.v, wrap(state.v));
    this.counts.set(counts as number[]);
    this.steps = state.step;
  }

  /** The common step count of every slot; throws when they differ (an engine that steps all at once). */
  uniformCount(fn: string): number {
    const set = new Set(this.counts);
    if (set.size !== 1)
      throw new TrainStepError(
        `${fn}(state): every trainable key needs the same Adam step count, got ${[...set].join(', ')}`,
      );
    return [...set][0] as number;
  }
}
