/**
 * Masks as simplified COCO polygons (the output X-AnyLabeling writes), for `GET /api/export
 * ?segmentation=polygon`: the outline of each connected region traced on the pixel grid by marching
 * squares (d3-contour, threshold 0.5, no smoothing), then simplified with Douglas-Peucker
 * (simplify-js) to `tolerance` pixels. COCO polygons have no holes: a region's holes are filled.
 * Regions whose simplified outline has fewer than 3 points (specks) are dropped.
 */
import { contours } from 'd3-contour';
import simplify from 'simplify-js';
import { cocoRleToMask, type CocoRle } from './rle.js';

/** Default Douglas-Peucker tolerance, in pixels. */
export const POLYGON_TOLERANCE = 1;

/**
 * A COCO RLE mask as polygons `[[x0,y0,x1,y1,...], ...]` (pixel-corner coordinates, x right, y down).
 * @param tolerance largest distance (pixels) of a dropped vertex from the simplified outline
 */
export function rleToPolygons(rle: CocoRle, tolerance = POLYGON_TOLERANCE): number[][] {
  const mask = cocoRleToMask(rle);
  const [h, w] = [mask.height, mask.width];
  // a 1-pixel empty border so every region's outline closes inside the grid
  const values = new Float64Array((w + 2) * (h + 2));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) values[(y + 1) * (w + 2) + x + 1] = mask.data[y * w + x] as number;
  const [shape] = contours()
    .size([w + 2, h + 2])
    .smooth(false)
    .thresholds([0.5])(Array.from(values));
  const out: number[][] = [];
  for (const polygon of shape?.coordinates ?? []) {
    const outer = polygon[0] ?? [];
    const pts = simplify(
      outer.map(([x, y]) => ({ x: (x as number) - 1, y: (y as number) - 1 })),
      tolerance,
      true,
    );
    if (pts.length > 1 && pts[0]!.x === pts.at(-1)!.x && pts[0]!.y === pts.at(-1)!.y) pts.pop(); // closed ring
    if (pts.length >= 3) out.push(pts.flatMap((p) => [Math.max(0, Math.min(w, p.x)), Math.max(0, Math.min(h, p.y))]));
  }
  return out;
}
