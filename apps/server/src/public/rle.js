// COCO uncompressed RLE on the page: runs of 0 and 1 (starting with 0) over the pixels in
// column-major order, `{ size: [H, W], counts, area }`, to and from row-major planes.

/** COCO RLE -> row-major 0/1 plane (`Uint8Array` of H * W). */
export function rleToPlane(rle) {
  const [h, w] = rle.size;
  const plane = new Uint8Array(h * w);
  let i = 0;
  rle.counts.forEach((n, k) => {
    if (k % 2) for (let j = i; j < i + n; j++) plane[(j % h) * w + Math.floor(j / h)] = 1;
    i += n;
  });
  return plane;
}

/** COCO RLE of an H x W mask whose pixels are given one by one in column-major order (`push`). */
export class RleBuilder {
  constructor(h, w) {
    this.size = [h, w];
    this.counts = [];
    this.run = 0;
    this.on = false;
    this.area = 0;
  }

  /** The next pixel (column-major): on or off. */
  push(v) {
    if (v !== this.on) {
      this.counts.push(this.run);
      this.run = 0;
      this.on = v;
    }
    this.run++;
    if (v) this.area++;
  }

  /** `{ size: [H, W], counts, area }` once every pixel is pushed. */
  done() {
    this.counts.push(this.run);
    return { size: this.size, counts: this.counts, area: this.area };
  }
}

/** The pixels of a row-major H x W plane (at `offset` in `values`) above `threshold`, as COCO RLE. */
export function planeToRle(values, h, w, threshold = 0, offset = 0) {
  const rle = new RleBuilder(h, w);
  for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) rle.push(values[offset + y * w + x] > threshold);
  return rle.done();
}
