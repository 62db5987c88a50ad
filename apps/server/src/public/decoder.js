/* global performance, crossOriginIsolated -- browser globals */
// Clicks decoded in the page, like the official SAM demo: onnxruntime-web (wasm, its files served by
// this server under /ort/; threads where the page is cross-origin isolated, which the server's
// COOP/COEP headers make it) runs the serving decoder on the image embedding sent once
// per image (GET /api/embedding/:id, float16). The decoder comes in one of two forms:
// - split (GET /api/decoder-split, SAM checkpoints; the server's own engine runs the same split):
//   `image_side` once per embedding (image keys and the first block's image-side projections, made
//   when the embedding arrives), `prompt` once per click (low-res masks of all tokens and their
//   IoU; the mask head upscales only the grid rows/columns the image covers, `head_size`), and
//   the kept masks post-processed to RLE in JS (`postprocess.js`: the values of the `postprocess`
//   model, which the page no longer runs); recorded for onnxruntime-web's kernels (sam-model
//   `wasm`/`tanhGelu`: decomposed LayerNorms, tanh-form GELUs);
// - single (GET /api/decoder.onnx, the official SAM decoder signature: export directories, or
//   `form: 'single'`): the whole decoder and all four masks at the original size on every click.
// Prompts and masks follow the server's /api/predict exactly: points then a box as two corner
// points labelled 2 and 3, else a padding point labelled -1; coordinates scaled per axis into the
// 1024 frame; one point and no box gives the 3 multimask masks (tokens 1..3), anything else token
// 0; masks are logits > threshold, as COCO RLE (column-major runs).
import { getBytes } from './api.js';
import { planeToRle } from './rle.js';
import { lowResToRle } from './postprocess.js';

const ORT_URL = '/ort/ort.wasm.min.mjs';
const EMBEDDINGS_KEPT = 4;
const LOW_RES = 256; // low-res mask side
const PLANE = LOW_RES * LOW_RES;

let halfTable = null;
/** float16 bits -> float32, one table for all 65536 values. */
function halfToFloat(bits) {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      halfTable[h] =
        e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfTable[bits[i]];
  return out;
}

const sizes = (headers, name) => (headers.get(name) ?? '').split(',').map(Number);

export class PageDecoder {
  /**
   * @param dtype of the embedding on the wire: `float16` (half the bytes; the page's default) or `float32`.
   * @param form `split` (default; `single` where the server has no split form) or `single`.
   * @param threads onnxruntime-web's wasm threads (default 1: more were slower on the 2-core machine
   *   of bench:label-loop; >1 needs cross-origin isolation, which the server's COOP/COEP headers
   *   give); the first decoder that loads onnxruntime-web in a page sets them for all.
   * @param profile record onnxruntime's per-node profile (`endProfiling()` prints it to the console).
   */
  constructor({ dtype = 'float16', form = 'split', threads = 1, profile = false } = {}) {
    this.dtype = dtype;
    this.form = form;
    this.threads = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated ? threads : 1;
    this.profile = profile;
    this.ort = null;
    /** The decoder clicks run on: { form, sessions, sides, runs (clicks in flight), sha256, checkpoint, version }. */
    this.current = null;
    this.swaps = 0;
    this.embeddings = new Map(); // id -> Promise<{ data, originalSize, inputSize }>
    this.loading = null;
  }

