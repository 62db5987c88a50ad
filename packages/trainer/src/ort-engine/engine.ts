/**
 * `OrtTrainEngine`: the mask decoder's training step on onnxruntime-node, the `ort` training
 * engine (`engine/contract.ts`): it `load`s the trainer's `TrainState` once and trains its own copy.
 *
 * - State: the trainable tensors, Adam's moments and the gradient accumulator are flat float32
 *   vectors (`engine/flat-layout.ts`), each twice (ping-pong): a graph reads one copy and writes the other,
 *   then the roles swap. ORT reads and writes these buffers in place (pre-allocated outputs), so
 *   nothing is re-encoded between steps (onnxruntime-node's binding still copies each output once
 *   into an ArrayBuffer it returns: see `BoundOrtSession`).
 * - `accumulate(...)`: forward + loss + backward of one micro-batch of one image's prompts, adding
 *   `scale * grad` to the accumulator (inside the graph; a step's first micro-batch reads zeros). One session per (B, N), built on first use;
 *   the sessions of `memArenaBatches` keep a memory arena until `releaseArenas()`.
 * - `step()`: one Adam update (torch semantics, bias correction with the step count t) from the
 *   accumulated gradients, which are then cleared (`adam-graph.ts`, in 4 MB chunks).
 */
import { type BoundOrtSession, boundTensor, type BoundTensor } from '@samtune/onnx';
import { toFloat32, type FloatTensor, type HostTensor } from '@samtune/tensor';
import { ortEvalDecoder, sam2OrtEvalDecoder, type EvalDecoder } from '@samtune/evaluation';
import { derivedRng, slicePromptBatch } from '@samtune/training-data';
import {
  isSam2Config,
  isTrainableDecoderKey,
  type Sam2Config,
  type SamConfig,
  type WeightMap,
} from '@samtune/sam-model';
import type { SamLossConfig } from '@samtune/losses';
import {
  adamHyper,
  TrainStepError,
  type AdamOptions,
  type DecoderPromptBatch,
  type LossParts,
} from '../engine/types.js';
import type { TrainEngine } from '../engine/contract.js';
import type { TrainState } from '../engine/train-state.js';
import { isDefaultRecipe, type MicroBatchRecipe } from '../recipe/options.js';
import { nextClickPass } from '../recipe/clicks.js';
import { postprocessMatrices, type PostprocessMatrices } from '../recipe/postprocess-matrices.js';
import { ChunkedAdam } from './adam-graph.js';
import { FlatLayout } from '../engine/flat-layout.js';
import { TRAIN_INPUTS, trainShapeKey, type TrainGraphShape } from './training-graph.js';
import { SAM2_HIGH_RES_INPUTS } from './sam2-training-graph.js';
import {
  IOU_OUTPUT,
  MASKS_OUTPUT,
  PARTS_OUTPUT,
  accIn,
  accOut,
  loadTrainSession,
  recordTrainModel,
  type TrainModel,
} from './train-session.js';

/** Settings of the engine. */
export interface OrtTrainEngineOptions {
  /** SAM 1, or SAM 2.1 (the graphs then take the projected high-res features; see `accumulate`). */
  readonly config: SamConfig | Sam2Config;
  /** `prompt_encoder.*` (frozen, baked into the graphs) and `mask_decoder.*` (the initial values). */
  readonly weights: WeightMap;
  readonly adam?: AdamOptions;
  readonly loss?: SamLossConfig;
  /** ORT intra-op threads. Default 2. */
  readonly intraOpThreads?: number;
  /**
   * Let idle ORT threads spin-wait between ops (ORT's own default is true). Default false: on a shared
   * 2-core machine a spinning worker holds a core that the busy thread or another process needs: at
   * load 6-21 the step with spinning took 1.2-2.2x the time (bench/results/train-ab.md); the tfjs
   * engine's ORT kernels run without spinning too.
   */
  readonly spinning?: boolean;
  /**
   * The micro-batch sizes B whose training sessions keep onnxruntime's CPU memory arena: their
   * ~90 MB per prompt of activations are then reused run after run instead of freshly mapped (page
   * faults) each time, which takes ~0.7x the time (bench/results/train.md). When 1 is among them, a
   * micro-batch of another size (an image's remainder) runs prompt by prompt on the single-prompt
   * session (the same gradient sum), so no third shape maps fresh memory; otherwise it runs as one
   * session without an arena. `releaseArenas()` gives the memory back between epochs. Default none;
   * the trainer passes `[1, training.microBatch]` (config `runtime.ortArena`, default on).
   */
  readonly memArenaBatches?: readonly number[];
  /** Write ORT profiles with this prefix (one per session). */
  readonly profilePrefix?: string;
}

