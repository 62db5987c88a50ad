/**
 * `OrtDecoder`: SAM's prompt encoder + mask decoder + mask post-processing on onnxruntime-node, for
 * inference on a cached image embedding. Graphs, all built lazily and kept:
 * - the decoder, recorded in-process from the loaded weights with `OnnxGraphOps`; without a mask
 *   input split in two (`split-graphs.ts`): the image-side graph runs once per embedding (its
 *   outputs kept in a small LRU keyed by the embedding tensor object) and the prompt graph once per
 *   prompt; with `mask_input` the whole `recordDecoderGraph` (built when first asked).
 *   `updateWeights` drops them so the next call rebuilds from new weights;
 * - the weight-free post-processing (`recordPostprocessGraph`): upsample to 1024, crop, resize to the
 *   original size, then logits, uint8 masks or COCO RLE change points, one session per output kind.
 * Token selection (`multimask`) happens between the two on the 256x256 logits, so only the kept
 * masks are resized.
 */
import { LOW_RES_SIZE, type SamConfig } from '../../config.js';
import { selectMaskIndex, useMultimask } from '../../mask-selection.js';
import { preprocessShape } from '../../postprocess.js';
import { PredictorInputError, type Box, type PredictPrompts, type PredictResult } from '../../predictor.js';
import type { Session, SessionOptions } from '@samtune/onnx';
import { LazySessions } from './lazy-sessions.js';
import { floatTensor, type FloatTensor, type HostTensor, type WeightMap } from '@samtune/tensor';
import { recordDecoderGraph } from './decoder-graph.js';
import { IMAGE_SIDE_NAMES, recordImageSideGraph, recordPromptGraph, type ImageSideName } from './split-graphs.js';
import { recordPostprocessGraph, type MaskOutputKind } from './postprocess-graph.js';
import { pointFeeds } from './prompts.js';
import { rleFromChanges, type MaskRle } from './rle.js';

/**
 * onnxruntime execution provider of the decoder engine. `cpu` (default) is what this project tests;
 * `cuda` needs onnxruntime-node's CUDA build and a CUDA GPU and is UNTESTED here (no GPU): ORT falls
 * back to `cpu` for what CUDA cannot run.
 */
export type ExecutionProvider = 'cpu' | 'cuda';

/** Options of `OrtDecoder`. */
export interface OrtDecoderOptions {
  /** Default `cpu`. */
  readonly executionProvider?: ExecutionProvider;
  /** ORT intra-op threads of each session (default 1: the decoder is small, see bench/results/predict.md). */
  readonly intraOpNumThreads?: number;
  /**
   * How many image embeddings keep their image-side decoder outputs (~10 MB each for 64x64x256;
   * default 4; 0 = none kept, every call runs the image-side graph).
   */
  readonly imageSideCacheSize?: number;
  /**
   * Split the decoder into image-side + prompt graphs (default true). `false` runs the whole
   * decoder graph on every call (the engine before the split; kept for the benchmark's comparison).
   */
  readonly splitDecoder?: boolean;
}

/** Options of a prediction on either engine. */
export interface DecodeOptions {
  /**
   * `true` (default, like the official predictor): tokens 1..3; `false`: token 0; `'auto'`: the
   * samtune rule (`useMultimask` / `selectMaskIndex`): one point and no box -> the best-IoU mask of
   * tokens 1..3, anything else -> token 0 (one mask).
   */
  readonly multimask?: boolean | 'auto';
  /** `false` = `maskOutput: 'none'` (kept for `PredictOptions` callers). */
  readonly returnMasks?: boolean;
  /**
   * What to compute at the original size (default `logits`, or `none` with `returnMasks: false`):
   * `logits` -> `masks` float32; `binary` -> `binaryMasks` uint8 (`> maskThreshold`); `rle` -> `rle`.
   */
  readonly maskOutput?: MaskOutputKind | 'none';
}

/** `PredictResult` plus the binary outputs. M masks, `(H,W)` the original size. */
export interface DecodeResult extends PredictResult {
  /** `[M,H,W]` uint8 0/1 (`maskOutput: 'binary'`). */
  readonly binaryMasks?: HostTensor<'uint8'>;
  /** M masks as COCO uncompressed RLE (`maskOutput: 'rle'`). */
  readonly rle?: readonly MaskRle[];
}

