/**
 * onnxruntime-node sessions behind a small API: host tensors in, float32 host tensors out.
 * The only onnxruntime importer in sam-model (the export package is the other one in the repo).
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { DType, FloatTensor, HostTensor } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when an input is missing, unknown, or has the wrong shape or dtype (names it, expected vs got). */
export class SessionInputError extends SamtuneError {
  readonly code: string = 'session-input';
  readonly kind: ErrorKind = 'input';
}

/** Thrown when onnxruntime cannot load the model or a run fails (wraps its message). */
export class SessionError extends SamtuneError {
  readonly code: string = 'session';
  readonly kind: ErrorKind = 'internal';
}

export interface SessionOptions {
  /** Threads inside one op. Default `os.availableParallelism()`. */
  intraOpNumThreads?: number;
  /** Default `'all'`. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Execution providers by name, in order of preference. Default `['cpu']`. `'cuda'` needs
   * onnxruntime-node's CUDA build (and a CUDA GPU); it is untested in this project (no GPU here).
   */
  executionProviders?: readonly string[];
  /**
   * ORT graph transformers to skip, by name (session config `optimization.disable_specified_optimizers`),
   * e.g. `SkipLayerNormFusion`: its CPU kernel takes ~10x the separate Add + LayerNormalization on
   * SAM's `[1,4096,256]` residuals (profiled in the decoder's prompt graph). Default none.
   */
  disabledOptimizers?: readonly string[];
  /**
   * Let idle intra-op threads spin-wait between ops (ORT's own default true). False frees the core at
   * once: on a shared machine a spinning worker holds a core that another process needs. Default true.
   */
  spinning?: boolean;
  /**
   * ORT's memory pattern (`enableMemPattern`, ORT's default true): from the second run on, one block
   * sized by the first run's allocations. That block is fresh memory, so the SECOND run pays for
   * page faults again (TinyViT encoder: ~55K faults, ~220 MB); false keeps the first run's arena
   * chunks, which later runs reuse. Default ORT's.
   */
  memPattern?: boolean;
}

/** A model input or output: dims are numbers, or strings for symbolic (dynamic) dims. */
export interface ValueSignature {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[];
}

