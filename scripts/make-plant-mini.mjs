// Builds examples/plant-mini (the demo's shipped dataset) from ../shared/datasets/plant-seg-coco:
// a few photos per subset, downscaled 4x to 512x384, polygons/boxes/areas scaled to match.
// Usage: node scripts/make-plant-mini.mjs   (re-running gives the same files)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

// sharp is a dependency of @samtune/transforms (the only package that decodes images).
const sharp = createRequire(new URL('../packages/transforms/package.json', import.meta.url))('sharp');

const SRC = '../shared/datasets/plant-seg-coco';
const DST = 'examples/plant-mini';
const SCALE = 0.25;
const PICK = { train: { arugula: 3, wheat: 3 }, valid: { arugula: 2, wheat: 2 } };

const num = (v) => Number(v);
for (const [subset, want] of Object.entries(PICK)) {
  const coco = JSON.parse(readFileSync(join(SRC, subset, '_annotations.coco.json'), 'utf8'));
  const count = new Map();
  for (const a of coco.annotations) count.set(a.image_id, (count.get(a.image_id) ?? 0) + 1);
  const images = [];
  for (const [kind, n] of Object.entries(want)) {
    const pool = coco.images
      .filter((im) => im.file_name.startsWith(kind) && (count.get(im.id) ?? 0) >= 4 && (count.get(im.id) ?? 0) <= 8)
      .sort((a, b) => a.file_name.localeCompare(b.file_name));
    images.push(...pool.slice(0, n));
  }
  mkdirSync(join(DST, subset), { recursive: true });
  const ids = new Set(images.map((im) => im.id));
  for (const im of images) {
    await sharp(join(SRC, subset, im.file_name))
      .resize(Math.round(im.width * SCALE), Math.round(im.height * SCALE), { kernel: 'lanczos3' })
      .jpeg({ quality: 88 })
      .toFile(join(DST, subset, im.file_name));
  }
  const out = {
    info: {
      ...coco.info,
      description: `plant-mini: ${images.length} photos of plant-seg-coco/${subset}, downscaled 4x (CC BY 4.0)`,
    },
    licenses: coco.licenses,
    categories: coco.categories,
    images: images.map((im) => ({ ...im, width: Math.round(im.width * SCALE), height: Math.round(im.height * SCALE) })),
    annotations: coco.annotations
      .filter((a) => ids.has(a.image_id))
      .map((a) => ({
        ...a,
        bbox: a.bbox.map((v) => +(num(v) * SCALE).toFixed(3)),
        area: +(num(a.area) * SCALE * SCALE).toFixed(3),
        segmentation: a.segmentation.map((poly) => poly.map((v) => +(num(v) * SCALE).toFixed(3))),
      })),
  };
  writeFileSync(join(DST, subset, '_annotations.coco.json'), `${JSON.stringify(out)}\n`);
  console.log(`${subset}: ${out.images.length} images, ${out.annotations.length} instances`);
}
writeFileSync(
  join(DST, 'SOURCE.md'),
  `# plant-mini\n\nA few photos of the plant_segmentation dataset (Roboflow Universe, s-workspace-dfhn8/plant_segmentation-n622c,\nprovided by a Roboflow user), licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).\nChanges: a subset of images, downscaled 4x to 512x384; polygons, boxes and areas scaled to match\n(scripts/make-plant-mini.mjs). Used by \`pnpm demo\`.\n`,
);
