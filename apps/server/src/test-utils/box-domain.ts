/**
 * Test- and bench-only: a labelled domain where decoder fine-tuning can help, because the target is
 * the prompt itself: each image is a noisy dark field with one lighter rectangle, and its accepted
 * mask is exactly that rectangle (the box prompt). Seeded, small (`size` pixels on the long side).
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { LabelStore } from '../labels-store.js';
import { maskToCocoRle } from '../rle.js';

/** One image of the domain and its object's box (XYXY, original pixels, exclusive max). */
export interface BoxImage {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly box: readonly [number, number, number, number];
}

/** What `boxDomain` wrote. */
export interface BoxDomain {
  readonly category: string;
  /** Every image, labelled ones first. */
  readonly images: readonly BoxImage[];
  /** The images left without labels (to be labelled on the page). */
  readonly unlabelled: readonly BoxImage[];
}

/** Options of `boxDomain`. */
export interface BoxDomainOptions {
  /** Images whose box mask is saved as an accepted label. Default 12. */
  readonly labelled?: number;
  /** Images written without labels. Default 3. */
  readonly unlabelled?: number;
  /** Image width; height is 3/4 of it. Default 96. */
  readonly size?: number;
  readonly seed?: number;
}

/** A small seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes the domain's PNGs into `dir` and saves the labelled images' box masks (category `box`)
 * through the server's label store, as the page's Accept does.
 */
export async function boxDomain(dir: string, opts: BoxDomainOptions = {}): Promise<BoxDomain> {
  const labelled = opts.labelled ?? 12;
  const count = labelled + (opts.unlabelled ?? 3);
  const width = opts.size ?? 96;
  const height = Math.round((width * 3) / 4);
  const rand = rng(opts.seed ?? 21);
  const store = new LabelStore(dir);
  const images: BoxImage[] = [];
  for (let i = 0; i < count; i++) {
    const bw = Math.round(width * (0.25 + 0.4 * rand()));
    const bh = Math.round(height * (0.25 + 0.4 * rand()));
    const x0 = Math.floor(rand() * (width - bw));
    const y0 = Math.floor(rand() * (height - bh));
    const box = [x0, y0, x0 + bw, y0 + bh] as const;
    const rgb = Buffer.alloc(width * height * 3);
    const mask = new Uint8Array(width * height);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const inside = x >= x0 && x < box[2] && y >= y0 && y < box[3];
        if (inside) mask[y * width + x] = 1;
        const base = inside ? 150 : 40;
        for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = base + Math.floor(rand() * 60) + c * 10;
      }
    const name = `box-${String(i).padStart(2, '0')}.png`;
    await sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(join(dir, name));
    images.push({ name, width, height, box });
    if (i < labelled)
      await store.save(name, width, height, [
        { category: 'box', segmentation: maskToCocoRle({ width, height, data: mask }) },
      ]);
  }
  return { category: 'box', images, unlabelled: images.slice(labelled) };
}
