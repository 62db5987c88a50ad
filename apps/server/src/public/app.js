/* global document, window, location, performance, Blob, setTimeout, clearTimeout, setInterval, URL, HTMLInputElement, HTMLSelectElement -- browser globals */
// The labelling page: pick or upload an image, prompt with clicks and boxes, accept masks under a
// category; labels are saved automatically as COCO. Every text from files or the server goes
// through textContent: the page never parses markup. Each prediction carries the sequence number
// of the prompts it answers: a reply for older prompts is dropped, and Accept during a prediction
// waits for the reply of the prompts on screen, so the accepted mask is always the one of the
// visible prompts. Clicks are decoded in the page (decoder.js, onnxruntime-web) when the browser
// can run it, else by POST /api/predict (also with `#decode=server` in the page URL); each model
// version's decoder runs in its own worker and a new version takes over between clicks
// (decoder-swap.js).
import { api, getBytes, initToken, loadImage, postBytes } from './api.js';
import { MaskEdit } from './brush.js';
import { SwappingDecoder } from './decoder-swap.js';
import { TrainPanel } from './finetune.js';
import { rleCanvas, View } from './view.js';

const $ = (id) => document.getElementById(id);
const COLORS = [
  [30, 144, 255],
  [255, 99, 71],
  [50, 205, 50],
  [255, 215, 0],
  [186, 85, 211],
  [0, 206, 209],
  [255, 140, 0],
  [199, 21, 133],
];
const PRED_RGB = [0, 120, 255];
const FORCE_SERVER = /(?:^#|&)decode=server(?:&|$)/.test(location.hash);
const SAVE_DELAY_MS = 400;
// `#threads=N`: onnxruntime-web wasm threads (default 1, see decoder.js)
const THREADS = Number(/(?:^#|&)threads=(\d+)(?:&|$)/.exec(location.hash)?.[1] ?? 1);
const decoder = new SwappingDecoder({ threads: THREADS, profile: /(?:^#|&)profile(?:&|$)/.test(location.hash) });
const state = {
  mode: FORCE_SERVER ? 'server' : 'loading', // where clicks are decoded: 'browser', 'server', or 'loading'
  checkpoint: null, // SHA-256 of the serving weights (GET /api/health)
  version: null, // the serving model version (GET /api/health's activeVersion)
  threshold: 0,
  images: [],
  image: null,
  id: null,
  points: [],
  box: null,
  pred: null, // { seq, iou, masks, best, canvases }
  tool: 'prompt', // what a left drag does: 'prompt' (click/box), 'brush' or 'eraser' (corrects the mask)
  edit: null, // MaskEdit: the proposed mask as corrected with the brush/eraser, or null
  shown: 0,
  labels: [], // { category, segmentation, score, area, canvas }
  categories: [],
  dirty: false,
  edits: 0, // changes of the labels so far: a save clears `dirty` only if none came while it ran
  seq: 0, // sequence number of the prompts on screen
  pendingSeq: 0, // sequence number of the prediction in flight (0: none)
  acceptQueued: false,
};
const view = new View($('view'));
let saveTimer = null;
let modelReady = null; // the first refreshModel(): the decoder loaded, or the fallback chosen
/** What tests and bench:label-loop read: where clicks ran, the decoder's hash, per-click decode times. */
window.samtunePage = {
  get mode() {
    return state.mode;
  },
  get decoderSha256() {
    return decoder.sha256;
  },
  get checkpoint() {
    return state.checkpoint;
  },
  get version() {
    return state.version;
  },
  /** Decoders loaded so far (the first one counts). */
  get decoderLoads() {
    return decoder.swaps;
  },
  get decoderBytes() {
    return decoder.bytes;
  },
  /** `split` or `single` (decoder.js). */
  get decoderForm() {
    return decoder.form;
  },
  /** The model version the page's decoder decodes clicks with now (`version` is the server's). */
  get decoderVersion() {
    return decoder.version;
  },
  /** Whether the decoder runs in a worker (decoder-swap.js; false: on the main thread). */
  get decoderInWorker() {
    return decoder.inWorker;
  },
  /** One entry per decoder that took over: { version, requestedAt, readyAt, warmMs, fetchMs, createMs }. */
  get swapLog() {
    return decoder.log;
  },
  get training() {
    return training.seen;
  },
  /** The prompts on screen as a POST /api/predict body. */
  prompts: () => ({ id: state.id, points: state.points.map((p) => [...p]), box: state.box && [...state.box] }),
  /**
   * Per prediction shown: { mode, ms (decode), runMs, decoderSha256, version, startedAt, clickMs };
   * for a mouse prompt `startedAt` is the input event's time and `clickMs` the time from it to the
   * mask drawn (performance.now() ms, so main-thread stalls count).
   */
  decodes: [],
  saves: 0,
};
let drag = null; // the mouse drag in progress: { pan, start, client, last, box }

const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};
const status = (text, isErr = false) => {
  $('status').textContent = text;
  $('status').className = isErr ? 'err' : 'muted';
};
const report = (e) => status(e.message, true);
const colorOf = (category) =>
  COLORS[[...category].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % COLORS.length];
const busy = (on, what = 'predicting…') => {
  document.body.dataset.busy = on ? '1' : '0';
  $('busy').hidden = !on;
  $('busy').textContent = `● ${what}`;
};

const BRUSH_RADIUS_PX = 10; // on screen
const shownPred = () => (state.pred && state.pred.seq === state.seq ? state.pred : null);

function redraw() {
  const mask = state.edit?.canvas ?? shownPred()?.canvases[state.shown] ?? null;
  view.draw({ labels: state.labels.map((l) => l.canvas), mask, box: drag?.box ?? state.box, points: state.points });
}
view.onchange = redraw;

function renderCategories() {
  const sel = $('category');
  const keep = sel.value;
  const names = [...new Set([...state.categories, ...state.labels.map((l) => l.category)])];
  // keys 1-9 pick the first nine categories
  sel.replaceChildren(...names.map((n, i) => el('option', { value: n, textContent: i < 9 ? `${i + 1} · ${n}` : n })));
  if (names.includes(keep)) sel.value = keep;
}

function pickCategory(i) {
  const sel = $('category');
  if (i >= sel.options.length) return status(`no category ${i + 1}: add one first`, true);
  sel.selectedIndex = i;
  status(`category: ${sel.value}`);
}

function render() {
  $('labels').replaceChildren(
    ...state.labels.map((l, i) => {
      const swatch = el('span', { className: 'swatch' });
      swatch.style.background = `rgb(${colorOf(l.category).join(',')})`;
      const del = el('button', { title: 'delete', textContent: '×' });
      del.onclick = () => {
        state.labels.splice(i, 1);
        changed();
      };
      return el(
        'li',
        {},
        swatch,
        el('span', { textContent: l.category }),
        el('span', { className: 'muted', textContent: `${Number(l.area) || 0} px` }),
        del,
      );
    }),
  );
  renderCategories();
  const p = state.pred && state.pred.seq === state.seq ? state.pred : null;
  $('brush').classList.toggle('on', state.tool === 'brush');
  $('eraser').classList.toggle('on', state.tool === 'eraser');
  $('mask').textContent = state.edit
    ? `corrected mask: ${state.edit.area()} px (brush/eraser; Z reverts)`
    : p
      ? `mask ${state.shown + 1}/${p.masks.length}: IoU ${p.iou[state.shown].toFixed(3)}, ${p.masks[state.shown].area} px`
      : state.pendingSeq
        ? 'waiting for the mask…'
        : 'click: positive point · shift-click: negative · drag: box';
  $('save').textContent = state.dirty ? 'Save*' : 'Save';
  redraw();
}

function renderImages() {
  const done = state.images.filter((im) => im.labels > 0).length;
  $('progress').textContent = state.images.length ? `${done} / ${state.images.length} labelled` : '';
  const list = state.images.map((im) => {
    const li = el(
      'li',
      { title: im.name },
      el('span', { className: 'name', textContent: im.name }),
      el('span', { className: 'muted', textContent: im.labels ? String(im.labels) : '' }),
    );
    li.dataset.name = im.name;
    li.classList.toggle('active', im.name === state.image);
    li.onclick = () => openImage(im.name).catch(report);
    return li;
  });
  $('images').replaceChildren(
    ...(list.length
      ? list
      : [
          el('li', {
            className: 'muted',
            textContent: 'no images yet: upload some, or start the server with --images <dir>',
          }),
        ]),
  );
}

function addLabel(category, segmentation, score) {
  const area = segmentation.counts.reduce((a, n, k) => a + (k % 2 ? n : 0), 0);
  state.labels.push({ category, segmentation, score, area, canvas: rleCanvas(segmentation, colorOf(category)) });
}

async function embed() {
  const name = state.image;
  busy(true, 'embedding…');
  try {
    const r = await api('/api/embed', { image: name });
    if (name !== state.image) return; // another image was opened meanwhile
    state.id = r.id;
    if (state.mode !== 'server') await decoder.embedding(r.id).catch(() => undefined); // once per image
    if (name !== state.image) return;
    status(`${name}: ${r.width}x${r.height}${r.cached ? ' (cached)' : ''}`);
  } finally {
    if (name === state.image) busy(false);
  }
  prefetchNext(name);
}

/** Embeds the next image in the list (and, decoding in the page, fetches its embedding) meanwhile. */
function prefetchNext(name) {
  const i = state.images.findIndex((im) => im.name === name);
  const next = state.images[i + 1];
  if (i < 0 || !next) return;
  api('/api/embed', { image: next.name })
    .then((r) => (state.mode === 'server' ? undefined : decoder.embedding(r.id)))
    .catch(() => undefined); // a prefetch that fails is retried when the image is opened
}

/** Masks for the prompts on screen: in the page when it decodes, else from the server. */
async function decodePrompts(body) {
  if (state.mode === 'loading') await modelReady?.catch(() => undefined);
  if (state.mode === 'browser') {
    try {
      return await decoder.decode(body.id, body.points, body.box, state.threshold);
    } catch (e) {
      if (e.name === 'UnknownEmbeddingError') throw e;
      fallBack(e);
    }
  }
  return api('/api/predict', body);
}

function fallBack(e) {
  state.mode = 'server';
  status(`decoding in the browser failed (${e.message}); clicks go to the server`, true);
  renderModel();
}

/** Decodes the prompts on screen; `since`: when the input that changed them happened (performance.now()). */
async function predict(since = performance.now()) {
  const seq = ++state.seq;
  state.edit = null; // new prompts: a new proposal replaces the corrections
  if (!state.points.length && !state.box) {
    state.pendingSeq = 0;
    state.acceptQueued = false;
    busy(false);
    return render();
  }
  state.pendingSeq = seq;
  busy(true);
  render();
  const body = { id: state.id, points: state.points, box: state.box };
  let r;
  try {
    try {
      r = await decodePrompts(body);
    } catch (e) {
      if (e.name !== 'UnknownEmbeddingError') throw e;
      await embed();
      r = await decodePrompts({ ...body, id: state.id });
    }
  } catch (e) {
    if (seq === state.seq) {
      state.pendingSeq = 0;
      state.acceptQueued = false;
      busy(false);
      report(e);
      render();
    }
    return;
  }
  if (seq !== state.seq) return; // a reply for older prompts: dropped
  state.pendingSeq = 0;
  busy(false);
  window.samtunePage.decodes.push({
    mode: r.ms === undefined ? 'server' : 'browser',
    ms: r.ms ?? null,
    runMs: r.runMs ?? null,
    decoderSha256: r.decoderSha256 ?? null,
    version: r.version ?? null,
  });
  window.samtunePage.last = r;
  state.pred = { ...r, seq, canvases: r.masks.map((m) => rleCanvas(m, PRED_RGB)) };
  state.shown = r.best;
  render();
  Object.assign(window.samtunePage.decodes.at(-1), { startedAt: since, clickMs: performance.now() - since });
  if (state.acceptQueued) {
    state.acceptQueued = false;
    accept();
  }
}

async function openImage(name) {
  if (name === state.image) return;
  if (state.dirty) await save(); // labels are never discarded: the open image is saved first
  Object.assign(state, {
    image: name,
    id: null,
    points: [],
    box: null,
    pred: null,
    edit: null,
    labels: [],
    dirty: false,
  });
  state.seq++;
  state.pendingSeq = 0;
  state.acceptQueued = false;
  renderImages();
  const old = view.img;
  const img = await loadImage(`/api/images/${name.split('/').map(encodeURIComponent).join('/')}`);
  if (name !== state.image) return URL.revokeObjectURL(img.src); // another image was opened meanwhile
  if (old) URL.revokeObjectURL(old.src);
  view.setImage(img);
  const doc = await api(`/api/labels?image=${encodeURIComponent(name)}`);
  if (name !== state.image) return;
  const names = new Map(doc.categories.map((c) => [c.id, String(c.name)]));
  state.categories = [...new Set([...state.categories, ...names.values()])];
  for (const a of doc.annotations)
    if (a.segmentation && Array.isArray(a.segmentation.counts))
      addLabel(names.get(a.category_id) ?? '?', a.segmentation, a.score);
  render();
  await embed();
}

async function loadImages() {
  state.images = (await api('/api/images')).images;
  renderImages();
}

async function upload(files) {
  let last = null;
  for (const f of files) {
    status(`uploading ${f.name}…`);
    last = (await postBytes(`/api/images?name=${encodeURIComponent(f.name)}`, f)).name;
  }
  await loadImages();
  if (last) await openImage(last);
}

function accept() {
  if (state.edit) return acceptMask(state.edit.toRle(), null);
  if (state.pendingSeq === state.seq) {
    state.acceptQueued = true;
    return status('accepting when the mask of these prompts arrives…');
  }
  if (!state.pred || state.pred.seq !== state.seq)
    return status('no mask to accept: click or drag on the image first', true);
  acceptMask(state.pred.masks[state.shown], state.pred.iou[state.shown]);
}

/** Adds `m` (COCO RLE with its area) as a label of the chosen category; refuses an empty mask. */
function acceptMask(m, score) {
  const category = $('category').value;
  if (!category) {
    $('new-category').focus();
    return status('add a category first', true);
  }
  if (!(m.area > 0))
    return status(
      'cannot accept an empty mask (0 px): add a positive click inside the object or a box around it',
      true,
    );
  addLabel(category, { size: m.size, counts: m.counts }, score);
  Object.assign(state, { points: [], box: null, pred: null, edit: null });
  state.seq++;
  status(`accepted a ${category} mask (${m.area} px)`);
  changed();
}
function clearPrompts() {
  Object.assign(state, { points: [], box: null, pred: null, edit: null, pendingSeq: 0, acceptQueued: false });
  state.seq++;
  busy(false);
  render();
}
function undo() {
  if (state.edit) {
    state.edit = null; // back to the proposed mask
    return render();
  }
  if (state.points.length) state.points.pop();
  else if (state.box) state.box = null;
  else if (state.labels.length) {
    state.labels.pop();
    return changed();
  } else return;
  predict();
}
/** Switches the left drag between prompting and the brush or eraser (`tool`), or back to prompting. */
function setTool(tool) {
  state.tool = state.tool === tool ? 'prompt' : tool;
  status(state.tool === 'prompt' ? 'click: point · drag: box' : `${state.tool}: drag on the image to correct the mask`);
  render();
}

function cycle() {
  if (state.pred && state.pred.seq === state.seq) {
    state.shown = (state.shown + 1) % state.pred.masks.length;
    render();
  }
}
/** The labels changed: shown at once, saved after a short pause (`SAVE_DELAY_MS`). */
function changed() {
  state.dirty = true;
  state.edits++;
  render();
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => save().catch(report), SAVE_DELAY_MS);
}

async function save() {
  clearTimeout(saveTimer);
  if (!state.image) return;
  const image = state.image;
  const edits = state.edits;
  const r = await api('/api/labels', {
    image,
    annotations: state.labels.map(({ category, segmentation, score }) => ({
      category,
      segmentation,
      score: score ?? null,
    })),
  });
  if (image === state.image && edits === state.edits) state.dirty = false; // nothing changed meanwhile
  window.samtunePage.saves++;
  render();
  status(`saved ${r.saved} labels of ${image} to ${r.file}`);
  await loadImages();
}
/** Downloads the labels file with the chosen segmentation (COCO RLE or simplified polygons). */
async function exportLabels() {
  if (state.dirty) await save();
  const mode = $('export-format').value;
  const { bytes, headers } = await getBytes(`/api/export?segmentation=${mode}`);
  const a = el('a', { download: `labels.${mode}.coco.json` });
  a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/json' }));
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  const skipped = Number(headers.get('x-samtune-skipped-annotations') ?? 0);
  status(`exported labels.${mode}.coco.json${skipped ? ` (${skipped} speck masks without a polygon left out)` : ''}`);
}

function addCategory() {
  const name = $('new-category').value.trim();
  if (!name) return;
  state.categories = [...new Set([...state.categories, name])];
  renderCategories();
  $('category').value = name;
  $('new-category').value = '';
  $('new-category').blur(); // the keys go back to the page (1-9 pick categories)
}
function step(delta) {
  const i = state.images.findIndex((im) => im.name === state.image);
  const next = state.images[Math.min(state.images.length - 1, Math.max(0, i + delta))];
  if (next) openImage(next.name).catch(report);
}

// mouse: click = point, drag = box, wheel = zoom, alt/middle drag = pan
const canvas = $('view');
canvas.addEventListener('contextmenu', (ev) => ev.preventDefault());
canvas.addEventListener('mousedown', (ev) => {
  if (!view.img) return;
  const pan = ev.button === 1 || ev.altKey;
  if (!pan && state.tool !== 'prompt' && ev.button === 0) {
    const pred = shownPred();
    state.edit ??= new MaskEdit(
      view.img.naturalWidth,
      view.img.naturalHeight,
      pred?.masks[state.shown] ?? null,
      PRED_RGB,
    );
    drag = { paint: state.tool === 'brush' ? 1 : 0 };
    state.edit.paint(...view.toImage(ev), BRUSH_RADIUS_PX / view.zoom, drag.paint);
    return render();
  }
  if (!pan && !state.id) return status('the image is still being embedded…');
  drag = { pan, start: view.toImage(ev), client: [ev.clientX, ev.clientY], last: [ev.clientX, ev.clientY], box: null };
});
window.addEventListener('mousemove', (ev) => {
  if (!drag) return;
  if (drag.paint !== undefined) {
    state.edit.paint(...view.toImage(ev), BRUSH_RADIUS_PX / view.zoom, drag.paint);
    return redraw();
  }
  if (drag.pan) {
    view.pan(ev.clientX - drag.last[0], ev.clientY - drag.last[1]);
    drag.last = [ev.clientX, ev.clientY];
    return;
  }
  if (Math.hypot(ev.clientX - drag.client[0], ev.clientY - drag.client[1]) < 5) return;
  const [x, y] = view.toImage(ev);
  const [sx, sy] = drag.start;
  drag.box = [Math.min(sx, x), Math.min(sy, y), Math.max(sx, x), Math.max(sy, y)];
  redraw();
});
window.addEventListener('mouseup', (ev) => {
  const d = drag;
  drag = null;
  if (d?.paint !== undefined) {
    state.edit.endStroke();
    return render();
  }
  if (!d || d.pan) return;
  if (d.box) {
    if (d.box[2] > d.box[0] && d.box[3] > d.box[1]) state.box = d.box;
  } else state.points.push([...d.start, ev.shiftKey || ev.button === 2 ? 0 : 1]);
  predict(ev.timeStamp);
});
canvas.addEventListener(
  'wheel',
  (ev) => {
    ev.preventDefault();
    const [cx, cy] = view.toCanvas(ev);
    view.zoomAt(Math.exp(-ev.deltaY * 0.0015), cx, cy);
  },
  { passive: false },
);

// drag and drop upload
const stage = $('stage');
stage.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  stage.classList.add('drop');
});
stage.addEventListener('dragleave', () => stage.classList.remove('drop'));
stage.addEventListener('drop', (ev) => {
  ev.preventDefault();
  stage.classList.remove('drop');
  upload([...ev.dataTransfer.files].filter((f) => f.type.startsWith('image/'))).catch(report);
});

$('upload').onchange = (ev) =>
  upload([...ev.target.files])
    .catch(report)
    .finally(() => (ev.target.value = ''));
$('accept').onclick = accept;
$('clear').onclick = clearPrompts;
$('undo').onclick = undo;
$('cycle').onclick = cycle;
$('export').onclick = () => exportLabels().catch(report);
$('brush').onclick = () => setTool('brush');
$('eraser').onclick = () => setTool('eraser');
$('save').onclick = () => save().catch(report);
$('add-category').onclick = addCategory;
$('opacity').oninput = (ev) => {
  view.opacity = Number(ev.target.value) / 100;
  redraw();
};
$('opacity').onchange = (ev) => ev.target.blur(); // arrows go back to moving between images
$('zoom-in').onclick = () => view.zoomAt(1.25);
$('zoom-out').onclick = () => view.zoomAt(0.8);
$('zoom-fit').onclick = () => view.fit();
$('new-category').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.stopPropagation();
    addCategory();
  }
});
window.addEventListener('keydown', (ev) => {
  const t = ev.target;
  const typing = (t instanceof HTMLInputElement && t.type !== 'range') || t instanceof HTMLSelectElement;
  const mod = ev.ctrlKey || ev.metaKey;
  if (mod && ev.key.toLowerCase() === 's') {
    ev.preventDefault();
    save().catch(report);
  } else if (mod && ev.key.toLowerCase() === 'z') {
    ev.preventDefault();
    undo();
  } else if (typing || mod || ev.altKey) return;
  else if (ev.key === 'Enter') accept();
  else if (ev.key === 'Escape') clearPrompts();
  else if (ev.key.toLowerCase() === 'n') cycle();
  else if (ev.key.toLowerCase() === 'b') setTool('brush');
  else if (ev.key.toLowerCase() === 'e') setTool('eraser');
  else if (ev.key.toLowerCase() === 'z') undo();
  else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') step(-1);
  else if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') step(1);
  else if (ev.key === '+' || ev.key === '=') view.zoomAt(1.25);
  else if (ev.key === '-') view.zoomAt(0.8);
  else if (ev.key === '0') view.fit();
  else if (/^[1-9]$/.test(ev.key)) pickCategory(Number(ev.key) - 1);
  else return;
  ev.preventDefault();
});
window.addEventListener('beforeunload', (ev) => {
  if (state.dirty) {
    save().catch(() => undefined); // a last save; the browser asks only while one is still pending
    ev.preventDefault();
  }
});