/** Time spent so far, in milliseconds, by part (for benchmarks and profiles). */
export interface EngineTimings {
  build: number;
  train: number;
  adam: number;
}

type Pair = [Float32Array, Float32Array];
const flip = (i: 0 | 1): 0 | 1 => (i === 0 ? 1 : 0);
const pair = (n: number): Pair => [new Float32Array(n), new Float32Array(n)];

export class OrtTrainEngine implements TrainEngine {
  readonly name = 'ort';
  readonly layout: FlatLayout;
  readonly timings: EngineTimings = { build: 0, train: 0, adam: 0 };
  private readonly p: Pair;
  private readonly m: Pair;
  private readonly v: Pair;
  private readonly g: Pair;
  /** Index of the current copy of p/m/v, and of the accumulator. */
  private cur: 0 | 1 = 0;
  private gcur: 0 | 1 = 0;
  private accEmpty = true;
  private t = 0;
  private stepCalls = 0;
  readonly lr: number;
  private readonly hyper: { beta1: number; beta2: number; eps: number; weightDecay: number };
  /** Recorded training models by `BxN`, and their loaded sessions (a released one is reloaded). */
  private readonly models = new Map<string, TrainModel>();
  private readonly sessions = new Map<string, BoundOrtSession>();
  private readonly adam: ChunkedAdam;
  /** Per-key tensor handles over each copy of p and of the accumulator. */
  private readonly pT: [Record<string, BoundTensor>, Record<string, BoundTensor>];
  private readonly gT: [Record<string, BoundTensor>, Record<string, BoundTensor>];
  /** Zeros, never written: the accumulator input of a step's first micro-batch (no clearing pass). */
  private readonly zeros: Float32Array;
  private readonly zeroT: Record<string, BoundTensor>;
  private readonly partsBuf = new Float32Array(5);
  private disposed = false;

  constructor(private readonly o: OrtTrainEngineOptions) {
    const shapes = [...o.weights].filter(([k]) => isTrainableDecoderKey(k)).map(([k, t]) => [k, t.shape] as const);
    if (shapes.length === 0)
      throw new TrainStepError(
        `new OrtTrainEngine(weights): no trainable 'mask_decoder.*' tensors among ${o.weights.size} keys`,
      );
    this.layout = new FlatLayout(shapes);
    const n = this.layout.size;
    [this.p, this.m, this.v, this.g] = [pair(n), pair(n), pair(n), pair(n)];
    this.layout.fill(this.p[0], new Map(shapes.map(([k]) => [k, toFloat32(o.weights.get(k) as HostTensor)])));
    const { lr, ...hyper } = adamHyper(o.adam);
    this.lr = lr;
    this.hyper = hyper;
    const handles = (buf: Float32Array): Record<string, BoundTensor> =>
      Object.fromEntries(this.layout.slots.map((s) => [s.key, tensor(this.layout.view(buf, s.key), s.shape)]));
    this.pT = [handles(this.p[0]), handles(this.p[1])];
    this.gT = [handles(this.g[0]), handles(this.g[1])];
    this.zeros = new Float32Array(n);
    this.zeroT = handles(this.zeros);
    this.adam = new ChunkedAdam(n, this.hyper, {
      intraOpThreads: o.intraOpThreads ?? 2,
      spinning: o.spinning ?? false,
    });
  }

  /** Number of Adam steps taken (torch's per-parameter `step`, the same for every key here). */
  get iterations(): number {
    return this.t;
  }

  /** The model and session of a micro-batch shape (recorded and loaded on first use). */
  private session(shape: TrainGraphShape): { model: TrainModel; session: BoundOrtSession } {
    const key = trainShapeKey(shape);
    const batch = shape.batch;
    let model = this.models.get(key);
    let session = this.sessions.get(key);
    if (!model || !session) {
      const t0 = performance.now();
      if (!model) {
        model = recordTrainModel(this.o.config, this.o.weights, shape, this.o.loss ?? {});
        for (const k of model.paramKeys) this.layout.slot(k);
        this.models.set(key, model);
      }
      session = loadTrainSession(model, {
        intraOpThreads: this.o.intraOpThreads ?? 2,
        cpuMemArena: this.arenaBatch(batch),
        spinning: this.o.spinning ?? false,
        ...(this.o.profilePrefix ? { profilePrefix: `${this.o.profilePrefix}-train-${key}` } : {}),
      });
      this.sessions.set(key, session);
      this.timings.build += performance.now() - t0;
    }
    return { model, session };
  }

