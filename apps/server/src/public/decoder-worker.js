/* global self -- worker global */
// One model version's in-page decoder in its own worker (decoder-swap.js starts one per version):
// onnxruntime-web, its sessions and the embeddings live here, so creating a new version's sessions
// (hundreds of ms of synchronous wasm work) blocks neither the page's main thread nor the previous
// version's worker, which keeps answering clicks until this one is ready.
// Messages in: { id, op, args }; out: { id, out } or { id, err: { name, message, status, code } }.
// ops: init(options, token), load(version), embedding(embeddingId) (fetched and, split form, its image
// side computed), decode(embeddingId, points, box, threshold) (PageDecoder.decode's reply).
import { setToken } from './api.js';
import { PageDecoder } from './decoder.js';
import { loadInfo, warm } from './decoder-swap.js';

let decoder = null;

const ops = {
  init(options, token) {
    setToken(token);
    decoder = new PageDecoder(options);
    return null;
  },
  load: (version) => loadInfo(decoder, version),
  embedding: (id) => warm(decoder, id),
  decode: (...args) => decoder.decode(...args),
};

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    if (!Object.hasOwn(ops, op)) throw new Error(`decoder worker: expected an op of ${Object.keys(ops)}, got ${op}`);
    self.postMessage({ id, out: await ops[op](...args) });
  } catch (e) {
    self.postMessage({ id, err: { name: e.name, message: e.message, status: e.status, code: e.code } });
  }
};
