/* global document, ImageData -- browser globals */
// Brush and eraser corrections of a proposed mask: the mask as a row-major 0/1 plane at the
// original image size, painted with round strokes, drawn on its own canvas, and turned back into
// COCO RLE (column-major runs) when accepted, so a corrected mask is saved like any other.
import { planeToRle, rleToPlane } from './rle.js';

/** An editable mask: `paint` strokes with the brush (1) or the eraser (0). */
export class MaskEdit {
  /** @param rle the proposed mask to correct, or null to start from an empty one */
  constructor(w, h, rle, rgb) {
    this.w = w;
    this.h = h;
    this.rgb = rgb;
    this.plane = rle ? rleToPlane(rle) : new Uint8Array(w * h);
    this.canvas = document.createElement('canvas');
    this.canvas.width = w;
    this.canvas.height = h;
    const im = new ImageData(w, h);
    for (let i = 0; i < this.plane.length; i++) if (this.plane[i]) im.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
    this.canvas.getContext('2d').putImageData(im, 0, 0);
    this.last = null;
  }

  /** Paints a disc of radius `r` (image pixels) at (x, y), joined to the previous point of the stroke. */
  paint(x, y, r, value) {
    const from = this.last ?? [x, y];
    const steps = Math.max(1, Math.ceil(Math.hypot(x - from[0], y - from[1]) / Math.max(1, r / 2)));
    const ctx = this.canvas.getContext('2d');
    ctx.globalCompositeOperation = value ? 'source-over' : 'destination-out';
    ctx.fillStyle = `rgb(${this.rgb.join(',')})`;
    for (let s = 1; s <= steps; s++) {
      const cx = from[0] + ((x - from[0]) * s) / steps;
      const cy = from[1] + ((y - from[1]) * s) / steps;
      for (let yy = Math.max(0, Math.ceil(cy - r)); yy <= Math.min(this.h - 1, Math.floor(cy + r)); yy++) {
        const dx = Math.sqrt(Math.max(0, r * r - (yy + 0.5 - cy) ** 2));
        const x0 = Math.max(0, Math.ceil(cx - dx - 0.5));
        const x1 = Math.min(this.w - 1, Math.floor(cx + dx - 0.5));
        if (x1 >= x0) {
          this.plane.fill(value, yy * this.w + x0, yy * this.w + x1 + 1);
          if (value) ctx.fillRect(x0, yy, x1 - x0 + 1, 1);
          else ctx.clearRect(x0, yy, x1 - x0 + 1, 1);
        }
      }
    }
    ctx.globalCompositeOperation = 'source-over';
    this.last = [x, y];
  }

  endStroke() {
    this.last = null;
  }

  area() {
    let n = 0;
    for (let i = 0; i < this.plane.length; i++) n += this.plane[i];
    return n;
  }

  toRle() {
    return planeToRle(this.plane, this.h, this.w);
  }
}
