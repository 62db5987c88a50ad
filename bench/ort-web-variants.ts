/**
 * What `bench:ort-web-ops` runs in onnxruntime-web: the page's prompt graph in its forms, and
 * one-op models of the shapes a click runs (random inputs), each with the multiply-adds it does.
 */
import { recordPromptGraph, WasmGraphOps, type SamConfig, type WeightMap } from '@samtune/sam-model';
import { OnnxGraphBuilder, OnnxGraphOps, type OnnxValue } from '@samtune/onnx';

/** One model the bench times; `threads`: the page (onnxruntime-web instance) it runs in. */
export interface Variant {
  readonly name: string;
  readonly what: string;
  readonly threads: number;
  /** Builds the model (cached by `model`). */
  readonly model: string;
  readonly build: (config: SamConfig, weights: WeightMap) => Uint8Array;
  /** Random float32 inputs by name and shape; absent: the prompt graph's feeds. */
  readonly feeds?: Readonly<Record<string, readonly number[]>>;
  /** Multiply-adds per run (GEMMs), or the elements an elementwise chain touches (`elements`). */
  readonly macs?: number;
  readonly elements?: number;
}

let seed = 7;
const rnd = (n: number): Float32Array =>
  new Float32Array(n).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 0.2 - 0.1);
const weight = (ops: OnnxGraphOps, shape: readonly number[]): OnnxValue =>
  ops.constant(rnd(shape.reduce((a, b) => a * b, 1)), shape);
const CHAIN = 10;

/** A model on random `feeds`: `f` once, or `CHAIN` times in a row with `chain` (the input copy amortized). */
function micro(
  name: string,
  what: string,
  feeds: Record<string, number[]>,
  f: (ops: OnnxGraphOps, x: OnnxValue[]) => OnnxValue,
  opts: { chain?: boolean; wasm?: boolean; macs?: number } = {},
): Variant {
  const n = Object.values(feeds)[0]!.reduce((a, b) => a * b, 1);
  return {
    name,
    what,
    threads: 1,
    model: name,
    feeds,
    ...(opts.macs ? { macs: opts.macs } : { elements: n * (opts.chain ? CHAIN : 1) }),
    build: () => {
      const ops = new (opts.wasm ? WasmGraphOps : OnnxGraphOps)(new Map(), new OnnxGraphBuilder({ name, opset: 17 }));
      const xs = Object.entries(feeds).map(([k, s]) => ops.input(k, s));
      let y = f(ops, xs);
      for (let i = 1; opts.chain && i < CHAIN; i++) y = f(ops, [y, ...xs.slice(1)]);
      ops.output('y', y);
      return ops.builder.toModelBytes();
    },
  };
}

const serverForm = (c: SamConfig, w: WeightMap): Uint8Array =>
  recordPromptGraph(c, w, { cropHead: true }).builder.toModelBytes();
const pageForm = (c: SamConfig, w: WeightMap): Uint8Array =>
  recordPromptGraph(c, w, { cropHead: true, wasm: true, tanhGelu: true }).builder.toModelBytes();
const exactForm = (c: SamConfig, w: WeightMap): Uint8Array =>
  recordPromptGraph(c, w, { cropHead: true, wasm: true }).builder.toModelBytes();
const ln = (o: OnnxGraphOps, x: OnnxValue, c: number): OnnxValue =>
  o.layerNorm(x, weight(o, [c]), weight(o, [c]), 1e-6);
const ms = (o: OnnxGraphOps, v: OnnxValue): OnnxValue => o.emit('Gelu', [v], v.shape, {}, 'com.microsoft');
const unary =
  (op: 'Erf' | 'Tanh') =>
  (o: OnnxGraphOps, [v]: OnnxValue[]) =>
    o.emit(op, [v!], v!.shape);

