import { readFileSync } from 'node:fs';
import { rasterizePolygon, rasterizePolygonCenters } from './src/polygon.js';
let tot = 0, totC = 0, diff = 0, maxRel = 0, nPoly = 0, shoe = 0; const t0 = Date.now();
for (const s of ['train', 'valid']) {
  const d = JSON.parse(readFileSync(`/work/shared/datasets/plant-seg-coco/${s}/_annotations.coco.json`, 'utf8'));
  const imgs = new Map(d.images.map((i: any) => [i.id, i]));
  for (const a of d.annotations) {
    const im: any = imgs.get(a.image_id);
    for (const p of a.segmentation) {
      const xy = p.map(Number);
      const m1 = rasterizePolygon(xy, im.height, im.width);
      const m2 = rasterizePolygonCenters(xy, im.height, im.width);
      let c1 = 0, c2 = 0, dd = 0;
      for (let i = 0; i < m1.length; i++) { c1 += m1[i]!; c2 += m2[i]!; dd += m1[i] !== m2[i] ? 1 : 0; }
      let A = 0; const n = xy.length / 2; for (let i = 0; i < n; i++) { const j = (i + 1) % n; A += xy[2*i]*xy[2*j+1] - xy[2*j]*xy[2*i+1]; }
      shoe += Math.abs(A) / 2;
      tot += c1; totC += c2; diff += dd; nPoly++; maxRel = Math.max(maxRel, dd / Math.max(1, c1));
    }
  }
}
console.log({ nPoly, tot, totC, diff, maxRel, shoe, ms: Date.now() - t0 });