  /**
   * Loads onnxruntime-web and the decoder of `version` (no-op when it is loaded or loading). The new
   * sessions replace the old ones between clicks: a click decodes wholly on the decoder it started
   * on, and the old sessions are released once its last click is done.
   */
  load(version) {
    if (this.loading && this.loadingFor === version) return this.loading;
    this.loadingFor = version;
    this.loading = (async () => {
      if (!this.ort) {
        const ort = await import(ORT_URL);
        ort.env.wasm.wasmPaths = '/ort/';
        ort.env.wasm.numThreads = this.threads;
        ort.env.wasm.proxy = false;
        this.ort = ort;
      }
      const t0 = performance.now();
      const { bytes, headers } = await this.fetchDecoder();
      const timing = { fetchMs: performance.now() - t0, createMs: {} }; // what loading this decoder took
      const options = {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
        enableProfiling: this.profile,
        // as the server's engine: Add + LayerNormalization beat the fused SkipLayerNormalization here
        extra: {
          optimization: { disable_specified_optimizers: 'SkipLayerNormFusion' },
          session: { intra_op: { allow_spinning: '0' } }, // idle threads sleep: the machine is shared
        },
      };
      const sessions = {};
      let at = 0;
      for (const part of (headers.get('x-samtune-parts') ?? `decoder:${bytes.byteLength}`).split(',')) {
        const [name, n] = part.split(':');
        // the split form's `postprocess` model is done in JS (postprocess.js): no session for it
        if (name !== 'postprocess') {
          const t = performance.now();
          sessions[name] = await this.ort.InferenceSession.create(new Uint8Array(bytes, at, Number(n)), options);
          timing.createMs[name] = performance.now() - t;
        }
        at += Number(n);
      }
      if (this.loadingFor !== version) return void release(sessions); // a newer version is loading
      const old = this.current;
      this.current = {
        form: sessions.decoder ? 'single' : 'split',
        sessions,
        sides: new Map(), // embedding id -> Promise<image_side outputs> (split form)
        runs: 0,
        sha256: headers.get('x-samtune-decoder-sha256'),
        checkpoint: headers.get('x-samtune-checkpoint-sha256'),
        version: headers.get('x-samtune-version'), // the model version it is (null: a server without versions)
      };
      this.bytes = bytes.byteLength;
      this.timing = timing;
      this.swaps++;
      if (old) this.retire(old);
      const last = [...this.embeddings.keys()].at(-1); // the open image: its image side for the next click
      if (last !== undefined) this.embedding(last).catch(() => undefined);
    })();
    this.loading.catch(() => (this.loading = null));
    return this.loading;
  }

  /** The decoder file of `this.form`: the split form where the server has it, else the single one. */
  async fetchDecoder() {
    if (this.form === 'split') {
      try {
        return await getBytes('/api/decoder-split');
      } catch (e) {
        if (e.status !== 400 && e.status !== 404) throw e; // 400: this model has no split form
      }
    }
    return getBytes('/api/decoder.onnx');
  }

  /** Ends the profiles of the current decoder's sessions (onnxruntime-web prints each as JSON lines to the console). */
  endProfiling() {
    for (const s of Object.values(this.current?.sessions ?? {})) s.endProfiling();
  }

  /** Releases a replaced decoder when no click runs on it any more. */
  retire(d) {
    d.retired = true;
    if (d.runs === 0) release(d.sessions);
  }

  /** SHA-256 of the decoder file clicks are decoded with now (`x-samtune-decoder-sha256`). */
  get sha256() {
    return this.current?.sha256 ?? null;
  }

  /** The model version of the decoder clicks are decoded with now. */
  get version() {
    return this.current?.version ?? null;
  }

  /** SHA-256 of the checkpoint the loaded decoder was exported from. */
  get checkpoint() {
    return this.current?.checkpoint ?? null;
  }

  /**
   * The embedding of `id` (fetched once, float16 on the wire), kept for the last few images; with
   * the split decoder its image side is computed as soon as it arrives.
   */
  embedding(id) {
    let e = this.embeddings.get(id);
    if (!e) {
      e = getBytes(`/api/embedding/${id}?dtype=${this.dtype}`).then(({ bytes, headers }) => {
        const dtype = headers.get('x-samtune-dtype');
        return {
          data: dtype === 'float16' ? halfToFloat(new Uint16Array(bytes)) : new Float32Array(bytes),
          shape: sizes(headers, 'x-samtune-shape'),
          originalSize: sizes(headers, 'x-samtune-original-size'),
          inputSize: sizes(headers, 'x-samtune-input-size'),
          wireBytes: bytes.byteLength,
        };
      });
      e.catch(() => this.embeddings.delete(id));
    } else this.embeddings.delete(id);
    e.then((emb) => this.current?.form === 'split' && this.imageSide(this.current, id, emb)).catch(() => undefined);
    this.embeddings.set(id, e);
    while (this.embeddings.size > EMBEDDINGS_KEPT) this.embeddings.delete(this.embeddings.keys().next().value);
    return e;
  }

