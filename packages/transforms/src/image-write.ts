/**
 * Writing masks and overlays as PNG (sharp): `samtune predict --out mask.png` and the demo's
 * overlays. Masks are 8-bit gray 0/255; overlays blend a colour per mask over the photo and draw
 * prompt boxes/points.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from './image-io.js';
import { assertMask, type BinaryMask, MaskShapeError } from './mask.js';

/** Distinct colours for overlays, cycled per mask (RGB). */
export const OVERLAY_COLORS: readonly (readonly [number, number, number])[] = [
  [30, 144, 255],
  [255, 99, 71],
  [50, 205, 50],
  [255, 215, 0],
  [186, 85, 211],
  [0, 206, 209],
  [255, 140, 0],
  [199, 21, 133],
];

/** Writes a binary mask as an 8-bit gray PNG (0 outside, 255 inside). Creates the folder. */
export async function writeMaskPng(path: string, mask: BinaryMask): Promise<void> {
  assertMask('writeMaskPng', 'mask', mask);
  const gray = new Uint8Array(mask.data.length);
  for (let i = 0; i < gray.length; i++) gray[i] = mask.data[i] ? 255 : 0;
  mkdirSync(dirname(path), { recursive: true });
  // 'b-w' keeps the PNG one-channel (colour type 0); sharp would otherwise write RGB.
  await sharp(gray, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(path);
}

/** What to draw on an overlay besides the masks: prompts in ORIGINAL image pixels. */
export interface OverlayPrompts {
  /** XYXY boxes. */
  readonly boxes?: readonly (readonly [number, number, number, number])[];
  /** XY points with labels (1 foreground: green, 0 background: red). */
  readonly points?: readonly { readonly x: number; readonly y: number; readonly label: number }[];
}

function setPixel(
  rgb: Uint8Array,
  w: number,
  h: number,
  x: number,
  y: number,
  c: readonly [number, number, number],
): void {
  if (x < 0 || y < 0 || x >= w || y >= h) return;
  const o = (y * w + x) * 3;
  rgb[o] = c[0];
  rgb[o + 1] = c[1];
  rgb[o + 2] = c[2];
}

/**
 * Blends each mask over `img` (alpha 0.5, colour per mask), outlines prompt boxes and marks points,
 * and writes a PNG.
 */
export async function writeOverlayPng(
  path: string,
  img: RgbImage,
  masks: readonly BinaryMask[],
  prompts: OverlayPrompts = {},
): Promise<void> {
  const { width: w, height: h } = img;
  const rgb = Uint8Array.from(img.data);
  masks.forEach((m, k) => {
    assertMask('writeOverlayPng', `masks[${k}]`, m);
    if (m.width !== w || m.height !== h) {
      throw new MaskShapeError(
        `writeOverlayPng(masks[${k}]): mask (H,W)=(${m.height},${m.width}) differs from the image (${h},${w})`,
      );
    }
    const c = OVERLAY_COLORS[k % OVERLAY_COLORS.length] as readonly [number, number, number];
    for (let i = 0; i < m.data.length; i++) {
      if (!m.data[i]) continue;
      for (let ch = 0; ch < 3; ch++)
        rgb[i * 3 + ch] = Math.round(0.5 * (rgb[i * 3 + ch] as number) + 0.5 * (c[ch] as number));
    }
  });
  const thick = Math.max(1, Math.round(Math.max(w, h) / 400));
  for (const [x0, y0, x1, y1] of prompts.boxes ?? []) {
    const [ax, ay, bx, by] = [x0, y0, x1, y1].map(Math.round) as [number, number, number, number];
    for (let t = 0; t < thick; t++) {
      for (let x = ax; x <= bx; x++) {
        setPixel(rgb, w, h, x, ay + t, [255, 255, 255]);
        setPixel(rgb, w, h, x, by - t, [255, 255, 255]);
      }
      for (let y = ay; y <= by; y++) {
        setPixel(rgb, w, h, ax + t, y, [255, 255, 255]);
        setPixel(rgb, w, h, bx - t, y, [255, 255, 255]);
      }
    }
  }
  const r = 3 * thick;
  for (const p of prompts.points ?? []) {
    const c: readonly [number, number, number] = p.label === 1 ? [0, 255, 0] : [255, 0, 0];
    for (let dy = -r; dy <= r; dy++) {
      for (let dx = -r; dx <= r; dx++)
        if (dx * dx + dy * dy <= r * r) setPixel(rgb, w, h, Math.round(p.x) + dx, Math.round(p.y) + dy, c);
    }
  }
  mkdirSync(dirname(path), { recursive: true });
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(path);
}
