/* global document, ImageData, ResizeObserver -- browser globals */
// The image view: one canvas the size of its container, drawing the image, the saved labels, the
// current mask and the prompts under a zoom/pan transform. Image pixels are the ORIGINAL image's
// (x right, y down); `toImage` maps a mouse event to them.
const MIN_ZOOM = 0.05;
const MAX_ZOOM = 40;

/** COCO uncompressed RLE (column-major runs, starting with background) -> an opaque coloured canvas. */
export function rleCanvas(rle, rgb) {
  const [h, w] = rle.size;
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const im = new ImageData(w, h);
  const d = im.data;
  let i = 0;
  rle.counts.forEach((n, k) => {
    if (k % 2)
      for (let j = i; j < i + n; j++) {
        const o = ((j % h) * w + Math.floor(j / h)) * 4;
        d[o] = rgb[0];
        d[o + 1] = rgb[1];
        d[o + 2] = rgb[2];
        d[o + 3] = 255;
      }
    i += n;
  });
  c.getContext('2d').putImageData(im, 0, 0);
  return c;
}

export class View {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.img = null;
    this.zoom = 1;
    this.ox = 0;
    this.oy = 0;
    this.opacity = 0.5;
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
  }

  resize() {
    const r = this.canvas.parentElement.getBoundingClientRect();
    this.canvas.width = Math.max(1, Math.floor(r.width));
    this.canvas.height = Math.max(1, Math.floor(r.height));
    this.onchange?.();
  }

  /** Shows `img` fitted to the view. */
  setImage(img) {
    this.img = img;
    this.canvas.dataset.imageWidth = String(img.naturalWidth);
    this.canvas.dataset.imageHeight = String(img.naturalHeight);
    this.fit();
  }

  fit() {
    if (!this.img) return;
    const { width: W, height: H } = this.canvas;
    this.zoom = Math.min(W / this.img.naturalWidth, H / this.img.naturalHeight);
    this.ox = (W - this.img.naturalWidth * this.zoom) / 2;
    this.oy = (H - this.img.naturalHeight * this.zoom) / 2;
    this.onchange?.();
  }

  /** Multiplies the zoom by `factor` keeping the view point (cx, cy) (canvas pixels) fixed. */
  zoomAt(factor, cx = this.canvas.width / 2, cy = this.canvas.height / 2) {
    const z = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoom * factor));
    this.ox = cx - ((cx - this.ox) * z) / this.zoom;
    this.oy = cy - ((cy - this.oy) * z) / this.zoom;
    this.zoom = z;
    this.onchange?.();
  }

  pan(dx, dy) {
    this.ox += dx;
    this.oy += dy;
    this.onchange?.();
  }

  /** Canvas pixels of a mouse event. */
  toCanvas(ev) {
    const r = this.canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }

  /** ORIGINAL image pixels of a mouse event, clamped to the image. */
  toImage(ev) {
    const [cx, cy] = this.toCanvas(ev);
    const clamp = (v, m) => Math.min(Math.max(v, 0), m);
    return [
      clamp((cx - this.ox) / this.zoom, this.img.naturalWidth),
      clamp((cy - this.oy) / this.zoom, this.img.naturalHeight),
    ];
  }

  /** Draws everything: `labels` (canvases), `mask` (a canvas or null), `box` XYXY, `points` [x, y, label]. */
  draw({ labels, mask, box, points }) {
    const { ctx, canvas } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#2b2b2b';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!this.img) return;
    ctx.setTransform(this.zoom, 0, 0, this.zoom, this.ox, this.oy);
    ctx.imageSmoothingEnabled = this.zoom < 2;
    ctx.drawImage(this.img, 0, 0);
    ctx.globalAlpha = this.opacity;
    for (const l of labels) ctx.drawImage(l, 0, 0);
    if (mask) ctx.drawImage(mask, 0, 0);
    ctx.globalAlpha = 1;
    const s = 1 / this.zoom;
    if (box) {
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 2 * s;
      ctx.setLineDash([6 * s, 4 * s]);
      ctx.strokeRect(box[0], box[1], box[2] - box[0], box[3] - box[1]);
      ctx.setLineDash([]);
    }
    for (const [x, y, label] of points) {
      ctx.beginPath();
      ctx.arc(x, y, 6 * s, 0, 2 * Math.PI);
      ctx.fillStyle = label ? '#2ecc40' : '#ff4136';
      ctx.fill();
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 2 * s;
      ctx.stroke();
    }
  }
}
