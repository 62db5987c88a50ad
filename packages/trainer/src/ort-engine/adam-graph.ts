/**
 * `torch.optim.Adam` (amsgrad off) over ONE flat float32 vector of all trainable values, as a small
 * ONNX graph: `engine/adam-update.ts`' `adamUpdate` (the definition the tfjs `Adam` evaluates per
 * parameter) recorded once per chunk. The vector is cut into chunks (`adamChunks`) that the graph updates one after the other, each
 * through its own chain of element-wise ops: a chunk's intermediates (4 MB at `ADAM_CHUNK`) stay
 * in cache and in a small memory arena, where whole-vector passes stream 16 MB tensors through
 * memory 13 times. Inputs per chunk i `p.i, m.i, v.i, g.i [n_i]` (views of the flat buffers), and
 * `step_size [1]`, `bc2_sqrt [1]` (`sqrt(1 - beta2^t)`); outputs `p_out.i, m_out.i, v_out.i [n_i]`
 * (into other buffers than the inputs: the caller swaps them).
 */
import {
  BoundOrtSession,
  OnnxGraphBuilder,
  OnnxGraphOps,
  boundTensor,
  type BoundTensor,
  type OnnxValue,
} from '@samtune/onnx';
import { adamScalars, adamUpdate } from '../engine/adam-update.js';
import { TrainStepError } from '../engine/types.js';

/** Adam hyper-parameters that are constants of the graph (lr and t are inputs). */
export interface AdamGraphHyper {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** Values per chunk (1 Mi floats = 4 MB). */
export const ADAM_CHUNK = 1 << 20;

/** Graph value names of the Adam graph (per-chunk names take the chunk index). */
export const ADAM_IO = {
  p: (i: number) => `p.${i}`,
  m: (i: number) => `m.${i}`,
  v: (i: number) => `v.${i}`,
  g: (i: number) => `g.${i}`,
  pOut: (i: number) => `p_out.${i}`,
  mOut: (i: number) => `m_out.${i}`,
  vOut: (i: number) => `v_out.${i}`,
  stepSize: 'step_size',
  bc2Sqrt: 'bc2_sqrt',
} as const;

/** `[offset, length]` of each chunk of a flat vector of `size` values. */
export function adamChunks(size: number, chunk = ADAM_CHUNK): (readonly [number, number])[] {
  const out: (readonly [number, number])[] = [];
  for (let o = 0; o < size; o += chunk) out.push([o, Math.min(chunk, size - o)]);
  return out;
}

/** The serialized Adam model for chunks of `lengths[i]` values. */
export function adamModelBytes(lengths: readonly number[], h: AdamGraphHyper): Uint8Array {
  const ops = new OnnxGraphOps(new Map(), new OnnxGraphBuilder({ name: 'samtune_adam' }));
  const stepSize = ops.input(ADAM_IO.stepSize, [1]);
  const bc2 = ops.input(ADAM_IO.bc2Sqrt, [1]);
  lengths.forEach((n, i) => {
    const [p, m, v, g] = [ADAM_IO.p, ADAM_IO.m, ADAM_IO.v, ADAM_IO.g].map((name) => ops.input(name(i), [n])) as [
      OnnxValue,
      OnnxValue,
      OnnxValue,
      OnnxValue,
    ];
    const out = adamUpdate(ops, { p, m, v, g }, stepSize, bc2, h);
    ops.output(ADAM_IO.pOut(i), out.p);
    ops.output(ADAM_IO.mOut(i), out.m);
    ops.output(ADAM_IO.vOut(i), out.v);
  });
  return ops.builder.toModelBytes();
}

/** The buffers of one Adam update: inputs, and the outputs it writes (other buffers than the inputs). */
export interface AdamBuffers {
  readonly p: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly g: Float32Array;
  readonly pOut: Float32Array;
  readonly mOut: Float32Array;
  readonly vOut: Float32Array;
}

/**
 * The Adam graph of a flat vector of `size` values in one ORT session (built on first use; it keeps
 * a memory arena, since its chunks' intermediates are small, ~40 MB, and would otherwise be mapped
 * afresh every step), with tensor handles over each chunk of every buffer it is given (made once
 * per buffer: pass long-lived buffers).
 */
export class ChunkedAdam {
  private readonly chunks: (readonly [number, number])[];
  private readonly handles = new Map<Float32Array, BoundTensor[]>();
  private session: BoundOrtSession | undefined;

  constructor(
    readonly size: number,
    private readonly hyper: AdamGraphHyper,
    private readonly options: { readonly intraOpThreads?: number; readonly spinning?: boolean } = {},
    chunk = ADAM_CHUNK,
  ) {
    this.chunks = adamChunks(size, chunk);
  }

  /** One update at step `t` (1-based) with learning rate `lr`. */
  run(b: AdamBuffers, t: number, lr: number): void {
    this.session ??= new BoundOrtSession(
      adamModelBytes(
        this.chunks.map(([, len]) => len),
        this.hyper,
      ),
      { ...this.options, cpuMemArena: true, label: 'adam' },
    );
    const { stepSize, bc2Sqrt } = adamScalars({ ...this.hyper, lr }, t);
    const feeds: Record<string, BoundTensor> = {
      [ADAM_IO.stepSize]: boundTensor(Float32Array.of(stepSize), [1]),
      [ADAM_IO.bc2Sqrt]: boundTensor(Float32Array.of(bc2Sqrt), [1]),
    };
    const fetches: Record<string, BoundTensor> = {};
    this.chunks.forEach((_, i) => {
      feeds[ADAM_IO.p(i)] = this.chunk(b.p, i);
      feeds[ADAM_IO.m(i)] = this.chunk(b.m, i);
      feeds[ADAM_IO.v(i)] = this.chunk(b.v, i);
      feeds[ADAM_IO.g(i)] = this.chunk(b.g, i);
      fetches[ADAM_IO.pOut(i)] = this.chunk(b.pOut, i);
      fetches[ADAM_IO.mOut(i)] = this.chunk(b.mOut, i);
      fetches[ADAM_IO.vOut(i)] = this.chunk(b.vOut, i);
    });
    this.session.run(feeds, fetches);
  }

  dispose(): void {
    this.session?.dispose();
    this.session = undefined;
  }

  private chunk(buf: Float32Array, i: number): BoundTensor {
    if (buf.length !== this.size)
      throw new TrainStepError(`ChunkedAdam.run(buffers): every buffer needs ${this.size} values, got ${buf.length}`);
    let h = this.handles.get(buf);
    if (!h) {
      h = this.chunks.map(([o, len]) => boundTensor(buf.subarray(o, o + len), [len]));
      this.handles.set(buf, h);
    }
    return h[i] as BoundTensor;
  }
}