  private arenaBatch(batch: number): boolean {
    return this.o.memArenaBatches?.includes(batch) ?? false;
  }

  /**
   * Releases the sessions that keep a memory arena (their memory goes back to the system; the next
   * micro-batch of that size reloads the recorded model, ~0.3 s on 2 cores). The trainer calls it when an
   * epoch's training pass ends, so that the arena and the validation pass do not hold memory at once.
   */
  releaseArenas(): void {
    for (const [key, session] of this.sessions)
      if (this.arenaBatch((this.models.get(key) as TrainModel).shape.batch)) {
        session.dispose();
        this.sessions.delete(key);
      }
  }

  /**
   * Forward + backward of one micro-batch; adds `scale * d loss / d theta` to the accumulator.
   * @param embedding `[1,256,64,64]` image embedding of the image the prompts belong to
   * @param targets `[B,1,256,256]` 0/1 low-res targets, row-major
   * @param scale `B_micro / B_batch` (so accumulated gradients are those of the batch mean)
   * @param highResFeats SAM 2.1 (required there): the projected `high_res_feats.0/.1` of the image
   * @returns the unscaled loss parts (means over the micro-batch)
   */
  accumulate(
    embedding: FloatTensor,
    batch: DecoderPromptBatch,
    targets: Float32Array,
    scale: number,
    recipe?: MicroBatchRecipe,
    highResFeats?: readonly [FloatTensor, FloatTensor],
  ): LossParts {
    this.alive('accumulate');
    const b = batch.size;
    if (targets.length !== b * 65536)
      throw new TrainStepError(
        `OrtTrainEngine.accumulate(targets): expected [${b},1,256,256] = ${b * 65536} values, got ${targets.length}`,
      );
    const sam2 = isSam2Config(this.o.config);
    if (sam2 && !highResFeats)
      throw new TrainStepError(
        "OrtTrainEngine.accumulate(highResFeats): a SAM 2.1 model needs the image's high_res_feats.0/.1, got none",
      );
    const highRes = sam2 ? highResFeats : undefined;
    if (recipe && !isDefaultRecipe(recipe.recipe)) {
      if (sam2)
        throw new TrainStepError(
          'OrtTrainEngine.accumulate(recipe): simulated clicks and loss.resolution original are SAM 1 only, got them for a SAM 2.1 model',
        );
      return this.accumulateRecipe(embedding, batch, targets, scale, recipe);
    }
    if (b === 1 || this.arenaBatch(b) || !this.arenaBatch(1))
      return this.run(embedding.data, batch, targets, scale, { ...(highRes ? { highRes } : {}) }).parts;
    // a size without an arena while single prompts have one: prompt by prompt, on that arena (the
    // same gradient sum; no fresh activation memory for one more shape)
    const sum = { loss: 0, focal: 0, dice: 0, iou: 0, ...(highRes ? { class: 0 } : {}) };
    for (let i = 0; i < b; i++) {
      const { parts } = this.run(
        embedding.data,
        slicePromptBatch(batch, i, i + 1),
        targets.subarray(i * 65536, (i + 1) * 65536),
        scale / b,
        { ...(highRes ? { highRes } : {}) },
      );
      for (const k of ['loss', 'focal', 'dice', 'iou', 'class'] as const)
        if (sum[k] !== undefined) sum[k] += (parts[k] ?? 0) / b;
    }
    return sum;
  }

  /**
   * The recipe (`recipe/`) on one micro-batch: `iterations + 1` passes, each one session run whose
   * gradient is scaled by `1 / passes` (the loss is the mean over the passes); after a pass, the
   * output of highest predicted IoU becomes the next pass's `mask_input` and one click from its error
   * region is appended (`nextClickPass`, the same draws as the tfjs engine's for the same seed). With
   * `loss.resolution original` the graphs post-process the logits to the original size
   * (`postprocessMatrices`) and take the original-size targets.
   */
  private accumulateRecipe(
    embedding: FloatTensor,
    batch: DecoderPromptBatch,
    targets: Float32Array,
    scale: number,
    r: MicroBatchRecipe,
  ): LossParts {
    const passes = r.recipe.iterations + 1;
    const rng = derivedRng(r.seed, ...r.labels);
    const post = r.recipe.resolution === 'original' ? postprocessMatrices(r.geometry) : undefined;
    const lossTargets = post ? (r.originalTargets as Float32Array) : targets;
    const sum = { loss: 0, focal: 0, dice: 0, iou: 0 };
    let current = batch;
    let maskInput: Float32Array | undefined;
    for (let pass = 0; pass < passes; pass++) {
      const last = pass === passes - 1;
      const out = this.run(embedding.data, current, lossTargets, scale / passes, {
        ...(maskInput ? { maskInput } : {}),
        ...(post ? { post } : {}),
        outputs: !last,
      });
      for (const k of ['loss', 'focal', 'dice', 'iou'] as const) sum[k] += out.parts[k] / passes;
      if (last) break;
      const m = (out.iou as Float32Array).length / current.size;
      const next = nextClickPass(current, out.masks as Float32Array, out.iou as Float32Array, m, {
        lowResTargets: targets,
        geometry: r.geometry,
        rng,
      });
      current = next.batch;
      maskInput = next.maskInput;
    }
    return sum;
  }