/** The prompt-graph forms, alternated click by click (threads 2: a second page). */
export const GRAPH_VARIANTS: readonly Variant[] = [
  {
    name: 'page',
    what: 'prompt graph, page form (`wasm: true, tanhGelu: true`), 1 thread',
    threads: 1,
    model: 'page',
    build: pageForm,
  },
  {
    name: 'exact',
    what: 'page form with the erf GELUs (`wasm: true`), 1 thread',
    threads: 1,
    model: 'exact',
    build: exactForm,
  },
  {
    name: 'before',
    what: 'prompt graph before (LayerNormalization kernels, erf GELUs), 1 thread',
    threads: 1,
    model: 'before',
    build: serverForm,
  },
  { name: 'page-t2', what: 'prompt graph, page form, 2 threads', threads: 2, model: 'page', build: pageForm },
];

/** One-op models of a click's shapes (`[56,…]`: 8 heads x 7 tokens; `[2816,…]`: the cropped head's pixels). */
export const OP_VARIANTS: readonly Variant[] = [
  micro(
    'copy-in',
    "the image side's 4 inputs (10.5 MB) copied in, one value out (a click's input copy)",
    { image_keys: [1, 4096, 256], t2i_k: [1, 4096, 128], t2i_v: [1, 4096, 128], i2t_q: [1, 4096, 128] },
    (o, xs) => {
      const first = (x: OnnxValue): OnnxValue => o.slice(o.slice(x, 1, 0, 1), 2, 0, 1);
      return xs.slice(1).reduce((a, x) => o.add(a, first(x)), first(xs[0]!));
    },
  ),
  micro(
    'gemm-head',
    'MatMul [2816,256] x [256,256] (weight)',
    { x: [2816, 256] },
    (o, [x]) => o.matmul(x!, weight(o, [256, 256])),
    {
      macs: 2816 * 256 * 256,
    },
  ),
  micro(
    'mm-attn-v',
    'MatMul [56,4096] x [4096,256]',
    { a: [1, 56, 4096], b: [1, 4096, 256] },
    (o, [a, b]) => o.matmul(a!, b!),
    {
      macs: 56 * 4096 * 256,
    },
  ),
  micro(
    'mm-attn-v-t',
    'MatMul [256,4096] x [4096,56] (the transpose)',
    { a: [1, 256, 4096], b: [1, 4096, 56] },
    (o, [a, b]) => o.matmul(a!, b!),
    {
      macs: 56 * 4096 * 256,
    },
  ),
  micro(
    'mm-logits',
    'MatMul [4096,256] x [256,56]',
    { a: [1, 4096, 256], b: [1, 256, 56] },
    (o, [a, b]) => o.matmul(a!, b!),
    {
      macs: 56 * 4096 * 256,
    },
  ),
  micro('ln256', 'LayerNormalization [4096,256] (kernel)', { x: [1, 4096, 256] }, (o, [x]) => ln(o, x!, 256), {
    chain: true,
  }),
  micro(
    'ln256-page',
    'LayerNorm [4096,256] as ReduceMean + elementwise (page form)',
    { x: [1, 4096, 256] },
    (o, [x]) => ln(o, x!, 256),
    {
      chain: true,
      wasm: true,
    },
  ),
  micro('ln64', 'LayerNormalization [11264,64] (kernel)', { x: [1, 11264, 64] }, (o, [x]) => ln(o, x!, 64), {
    chain: true,
  }),
  micro(
    'ln64-page',
    'LayerNorm [11264,64] as ReduceMean + elementwise (page form)',
    { x: [1, 11264, 64] },
    (o, [x]) => ln(o, x!, 64),
    {
      chain: true,
      wasm: true,
    },
  ),
  micro('gelu', 'Gelu (com.microsoft) [45056,32]', { x: [1, 45056, 32] }, (o, [x]) => ms(o, x!), { chain: true }),
  micro(
    'fastgelu',
    'FastGelu (com.microsoft, tanh form) [45056,32]',
    { x: [1, 45056, 32] },
    (o, [x]) => o.emit('FastGelu', [x!], x!.shape, {}, 'com.microsoft'),
    { chain: true },
  ),
  micro('erf', 'Erf [45056,32]', { x: [1, 45056, 32] }, unary('Erf'), { chain: true }),
  micro('tanh', 'Tanh [45056,32]', { x: [1, 45056, 32] }, unary('Tanh'), { chain: true }),
  micro('add', 'Add (scalar) [45056,32]', { x: [1, 45056, 32] }, (o, [x]) => o.addScalar(x!, 1e-3), { chain: true }),
];