  /** The `image_side` outputs of embedding `id` on decoder `dec`, computed once and kept for the last few images. */
  imageSide(dec, id, emb) {
    let side = dec.sides.get(id);
    if (!side) {
      const { Tensor } = this.ort;
      side = dec.sessions.image_side.run({ image_embeddings: new Tensor('float32', emb.data, emb.shape) });
      side.catch(() => dec.sides.delete(id));
    } else dec.sides.delete(id);
    dec.sides.set(id, side);
    while (dec.sides.size > EMBEDDINGS_KEPT) dec.sides.delete(dec.sides.keys().next().value);
    return side;
  }

  /**
   * Masks for `points` ([x, y, label] in ORIGINAL pixels) and `box` (XYXY or null) on embedding `id`:
   * the same reply shape as POST /api/predict, plus `ms` (decode + post-processing time) and `runMs`
   * (the ORT runs: the prompt model's, with the split form).
   */
  async decode(id, points, box, threshold) {
    const emb = await this.embedding(id);
    const dec = this.current; // this click runs wholly on the decoder loaded now
    dec.runs++;
    try {
      const side = dec.form === 'split' ? await this.imageSide(dec, id, emb) : null;
      const t0 = performance.now();
      const { Tensor } = this.ort;
      const [H, W] = emb.originalSize;
      const [h, w] = emb.inputSize;
      const sx = w / W;
      const sy = h / H;
      const coords = points.flatMap(([x, y]) => [x * sx, y * sy]);
      const labels = points.map((p) => p[2]);
      if (box) {
        coords.push(box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy);
        labels.push(2, 3);
      } else {
        coords.push(0, 0);
        labels.push(-1);
      }
      const n = labels.length;
      const prompt = {
        point_coords: new Tensor('float32', Float32Array.from(coords), [1, n, 2]),
        point_labels: new Tensor('float32', Float32Array.from(labels), [1, n]),
      };
      const i64 = (v) => new Tensor('int64', BigInt64Array.from(v, BigInt), [2]);
      let multimask = !box && points.length === 1;
      let picks = multimask ? [1, 2, 3] : [0]; // tokens
      let logits, allIou, masks, runMs;
      if (side) {
        // the grid rows/columns whose low-res masks the post-processing reads (sam-model headSizeFor)
        const head = [h, w].map((s, i) => Math.min(emb.shape[2 + i], Math.ceil((Math.floor(s / 4) + 2) / 4)));
        const out = await dec.sessions.prompt.run({ ...side, ...prompt, head_size: i64(head) });
        allIou = out.iou_predictions.data;
        const [from, to] = [picks[0], picks.at(-1) + 1];
        const [rows, cols] = out.low_res_masks.dims.slice(2);
        const low = out.low_res_masks.data.subarray(from * rows * cols, to * rows * cols);
        runMs = performance.now() - t0;
        // the post-processing graph's values, straight to RLE (postprocess.js; faster than its Resize kernels)
        masks = lowResToRle(low, to - from, [rows, cols], [h, w], [H, W], threshold);
      } else {
        const out = await dec.sessions.decoder.run({
          image_embeddings: new Tensor('float32', emb.data, emb.shape),
          ...prompt,
          mask_input: new Tensor('float32', new Float32Array(PLANE), [1, 1, LOW_RES, LOW_RES]),
          has_mask_input: new Tensor('float32', Float32Array.from([0]), [1]),
          orig_im_size: new Tensor('float32', Float32Array.from([H, W]), [2]),
        });
        allIou = out.iou_predictions.data;
        if (allIou.length === 1) [multimask, picks] = [false, [0]]; // a single-mask export
        logits = out.masks.data.subarray(picks[0] * H * W);
      }
      runMs ??= performance.now() - t0;
      const iou = picks.map((k) => allIou[k]);
      masks ??= picks.map((_, i) => planeToRle(logits, H, W, threshold, i * H * W));
      let best = 0;
      for (let i = 1; i < iou.length; i++) if (iou[i] > iou[best]) best = i;
      return {
        id,
        width: W,
        height: H,
        multimask,
        iou,
        masks,
        best,
        ms: performance.now() - t0,
        runMs,
        decoderSha256: dec.sha256,
        version: dec.version,
      };
    } finally {
      if (--dec.runs === 0 && dec.retired) release(dec.sessions);
    }
  }
}

/** Releases every session of a decoder. */
function release(sessions) {
  for (const s of Object.values(sessions)) s.release().catch(() => undefined);
}