const MODEL_POLL_MS = 5000;
let health = null;
function renderModel() {
  if (!health) return;
  const where =
    state.mode === 'browser'
      ? `clicks decoded in the browser (decoder ${decoder.sha256.slice(0, 12)})`
      : state.mode === 'server'
        ? 'clicks decoded by the server'
        : 'loading the decoder…';
  $('model').textContent =
    `${health.model} · ${health.engine} · ${health.backend} · ${state.version ? `${state.version} · ` : ''}${health.checkpoint.sha256.slice(0, 12)} · ${where}`;
}

/**
 * Reads the serving model; when its version or weights changed, the page loads their decoder
 * (`PageDecoder.load`: the next click after the load runs on it, a click in flight ends on the old
 * one) and reads the versions again.
 */
async function refreshModel() {
  health = await api('/api/health');
  // a model the page cannot decode (SAM 2.1: pageDecoder.reason says why): clicks go to POST /api/predict
  if (health.pageDecoder?.available === false) state.mode = 'server';
  state.threshold = Number(health.config.maskThreshold ?? 0);
  const sha = health.checkpoint.sha256;
  const version = health.activeVersion ?? null;
  if (version !== state.version && training.active !== null && version !== training.active)
    training.refresh().catch(() => undefined); // activated elsewhere (another tab, --auto-train)
  if (sha !== state.checkpoint || version !== state.version) {
    state.checkpoint = sha;
    state.version = version;
    if (state.mode !== 'server') {
      if (state.mode !== 'browser') state.mode = 'loading';
      renderModel();
      try {
        await decoder.load(`${version}:${sha}`);
        if (state.mode !== 'server') state.mode = 'browser';
        // a swap between /api/health and /api/decoder.onnx: the next poll loads the decoder again
        if (decoder.version && version && decoder.version !== version) state.version = null;
      } catch (e) {
        fallBack(e);
      }
    }
  }
  renderModel();
}

/** The model serving changed (a run passed the gate, activate, roll back): load it now, not at the next poll. */
let modelRefresh = Promise.resolve();
function activeChanged() {
  modelRefresh = modelRefresh.then(() => refreshModel()).catch(report);
  return modelRefresh;
}
const training = new TrainPanel({ onActive: activeChanged, report });

initToken();
view.resize();
render();
modelReady = refreshModel();
modelReady.catch(report);
setInterval(() => refreshModel().catch(() => undefined), MODEL_POLL_MS);
loadImages().catch(report);
training.init().catch(() => ($('training').hidden = true)); // a server without fine-tuning
