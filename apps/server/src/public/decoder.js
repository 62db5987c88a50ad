/* global performance -- browser globals */
// Clicks decoded in the page, like the official SAM demo: onnxruntime-web (wasm, one thread, its
// files served by this server under /ort/) runs the serving decoder (GET /api/decoder.onnx, the
// official SAM decoder signature) on the image embedding sent once per image (GET
// /api/embedding/:id, float16). Prompts and masks follow the server's /api/predict exactly: points
// then a box as two corner points labelled 2 and 3, else a padding point labelled -1; coordinates
// scaled per axis into the 1024 frame; one point and no box gives the 3 multimask masks (tokens
// 1..3), anything else token 0; masks are logits > threshold, as COCO RLE (column-major runs).
import { getBytes } from './api.js';
import { planeToRle } from './rle.js';

const ORT_URL = '/ort/ort.wasm.min.mjs';
const EMBEDDINGS_KEPT = 4;

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
  /** @param dtype of the embedding on the wire: `float16` (half the bytes; the page's default) or `float32`. */
  constructor({ dtype = 'float16' } = {}) {
    this.dtype = dtype;
    this.ort = null;
    /** The decoder clicks run on: { session, runs (clicks in flight), sha256, checkpoint }. */
    this.current = null;
    this.swaps = 0;
    this.embeddings = new Map(); // id -> Promise<{ data, originalSize, inputSize }>
    this.loading = null;
  }

  /**
   * Loads onnxruntime-web and the decoder of `version` (no-op when it is loaded or loading). The new
   * session replaces the old one between clicks: a click decodes wholly on the session it started
   * on, and the old session is released once its last click is done.
   */
  load(version) {
    if (this.loading && this.loadingFor === version) return this.loading;
    this.loadingFor = version;
    this.loading = (async () => {
      if (!this.ort) {
        const ort = await import(ORT_URL);
        ort.env.wasm.wasmPaths = '/ort/';
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.proxy = false;
        this.ort = ort;
      }
      const { bytes, headers } = await getBytes('/api/decoder.onnx');
      const session = await this.ort.InferenceSession.create(new Uint8Array(bytes), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      if (this.loadingFor !== version) return void session.release(); // a newer version is loading
      const old = this.current;
      this.current = {
        session,
        runs: 0,
        sha256: headers.get('x-samtune-decoder-sha256'),
        checkpoint: headers.get('x-samtune-checkpoint-sha256'),
        version: headers.get('x-samtune-version'), // the model version it is (null: a server without versions)
      };
      this.bytes = bytes.byteLength;
      this.swaps++;
      if (old) this.retire(old);
    })();
    this.loading.catch(() => (this.loading = null));
    return this.loading;
  }

  /** Releases a replaced session when no click runs on it any more. */
  retire(s) {
    s.retired = true;
    if (s.runs === 0) s.session.release().catch(() => undefined);
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

  /** The embedding of `id` (fetched once, float16 on the wire), kept for the last few images. */
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
    this.embeddings.set(id, e);
    while (this.embeddings.size > EMBEDDINGS_KEPT) this.embeddings.delete(this.embeddings.keys().next().value);
    return e;
  }

  /**
   * Masks for `points` ([x, y, label] in ORIGINAL pixels) and `box` (XYXY or null) on embedding `id`:
   * the same reply shape as POST /api/predict, plus `ms` (decode + post-processing time).
   */
  async decode(id, points, box, threshold) {
    const emb = await this.embedding(id);
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
    const dec = this.current; // this click runs wholly on the decoder loaded now
    dec.runs++;
    let out;
    try {
      out = await dec.session.run({
        image_embeddings: new Tensor('float32', emb.data, emb.shape),
        point_coords: new Tensor('float32', Float32Array.from(coords), [1, n, 2]),
        point_labels: new Tensor('float32', Float32Array.from(labels), [1, n]),
        mask_input: new Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
        has_mask_input: new Tensor('float32', Float32Array.from([0]), [1]),
        orig_im_size: new Tensor('float32', Float32Array.from([H, W]), [2]),
      });
    } finally {
      if (--dec.runs === 0 && dec.retired) dec.session.release().catch(() => undefined);
    }
    const runMs = performance.now() - t0;
    const logits = out.masks.data;
    const allIou = Array.from(out.iou_predictions.data);
    const m = allIou.length;
    const multimask = m > 1 && !box && points.length === 1;
    const picks = m === 1 ? [0] : multimask ? [1, 2, 3] : [0];
    const iou = picks.map((k) => allIou[k]);
    const masks = picks.map((k) => planeToRle(logits, H, W, threshold, k * H * W));
    let best = 0;
    for (let i = 1; i < iou.length; i++) if (iou[i] > iou[best]) best = i;
    for (const t of Object.values(out)) t.dispose?.();
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
  }
}