  /** `accumulate` of a checked micro-batch, in one session run. */
  private run(
    embedding: Float32Array,
    batch: DecoderPromptBatch,
    targets: Float32Array,
    scale: number,
    extra: {
      maskInput?: Float32Array;
      post?: PostprocessMatrices;
      outputs?: boolean;
      highRes?: readonly [FloatTensor, FloatTensor];
    } = {},
  ): { parts: LossParts; masks?: Float32Array; iou?: Float32Array } {
    const b = batch.size;
    const n = batch.numPoints;
    const box = batch.boxes !== undefined;
    const lossSize = extra.post?.originalSize;
    const shape: TrainGraphShape = {
      batch: b,
      numPoints: n,
      box,
      ...(extra.maskInput ? { maskInput: true } : {}),
      ...(lossSize ? { lossSize } : {}),
      ...(extra.outputs ? { outputs: true } : {}),
    };
    const { model, session } = this.session(shape);
    const t0 = performance.now();
    const [th, tw] = lossSize ?? [256, 256];
    const feeds: Record<string, BoundTensor> = {
      [TRAIN_INPUTS.embedding]: tensor(embedding, [1, 256, 64, 64]),
      [TRAIN_INPUTS.targets]: tensor(targets, [b, 1, th, tw]),
      [TRAIN_INPUTS.scale]: tensor(new Float32Array([scale]), [1]),
    };
    if (box) feeds[TRAIN_INPUTS.boxes] = tensor(batch.boxes as Float32Array, [b, 4]);
    if (n > 0) {
      feeds[TRAIN_INPUTS.coords] = tensor(batch.coords as Float32Array, [b, n, 2]);
      feeds[TRAIN_INPUTS.labels] = tensor(batch.labels as Float32Array, [b, n]);
    }
    if (extra.maskInput) feeds[TRAIN_INPUTS.maskInput] = tensor(extra.maskInput, [b, 1, 256, 256]);
    if (model.highRes && extra.highRes)
      extra.highRes.forEach((f, i) => (feeds[SAM2_HIGH_RES_INPUTS[i] as string] = tensor(f.data, f.shape)));
    if (extra.post) {
      feeds[TRAIN_INPUTS.lossRows] = tensor(extra.post.rows, [th, 256]);
      feeds[TRAIN_INPUTS.lossCols] = tensor(extra.post.cols, [tw, 256]);
    }
    const parts = this.partsBuf.subarray(0, model.partsCount);
    const fetches: Record<string, BoundTensor> = { [PARTS_OUTPUT]: tensor(parts, [model.partsCount]) };
    const m = model.masksPerPrompt;
    const masks = extra.outputs ? new Float32Array(b * m * 65536) : undefined;
    const iouOut = extra.outputs ? new Float32Array(b * m) : undefined;
    if (masks && iouOut) {
      fetches[MASKS_OUTPUT] = tensor(masks, [b, m, 256, 256]);
      fetches[IOU_OUTPUT] = tensor(iouOut, [b, m]);
    }
    const pIn = this.pT[this.cur];
    const gIn = this.accEmpty ? this.zeroT : this.gT[this.gcur];
    const gOut = this.gT[flip(this.gcur)];
    for (const k of model.paramKeys) {
      feeds[k] = pIn[k] as BoundTensor;
      feeds[accIn(k)] = gIn[k] as BoundTensor;
      fetches[accOut(k)] = gOut[k] as BoundTensor;
    }
    session.run(feeds, fetches);
    if (model.paramKeys.length < this.layout.slots.length) {
      // keys the graph does not take keep their accumulated value
      const used = new Set(model.paramKeys);
      const from = this.accEmpty ? this.zeros : this.g[this.gcur];
      for (const slot of this.layout.slots)
        if (!used.has(slot.key))
          this.layout.view(this.g[flip(this.gcur)], slot.key).set(this.layout.view(from, slot.key));
    }
    this.gcur = flip(this.gcur);
    this.accEmpty = false;
    this.timings.train += performance.now() - t0;
    const [loss, focal, dice, iou, cls] = parts as unknown as [number, number, number, number, number?];
    return {
      parts: { loss, focal, dice, iou, ...(model.partsCount > 4 ? { class: cls as number } : {}) },
      ...(masks ? { masks } : {}),
      ...(iouOut ? { iou: iouOut } : {}),
    };
  }