/** `predictBatchBoxes` outputs: `[B,M,…]`, and for `rle` B*M masks in box-major order. */
export interface BatchDecodeResult {
  readonly lowResMasks: FloatTensor;
  readonly iouPredictions: FloatTensor;
  readonly masks?: FloatTensor;
  readonly binaryMasks?: HostTensor<'uint8'>;
  readonly rle?: readonly MaskRle[];
}

const PLANE = LOW_RES_SIZE * LOW_RES_SIZE;

/** Which output `opts` asks for. */
export function maskOutputOf(opts: DecodeOptions): MaskOutputKind | 'none' {
  return opts.maskOutput ?? (opts.returnMasks === false ? 'none' : 'logits');
}

/** Session options of the engine. */
export function engineSessionOptions(opts: OrtDecoderOptions): SessionOptions {
  return {
    intraOpNumThreads: opts.intraOpNumThreads ?? 1,
    graphOptimizationLevel: 'all',
    executionProviders: opts.executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    // SkipLayerNormalization is several times slower than Add + LayerNormalization here (45 -> 37 ms a box)
    disabledOptimizers: ['SkipLayerNormFusion'],
  };
}

/**
 * The host results of a post-processing session's outputs (`maskOutputsInGraph`) for `b x m` masks
 * at `originalSize`: `masks [B,M,H,W]`, `binaryMasks [B,M,H,W]` or `rle` (box-major).
 */
export function postprocessOutputs(
  out: Readonly<Record<string, HostTensor>>,
  kind: MaskOutputKind,
  [b, m]: readonly [number, number],
  originalSize: readonly [number, number],
): Omit<BatchDecodeResult, 'lowResMasks' | 'iouPredictions'> {
  const [H, W] = originalSize;
  if (kind === 'logits') return { masks: out.masks as FloatTensor };
  if (kind === 'binary') {
    const t = out.masks as HostTensor<'uint8'>;
    return { binaryMasks: { dtype: 'uint8', shape: [b, m, H, W], data: t.data } };
  }
  const changes = (out.changes as HostTensor<'int64'>).data;
  const first = (out.first as HostTensor<'uint8'>).data;
  return { rle: rleFromChanges(changes, first, b * m, originalSize) };
}

/** `[1,M,…]` post-processing results of one prompt set as `[M,H,W]` (`DecodeResult`'s form). */
export function singlePromptOutputs(
  post: Omit<BatchDecodeResult, 'lowResMasks' | 'iouPredictions'>,
  m: number,
  originalSize: readonly [number, number],
): Pick<DecodeResult, 'masks' | 'binaryMasks' | 'rle'> {
  const [H, W] = originalSize;
  return {
    ...(post.masks ? { masks: floatTensor(post.masks.data, [m, H, W]) } : {}),
    ...(post.binaryMasks ? { binaryMasks: { dtype: 'uint8', shape: [m, H, W], data: post.binaryMasks.data } } : {}),
    ...(post.rle ? { rle: post.rle } : {}),
  };
}

type ImageSide = Readonly<Record<ImageSideName, FloatTensor>>;
/** `plain`: the whole decoder without a mask input (`splitDecoder: false`). */
type DecoderKey = 'image' | 'prompt' | 'mask' | 'plain';

export class OrtDecoder {
  private readonly decoders: LazySessions<DecoderKey>;
  /** Image-side outputs by embedding tensor (insertion order = least recently used first). */
  private readonly sides = new Map<FloatTensor, Promise<ImageSide>>();
  private readonly posts: LazySessions<MaskOutputKind>;

  /**
   * @param weights the model's weights (`prompt_encoder.*`, `mask_decoder.*` are read when a
   *   session is built; call `updateWeights` after changing them)
   */
  constructor(
    readonly config: SamConfig,
    private weights: WeightMap,
    readonly options: OrtDecoderOptions = {},
  ) {
    const sessionOptions = engineSessionOptions(options);
    this.decoders = new LazySessions(sessionOptions, 'OrtDecoder');
    this.posts = new LazySessions(sessionOptions, 'OrtDecoder');
  }

  /** Uses `weights` from now on: the decoder sessions are released and rebuilt on the next call. */
  async updateWeights(weights: WeightMap): Promise<void> {
    this.weights = weights;
    this.sides.clear();
    await this.decoders.clear();
  }