export interface Session {
  readonly inputs: readonly ValueSignature[];
  readonly outputs: readonly ValueSignature[];
  /**
   * Runs the model. Every model input must be given, with its declared dtype and shape (symbolic
   * dims match any size). Returns the requested outputs (default all) as float32 host tensors.
   */
  run(
    inputs: Readonly<Record<string, HostTensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, FloatTensor>>;
  /**
   * Like `run`, but every output keeps its own dtype (uint8/bool as `Uint8Array`, int64 as
   * `BigInt64Array`, …): no per-element conversion.
   */
  runTyped(
    inputs: Readonly<Record<string, HostTensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, HostTensor>>;
  /** Frees the native session; `run` afterwards throws. */
  release(): Promise<void>;
}

/** The dtypes sessions exchange; samtune's `DType` names equal onnxruntime's tensor type names. */
const SESSION_DTYPES: ReadonlySet<string> = new Set<DType>(['float32', 'int64', 'int32', 'uint8', 'int8', 'bool']);
const fmt = (s: readonly (number | string)[]): string => `[${s.join(',')}]`;

function signature(m: ort.InferenceSession.ValueMetadata): ValueSignature {
  return m.isTensor
    ? { name: m.name, dtype: m.type, shape: [...m.shape] }
    : { name: m.name, dtype: 'non-tensor', shape: [] };
}

function toOrt(name: string, t: HostTensor, sig: ValueSignature): ort.Tensor {
  const type = t.dtype;
  if (!SESSION_DTYPES.has(type) || type !== sig.dtype) {
    throw new SessionInputError(
      `Session.run(inputs): input '${name}' must be ${sig.dtype} ${fmt(sig.shape)}, got ${t.dtype} [${t.shape.join(',')}]`,
    );
  }
  const rankOk = sig.shape.length === t.shape.length;
  const dimsOk = rankOk && sig.shape.every((d, i) => typeof d === 'string' || d < 0 || d === t.shape[i]);
  if (!dimsOk) {
    throw new SessionInputError(
      `Session.run(inputs): input '${name}' must have shape ${fmt(sig.shape)}, got [${t.shape.join(',')}]`,
    );
  }
  return new ort.Tensor(type as 'float32', t.data as Float32Array, [...t.shape]);
}

function toHostTyped(name: string, v: ort.OnnxValue): HostTensor {
  if (!(v instanceof ort.Tensor)) throw new SessionError(`Session.run(): output '${name}' is not a tensor`);
  const dtype = v.type as DType;
  if (!SESSION_DTYPES.has(dtype))
    throw new SessionError(`Session.runTyped(): output '${name}' has unsupported dtype ${v.type}`);
  const data =
    v.type === 'bool'
      ? new Uint8Array((v.data as Uint8Array).buffer, (v.data as Uint8Array).byteOffset, v.size)
      : v.data;
  return { dtype, shape: v.dims.map(Number), data } as HostTensor;
}

function toHost(name: string, v: ort.OnnxValue): FloatTensor {
  if (!(v instanceof ort.Tensor)) throw new SessionError(`Session.run(): output '${name}' is not a tensor`);
  const shape = v.dims.map(Number);
  if (v.type === 'float32') return { dtype: 'float32', shape, data: v.data as Float32Array };
  const src = v.data as ArrayLike<number | bigint | boolean>;
  const out = new Float32Array(src.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(src[i]);
  return { dtype: 'float32', shape, data: out };
}

/**
 * Loads a model from its bytes or a `.onnx` path (a path is needed when initializers are stored
 * externally: the `.data` file is found beside it).
 */
export async function createSession(model: Uint8Array | string, opts: SessionOptions = {}): Promise<Session> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.intraOpNumThreads ?? availableParallelism(),
    graphOptimizationLevel: opts.graphOptimizationLevel ?? 'all',
    executionProviders: [...(opts.executionProviders ?? ['cpu'])],
  };
  if (opts.memPattern !== undefined) options.enableMemPattern = opts.memPattern;
  const extra: Record<string, unknown> = {};
  if (opts.disabledOptimizers?.length)
    extra.optimization = { disable_specified_optimizers: opts.disabledOptimizers.join(',') };
  if (opts.spinning !== undefined) extra.session = { intra_op: { allow_spinning: opts.spinning ? '1' : '0' } };
  if (Object.keys(extra).length > 0) options.extra = extra;
  let session: ort.InferenceSession;
  try {
    session =
      typeof model === 'string'
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(model, options);
  } catch (err) {
    const what = typeof model === 'string' ? `'${model}'` : `${model.length} bytes`;
    throw new SessionError(
      `createSession(model): onnxruntime could not load the model (${what}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const inputs = session.inputMetadata.map(signature);
  const outputs = session.outputMetadata.map(signature);
  let released = false;

  async function runRaw(
    given: Readonly<Record<string, HostTensor>>,
    outputNames: readonly string[] | undefined,
  ): Promise<[readonly string[], ort.InferenceSession.ReturnType]> {
    if (released) throw new SessionError('Session.run(): the session was released');
    const feeds: Record<string, ort.Tensor> = {};
    for (const sig of inputs) {
      const t = given[sig.name];
      if (!t) {
        throw new SessionInputError(
          `Session.run(inputs): missing input '${sig.name}' (${sig.dtype} ${fmt(sig.shape)}); given: ${Object.keys(given).join(', ') || 'none'}`,
        );
      }
      feeds[sig.name] = toOrt(sig.name, t, sig);
    }
    const unknown = Object.keys(given).filter((k) => !inputs.some((s) => s.name === k));
    if (unknown.length > 0) {
      throw new SessionInputError(
        `Session.run(inputs): unknown input(s) ${unknown.map((u) => `'${u}'`).join(', ')}; the model takes ${inputs.map((s) => s.name).join(', ')}`,
      );
    }
    const wanted = outputNames ?? outputs.map((o) => o.name);
    const bad = wanted.filter((n) => !outputs.some((o) => o.name === n));
    if (bad.length > 0)
      throw new SessionInputError(
        `Session.run(outputNames): no output(s) ${bad.join(', ')}; the model has ${outputs.map((o) => o.name).join(', ')}`,
      );
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await session.run(feeds, [...wanted]);
    } catch (err) {
      throw new SessionError(`Session.run(): onnxruntime failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return [wanted, result];
  }

  return {
    inputs,
    outputs,
    async run(given, outputNames) {
      const [wanted, result] = await runRaw(given, outputNames);
      const out: Record<string, FloatTensor> = {};
      for (const n of wanted) out[n] = toHost(n, result[n] as ort.OnnxValue);
      return out;
    },
    async runTyped(given, outputNames) {
      const [wanted, result] = await runRaw(given, outputNames);
      const out: Record<string, HostTensor> = {};
      for (const n of wanted) out[n] = toHostTyped(n, result[n] as ort.OnnxValue);
      return out;
    },
    async release() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}
