/* global document, window, confirm, URL, HTMLInputElement, HTMLSelectElement -- browser globals */
// The labelling page: pick or upload an image, prompt with clicks and boxes, accept masks under a
// category, save them as COCO. Every text from files or the server goes through textContent: the
// page never parses markup. Each prediction carries the sequence number of the prompts it
// answers: a reply for older prompts is dropped, and Accept during a prediction waits for the
// reply of the prompts on screen, so the accepted mask is always the one of the visible prompts.
import { api, initToken, loadImage, postBytes } from './api.js';
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
const state = {
  images: [],
  image: null,
  id: null,
  points: [],
  box: null,
  pred: null, // { seq, iou, masks, best, canvases }
  shown: 0,
  labels: [], // { category, segmentation, score, area, canvas }
  categories: [],
  dirty: false,
  seq: 0, // sequence number of the prompts on screen
  pendingSeq: 0, // sequence number of the prediction in flight (0: none)
  acceptQueued: false,
};
const view = new View($('view'));
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

function redraw() {
  const mask = state.pred && state.pred.seq === state.seq ? state.pred.canvases[state.shown] : null;
  view.draw({ labels: state.labels.map((l) => l.canvas), mask, box: drag?.box ?? state.box, points: state.points });
}
view.onchange = redraw;

function renderCategories() {
  const sel = $('category');
  const keep = sel.value;
  const names = [...new Set([...state.categories, ...state.labels.map((l) => l.category)])];
  sel.replaceChildren(...names.map((n) => el('option', { value: n, textContent: n })));
  if (names.includes(keep)) sel.value = keep;
}

function render() {
  $('labels').replaceChildren(
    ...state.labels.map((l, i) => {
      const swatch = el('span', { className: 'swatch' });
      swatch.style.background = `rgb(${colorOf(l.category).join(',')})`;
      const del = el('button', { title: 'delete', textContent: '×' });
      del.onclick = () => {
        state.labels.splice(i, 1);
        state.dirty = true;
        render();
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
  $('mask').textContent = p
    ? `mask ${state.shown + 1}/${p.masks.length}: IoU ${p.iou[state.shown].toFixed(3)}, ${p.masks[state.shown].area} px`
    : state.pendingSeq
      ? 'waiting for the mask…'
      : 'click: positive point · shift-click: negative · drag: box';
  $('save').textContent = state.dirty ? 'Save*' : 'Save';
  redraw();
}

function renderImages() {
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
    status(`${name}: ${r.width}x${r.height}${r.cached ? ' (cached)' : ''}`);
  } finally {
    if (name === state.image) busy(false);
  }
}

async function predict() {
  const seq = ++state.seq;
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
      r = await api('/api/predict', body);
    } catch (e) {
      if (e.name !== 'UnknownEmbeddingError') throw e;
      await embed();
      r = await api('/api/predict', { ...body, id: state.id });
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
  state.pred = { ...r, seq, canvases: r.masks.map((m) => rleCanvas(m, PRED_RGB)) };
  state.shown = r.best;
  render();
  if (state.acceptQueued) {
    state.acceptQueued = false;
    accept();
  }
}

async function openImage(name) {
  if (name === state.image) return;
  if (state.dirty && !confirm(`Discard unsaved labels of ${state.image}?`)) return;
  Object.assign(state, { image: name, id: null, points: [], box: null, pred: null, labels: [], dirty: false });
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
  if (state.pendingSeq === state.seq) {
    state.acceptQueued = true;
    return status('accepting when the mask of these prompts arrives…');
  }
  const category = $('category').value;
  if (!state.pred || state.pred.seq !== state.seq)
    return status('no mask to accept: click or drag on the image first', true);
  if (!category) {
    $('new-category').focus();
    return status('add a category first', true);
  }
  const m = state.pred.masks[state.shown];
  addLabel(category, { size: m.size, counts: m.counts }, state.pred.iou[state.shown]);
  Object.assign(state, { points: [], box: null, pred: null, dirty: true });
  state.seq++;
  status(`accepted a ${category} mask (${m.area} px)`);
  render();
}
function clearPrompts() {
  Object.assign(state, { points: [], box: null, pred: null, pendingSeq: 0, acceptQueued: false });
  state.seq++;
  busy(false);
  render();
}
function undo() {
  if (state.points.length) state.points.pop();
  else if (state.box) state.box = null;
  else if (state.labels.length) {
    state.labels.pop();
    state.dirty = true;
    return render();
  } else return;
  predict();
}
function cycle() {
  if (state.pred && state.pred.seq === state.seq) {
    state.shown = (state.shown + 1) % state.pred.masks.length;
    render();
  }
}
async function save() {
  if (!state.image) return;
  const r = await api('/api/labels', {
    image: state.image,
    annotations: state.labels.map(({ category, segmentation, score }) => ({
      category,
      segmentation,
      score: score ?? null,
    })),
  });
  state.dirty = false;
  render();
  status(`saved ${r.saved} labels of ${state.image} to ${r.file}`);
  await loadImages();
}
function addCategory() {
  const name = $('new-category').value.trim();
  if (!name) return;
  state.categories = [...new Set([...state.categories, name])];
  renderCategories();
  $('category').value = name;
  $('new-category').value = '';
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
  if (!pan && !state.id) return status('the image is still being embedded…');
  drag = { pan, start: view.toImage(ev), client: [ev.clientX, ev.clientY], last: [ev.clientX, ev.clientY], box: null };
});
window.addEventListener('mousemove', (ev) => {
  if (!drag) return;
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
  if (!d || d.pan) return;
  if (d.box) {
    if (d.box[2] > d.box[0] && d.box[3] > d.box[1]) state.box = d.box;
  } else state.points.push([...d.start, ev.shiftKey || ev.button === 2 ? 0 : 1]);
  predict();
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
  else if (ev.key.toLowerCase() === 'z') undo();
  else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') step(-1);
  else if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') step(1);
  else if (ev.key === '+' || ev.key === '=') view.zoomAt(1.25);
  else if (ev.key === '-') view.zoomAt(0.8);
  else if (ev.key === '0') view.fit();
  else return;
  ev.preventDefault();
});
window.addEventListener('beforeunload', (ev) => {
  if (state.dirty) ev.preventDefault();
});

initToken();
view.resize();
render();
api('/api/health')
  .then((h) => {
    $('model').textContent = `${h.model} · ${h.engine} · ${h.backend} · ${h.checkpoint.sha256.slice(0, 12)}`;
  })
  .catch(report);
loadImages().catch(report);