  /** How many embeddings have their image-side decoder outputs cached now (see `imageSideCacheSize`). */
  get cachedImageSides(): number {
    return this.sides.size;
  }

  /** Builds the sessions a call with these options needs now (else they are built on first use). */
  async warmUp(opts: DecodeOptions & { readonly maskInput?: boolean } = {}): Promise<void> {
    if (opts.maskInput) await this.decoder('mask');
    else if (this.options.splitDecoder === false) await this.decoder('plain');
    else await Promise.all([this.decoder('image'), this.decoder('prompt')]);
    const kind = maskOutputOf(opts);
    if (kind !== 'none') await this.post(kind);
  }

  private decoder(key: DecoderKey): Promise<Session> {
    return this.decoders.get(
      key,
      () =>
        key === 'image'
          ? recordImageSideGraph(this.config, this.weights)
          : key === 'prompt'
            ? recordPromptGraph(this.config, this.weights)
            : recordDecoderGraph(this.config, this.weights, {
                variant: 'multimask',
                maskInput: key === 'mask',
                postprocess: false,
              }),
      'decoder',
    );
  }

  private post(kind: MaskOutputKind): Promise<Session> {
    return this.posts.get(kind, () => recordPostprocessGraph(this.config, kind), 'post');
  }

  private checkEmbedding(fn: string, embedding: FloatTensor): void {
    const es = embedding.shape;
    const [h, w] = this.config.promptEncoder.imageEmbeddingSize;
    const c = this.config.promptEncoder.embedDim;
    if (es.length !== 4 || es[0] !== 1 || es[1] !== c || es[2] !== h || es[3] !== w) {
      throw new PredictorInputError(`${fn}(embedding): expected [1,${c},${h},${w}], got [${es.join(',')}]`);
    }
  }

  /**
   * The image-side outputs of `embedding` (cached by the tensor object: an embedding must not be
   * changed in place after its first prediction).
   */
  private imageSide(embedding: FloatTensor): Promise<ImageSide> {
    const cap = this.options.imageSideCacheSize ?? 4;
    const hit = this.sides.get(embedding);
    if (hit) {
      this.sides.delete(embedding);
      this.sides.set(embedding, hit);
      return hit;
    }
    const side = this.decoder('image').then(async (s) => {
      const out = await s.run({ image_embeddings: embedding });
      return Object.fromEntries(IMAGE_SIDE_NAMES.map((n) => [n, out[n] as FloatTensor])) as ImageSide;
    });
    if (cap > 0) {
      this.sides.set(embedding, side);
      side.catch(() => this.sides.delete(embedding));
      while (this.sides.size > cap) this.sides.delete(this.sides.keys().next().value as FloatTensor);
    }
    return side;
  }

  /** All 1+3 tokens: low-res logits `[1,4,256,256]` and IoU `[1,4]`. */
  private async decodeAll(
    fn: string,
    embedding: FloatTensor,
    prompts: PredictPrompts,
    originalSize: readonly [number, number],
  ): Promise<{ low: Float32Array; iou: Float32Array }> {
    this.checkEmbedding(fn, embedding);
    const points = pointFeeds(fn, prompts, originalSize, this.config.imageEncoder.imgSize);
    let out: Record<string, FloatTensor>;
    if (prompts.maskInput) {
      out = await (
        await this.decoder('mask')
      ).run({
        image_embeddings: embedding,
        ...points,
        mask_input: floatTensor(prompts.maskInput.data, [1, 1, LOW_RES_SIZE, LOW_RES_SIZE]),
        has_mask_input: floatTensor(Float32Array.of(1), [1]),
      });
    } else if (this.options.splitDecoder === false) {
      out = await (await this.decoder('plain')).run({ image_embeddings: embedding, ...points });
    } else {
      const [side, session] = await Promise.all([this.imageSide(embedding), this.decoder('prompt')]);
      out = await session.run({ ...side, ...points });
    }
    return { low: (out.low_res_masks as FloatTensor).data, iou: (out.iou_predictions as FloatTensor).data };
  }

