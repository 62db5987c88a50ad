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

/** The pixels of a row-major H x W plane (at `offset` in `values`) above `threshold`, as COCO RLE. */
export function planeToRle(values, h, w, threshold = 0, offset = 0) {
  const counts = [];
  let run = 0;
  let on = false;
  let area = 0;
  for (let x = 0; x < w; x++)
    for (let y = 0; y < h; y++) {
      const v = values[offset + y * w + x] > threshold;
      if (v !== on) {
        counts.push(run);
        run = 0;
        on = v;
      }
      run++;
      if (v) area++;
    }
  counts.push(run);
  return { size: [h, w], counts, area };
}
