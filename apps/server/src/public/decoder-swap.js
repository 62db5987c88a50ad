/* global Worker, URL, performance -- browser globals */
// The page's in-page decoder across model versions (issue 21, hot swap in the page). Each version's
// decoder (decoder.js's PageDecoder: onnxruntime-web and its sessions) runs in its own worker
// (decoder-worker.js), or on the main thread where module workers are not available. When the
// version changes, the new one is fetched, its sessions created and the open images' embeddings
// and image sides prepared in a NEW worker while the old one keeps answering clicks; then the new
// one takes over between two clicks (a click runs wholly on the version it started on) and the old
// worker ends once its last click is done. Creating sessions blocks a thread for hundreds of ms
// (bench:label-loop): in its own worker it delays no click.
import { token } from './api.js';
import { PageDecoder } from './decoder.js';

const RECENT_KEPT = 4; // embedding ids remembered, most recent last (as PageDecoder keeps them)
const WARM_KEPT = 2; // of which prepared on a new version before it takes over

/** Loads `version` on PageDecoder `d`; what the page shows and tests read about it. */
export async function loadInfo(d, version) {
  await d.load(version);
  const { form = null } = d.current ?? {};
  return { form, sha256: d.sha256, checkpoint: d.checkpoint, version: d.version, bytes: d.bytes, timing: d.timing };
}

/** Fetches embedding `id` on PageDecoder `d` and, split form, computes its image side. */
export async function warm(d, id) {
  const emb = await d.embedding(id);
  if (d.current?.form === 'split') await d.imageSide(d.current, id, emb);
  return { wireBytes: emb.wireBytes };
}

/** A version's decoder on this thread. */
class PageSlot {
  constructor(options) {
    this.decoder = new PageDecoder(options);
  }
  load(version) {
    return loadInfo(this.decoder, version);
  }
  embedding(id) {
    return warm(this.decoder, id);
  }
  decode(...args) {
    return this.decoder.decode(...args);
  }
  close() {
    if (this.decoder.current) this.decoder.retire(this.decoder.current);
  }
}

/** A version's decoder in its own worker (decoder-worker.js), called by messages. */
class WorkerSlot {
  constructor(options) {
    this.calls = new Map(); // message id -> { resolve, reject }
    this.next = 0;
    this.failed = null;
    this.worker = new Worker(new URL('./decoder-worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = ({ data }) => {
      const call = this.calls.get(data.id);
      this.calls.delete(data.id);
      if (data.err) call?.reject(Object.assign(new Error(data.err.message), data.err));
      else call?.resolve(data.out);
    };
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.fail(new Error(`decoder worker: ${ev.message || 'could not start (no module workers?)'}`));
    };
    this.call('init', options, token()).catch(() => undefined); // a failed start fails the next call
  }
  call(op, ...args) {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const id = ++this.next;
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args });
    });
  }
  fail(e) {
    this.failed = e;
    for (const c of this.calls.values()) c.reject(e);
    this.calls.clear();
  }
  load(version) {
    return this.call('load', version);
  }
  embedding(id) {
    return this.call('embedding', id);
  }
  decode(...args) {
    return this.call('decode', ...args);
  }
  close() {
    this.worker.terminate();
    this.fail(new Error('decoder worker: closed'));
  }
}

export class SwappingDecoder {
  /**
   * @param options PageDecoder's options (dtype, form, threads, profile)
   * @param worker run each version in its own worker (default where the browser has workers; falls
   *   back to the main thread when a module worker cannot start)
   */
  constructor(options = {}, { worker = typeof Worker !== 'undefined' } = {}) {
    this.options = options;
    this.worker = worker;
    /** The decoder clicks run on: { slot, info, runs (clicks in flight), retired }. */
    this.current = null;
    this.loading = null;
    this.loadingFor = null;
    this.swaps = 0;
    this.recent = [];
    /**
     * One entry per decoder that took over (performance.now() ms): { version, requestedAt, readyAt,
     * warmMs, fetchMs, createMs: { part: ms } }; a click that overlaps [requestedAt, readyAt] ran
     * during a swap.
     */
    this.log = [];
  }

  get sha256() {
    return this.current?.info.sha256 ?? null;
  }
  get version() {
    return this.current?.info.version ?? null;
  }
  get checkpoint() {
    return this.current?.info.checkpoint ?? null;
  }
  get bytes() {
    return this.current?.info.bytes ?? null;
  }
  get form() {
    return this.current?.info.form ?? null;
  }
  /** Whether the current decoder runs in a worker. */
  get inWorker() {
    return this.current ? this.current.slot instanceof WorkerSlot : null;
  }

  /**
   * Loads the decoder of `version` (no-op while it is loading) beside the current one, which keeps
   * answering clicks; it takes over when ready.
   */
  load(version) {
    if (this.loading && this.loadingFor === version) return this.loading;
    this.loadingFor = version;
    const p = this.swapIn(version);
    this.loading = p;
    p.catch(() => {
      if (this.loading === p) this.loading = null;
    });
    return p;
  }

  /** A new, empty decoder for one version: in a worker, or on this thread. */
  slot() {
    return this.worker ? new WorkerSlot(this.options) : new PageSlot(this.options);
  }

  /** Loads `version` in a new slot, prepares the open images on it, then makes it the current decoder. */
  async swapIn(version) {
    const requestedAt = performance.now();
    let slot = this.slot();
    let info;
    try {
      info = await slot.load(version);
    } catch (e) {
      slot.close();
      if (!(slot instanceof WorkerSlot) || e.status !== undefined) throw e; // an HTTP error: no retry
      this.worker = false; // no module worker here: decode on the main thread
      slot = this.slot();
      info = await slot.load(version);
    }
    const warmFrom = performance.now();
    const warmed = new Set(); // the open images, also those opened while this one warms
    for (;;) {
      const todo = this.recent.slice(-WARM_KEPT).filter((id) => !warmed.has(id));
      if (!todo.length) break;
      for (const id of todo.reverse()) {
        warmed.add(id);
        await slot.embedding(id).catch(() => undefined); // a lost embedding fails its click as before
      }
    }
    if (this.loadingFor !== version) return void slot.close(); // a newer version is loading
    const old = this.current;
    this.current = { slot, info, runs: 0, retired: false };
    this.swaps++;
    const readyAt = performance.now();
    this.log.push({ version: info.version, requestedAt, readyAt, warmMs: readyAt - warmFrom, ...info.timing });
    if (old) this.retire(old);
  }

  /** Ends a replaced decoder once no click runs on it. */
  retire(d) {
    d.retired = true;
    if (d.runs === 0) d.slot.close();
  }

  /** Notes `id` as the most recent embedding (the ones a new version prepares first). */
  remember(id) {
    this.recent = [...this.recent.filter((x) => x !== id), id].slice(-RECENT_KEPT);
  }

  /** Fetches the embedding of `id` (and its image side) on the current decoder; remembered for the next one. */
  async embedding(id) {
    this.remember(id);
    await this.current?.slot.embedding(id);
  }

  /**
   * Masks for `points` and `box` on embedding `id` (PageDecoder.decode's reply), wholly on the
   * decoder serving when the click starts.
   */
  async decode(id, points, box, threshold) {
    this.remember(id);
    const d = this.current;
    if (!d) throw new Error('SwappingDecoder.decode(): expected a loaded decoder, found none (load() first)');
    d.runs++;
    try {
      return await d.slot.decode(id, points, box, threshold);
    } finally {
      if (--d.runs === 0 && d.retired) d.slot.close();
    }
  }
}