  /** Post-processes `low [B,M,256,256]` to the original size. */
  private async postprocess(
    kind: MaskOutputKind,
    low: FloatTensor,
    originalSize: readonly [number, number],
  ): Promise<Omit<BatchDecodeResult, 'lowResMasks' | 'iouPredictions'>> {
    const [b, m] = low.shape as [number, number];
    const inputSize = preprocessShape(originalSize, this.config.imageEncoder.imgSize);
    const i64 = (v: readonly number[]): HostTensor => ({
      dtype: 'int64',
      shape: [2],
      data: BigInt64Array.from(v, BigInt),
    });
    const out = await (
      await this.post(kind)
    ).runTyped({
      low_res_masks: low,
      input_size: i64(inputSize),
      original_size: i64(originalSize),
    });
    return postprocessOutputs(out, kind, [b, m], originalSize);
  }

  /**
   * Official `SamPredictor.predict(…, return_logits=True)` for one prompt set in ORIGINAL pixels.
   * @param embedding `[1,256,64,64]`
   * @param originalSize (H,W) of the original image
   * @returns `lowResMasks [M,256,256]`, `iouPredictions [M]`, and by `maskOutput` `masks [M,H,W]`
   *   logits, `binaryMasks [M,H,W]` uint8 or `rle` (M masks); M = 3 (multimask) or 1
   */
  async predict(
    embedding: FloatTensor,
    prompts: PredictPrompts,
    originalSize: readonly [number, number],
    opts: DecodeOptions = {},
  ): Promise<DecodeResult> {
    const { low, iou } = await this.decodeAll('OrtDecoder.predict', embedding, prompts, originalSize);
    const mode = opts.multimask ?? true;
    const k = this.config.maskDecoder.numMultimaskOutputs;
    let [from, to] = mode === true ? [1, 1 + k] : [0, 1];
    if (
      mode === 'auto' &&
      useMultimask({ hasBox: prompts.box !== undefined, numPoints: prompts.points?.length ?? 0 })
    ) {
      from = 1 + selectMaskIndex(iou.subarray(1, 1 + k));
      to = from + 1;
    }
    const m = to - from;
    const lowResMasks = floatTensor(low.slice(from * PLANE, to * PLANE), [m, LOW_RES_SIZE, LOW_RES_SIZE]);
    const iouPredictions = floatTensor(iou.slice(from, to), [m]);
    const kind = maskOutputOf(opts);
    if (kind === 'none') return { lowResMasks, iouPredictions };
    const post = await this.postprocess(
      kind,
      floatTensor(lowResMasks.data, [1, m, LOW_RES_SIZE, LOW_RES_SIZE]),
      originalSize,
    );
    return { lowResMasks, iouPredictions, ...singlePromptOutputs(post, m, originalSize) };
  }

  /**
   * Several boxes on one image (official `predict_torch` with `boxes [B,4]`), ORIGINAL pixels. The
   * decoder runs once per box (batch-1 graph); the post-processing runs once for all.
   * `multimask: 'auto'` is token 0 (a box is never ambiguous).
   * @returns `[B,M,…]` outputs
   */
  async predictBatchBoxes(
    embedding: FloatTensor,
    boxes: readonly Box[],
    originalSize: readonly [number, number],
    opts: DecodeOptions = {},
  ): Promise<BatchDecodeResult> {
    if (boxes.length === 0)
      throw new PredictorInputError('OrtDecoder.predictBatchBoxes(boxes): expected at least one box, got 0');
    const k = this.config.maskDecoder.numMultimaskOutputs;
    const [from, to] = opts.multimask === true || opts.multimask === undefined ? [1, 1 + k] : [0, 1];
    const m = to - from;
    const b = boxes.length;
    const low = new Float32Array(b * m * PLANE);
    const iou = new Float32Array(b * m);
    for (const [i, box] of boxes.entries()) {
      const r = await this.decodeAll('OrtDecoder.predictBatchBoxes', embedding, { box }, originalSize);
      low.set(r.low.subarray(from * PLANE, to * PLANE), i * m * PLANE);
      iou.set(r.iou.subarray(from, to), i * m);
    }
    const lowResMasks = floatTensor(low, [b, m, LOW_RES_SIZE, LOW_RES_SIZE]);
    const iouPredictions = floatTensor(iou, [b, m]);
    const kind = maskOutputOf(opts);
    if (kind === 'none') return { lowResMasks, iouPredictions };
    return { lowResMasks, iouPredictions, ...(await this.postprocess(kind, lowResMasks, originalSize)) };
  }

  /** Frees every session; later calls throw. */
  async release(): Promise<void> {
    this.sides.clear();
    await Promise.all([this.decoders.release(), this.posts.release()]);
  }
}