  /** True when nothing was accumulated since the last `step()`. */
  get empty(): boolean {
    return this.accEmpty;
  }

  /** One Adam update from the accumulated gradients (then cleared); `lr` overrides the configured rate. */
  step(lr = this.lr): void {
    this.alive('step');
    if (this.accEmpty)
      throw new TrainStepError('OrtTrainEngine.step(): no gradients were accumulated since the last step');
    const t0 = performance.now();
    this.t += 1;
    this.stepCalls += 1;
    const [c, nx] = [this.cur, flip(this.cur)];
    const g = this.g[this.gcur];
    this.adam.run(
      { p: this.p[c], m: this.m[c], v: this.v[c], g, pOut: this.p[nx], mOut: this.m[nx], vOut: this.v[nx] },
      this.t,
      lr,
    );
    this.cur = nx;
    this.accEmpty = true;
    this.timings.adam += performance.now() - t0;
  }

  /** Copies of the accumulated gradients (zeros when empty), by checkpoint key. */
  gradients(): Map<string, FloatTensor> {
    if (this.accEmpty) this.g[this.gcur].fill(0);
    return this.layout.tensors(this.g[this.gcur]);
  }

  /** Copies of the current mask-decoder tensors (checkpoint keys and shapes). */
  weights(): Map<string, FloatTensor> {
    return this.layout.tensors(this.p[this.cur]);
  }

  /** Overwrites the mask-decoder tensors (every trainable key, same shapes). */
  setWeights(
    weights: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>,
  ): void {
    this.layout.fill(this.p[this.cur], weights);
  }

  /** Takes the weights, moments and step counts of `state` (every slot the same step count). */
  load(state: TrainState): void {
    this.alive('load');
    this.t = state.uniformCount('OrtTrainEngine.load');
    this.stepCalls = state.steps;
    this.copy(
      state.layout,
      [state.params, state.m, state.v],
      this.layout,
      [this.p, this.m, this.v].map((x) => x[this.cur]),
    );
  }

  /** Writes the current weights, moments and step counts into `state`. */
  read(state: TrainState): void {
    this.copy(
      this.layout,
      [this.p, this.m, this.v].map((x) => x[this.cur]),
      state.layout,
      [state.params, state.m, state.v],
    );
    state.counts.fill(this.t);
    state.steps = this.stepCalls;
  }

  /**
   * Validation on onnxruntime from the current weights: SAM 1 `OrtDecoder` + the loss graph, SAM 2.1
   * `Sam2OrtDecoder` (`sam2OrtEvalDecoder`, loss NaN).
   */
  evalDecoder(): EvalDecoder {
    this.alive('evalDecoder');
    const weights = new Map([...this.o.weights, ...this.layout.tensors(this.p[this.cur])]);
    return isSam2Config(this.o.config)
      ? sam2OrtEvalDecoder(this.o.config, weights)
      : ortEvalDecoder(this.o.config, weights);
  }

  /** Frees the memory arenas kept between steps (`releaseArenas`). */
  endEpoch(): void {
    this.releaseArenas();
  }

  /** Copies flat buffers between two layouts of the same keys (one copy each when the layouts agree). */
  private copy(from: FlatLayout, src: Float32Array[], to: FlatLayout, dst: Float32Array[]): void {
    const same = from.size === to.size && from.slots.every((s, i) => s.key === to.slots[i]?.key);
    src.forEach((buf, i) => {
      const out = dst[i] as Float32Array;
      if (same) out.set(buf);
      else to.fill(out, from.tensors(buf));
    });
  }

  /** Releases every ORT session. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
    this.adam.dispose();
  }

  /** Flushes the ORT profiles (engines built with `profilePrefix`). */
  endProfiling(): void {
    for (const s of this.sessions.values()) s.endProfiling();
  }

  private alive(fn: string): void {
    if (this.disposed) throw new TrainStepError(`OrtTrainEngine.${fn}(): the engine was disposed`);
  }
}

function tensor(data: Float32Array, dims: readonly number[]): BoundTensor {
  return boundTensor(data, dims);
}
