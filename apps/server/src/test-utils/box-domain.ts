/**
 * Test-only: a labelled domain where fine-tuning the decoder measurably helps with seeded weights.
 * Each small image holds a few ellipses of one colour on a plain background, and each label is the
 * ellipse inscribed in its box: the decoder can learn the mask from the box prompt alone, so a short
 * run improves the held-out F1. Labels are saved through the server's `LabelStore`, as the page does.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '@samtune/sam-model';
import { LabelStore } from '../labels-store.js';
import { maskToCocoRle } from '../rle.js';

/** What `makeBoxDomain` wrote. */
export interface BoxDomain {
  readonly dir: string;
  readonly images: readonly string[];
  /** Accepted instances saved. */
  readonly instances: number;
}

/**
 * Writes `count` PNGs of `(width,height)` with `perImage` ellipses each into `dir`, and their masks
 * (the ellipse inscribed in each box) into the labels file.
 */
export async function makeBoxDomain(
  dir: string,
  opts: {
    count: number;
    perImage?: number;
    width?: number;
    height?: number;
    seed?: number;
    /** The target in each box: the ellipse inscribed in it, or the whole box. Default ellipse. */
    shape?: 'ellipse' | 'box';
    /** Box sides as fractions of the image's: `[min, max]`. Default `[0.25, 0.45]`. */
    size?: readonly [number, number];
  },
): Promise<BoxDomain> {
  const { count, perImage = 2, width = 96, height = 72, shape = 'ellipse', size = [0.25, 0.45] } = opts;
  const rand = mulberry32(opts.seed ?? 1);
  await mkdir(dir, { recursive: true });
  const store = new LabelStore(dir);
  const images: string[] = [];
  let instances = 0;
  for (let i = 0; i < count; i++) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let p = 0; p < width * height; p++) rgb.set([40, 60, 90], p * 3);
    const labels = [];
    for (let k = 0; k < perImage; k++) {
      const w = Math.round(width * (size[0] + (size[1] - size[0]) * rand()));
      const h = Math.round(height * (size[0] + (size[1] - size[0]) * rand()));
      const x0 = Math.floor(rand() * (width - w));
      const y0 = Math.floor(rand() * (height - h));
      const mask = new Uint8Array(width * height);
      const [cx, cy, rx, ry] = [x0 + w / 2, y0 + h / 2, w / 2, h / 2];
      for (let y = y0; y < y0 + h; y++)
        for (let x = x0; x < x0 + w; x++)
          if (shape === 'box' || ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) {
            mask[y * width + x] = 1;
            rgb.set([230, 200, 40], (y * width + x) * 3);
          }
      labels.push({ category: 'ellipse', segmentation: maskToCocoRle({ data: mask, width, height }) });
    }
    const name = `img${String(i).padStart(2, '0')}.png`;
    await sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(join(dir, name));
    await store.save(name, width, height, labels);
    images.push(name);
    instances += labels.length;
  }
  return { dir, images, instances };
}
