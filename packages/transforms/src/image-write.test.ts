import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readImage } from './image-io.js';
import { writeMaskPng, writeOverlayPng } from './image-write.js';
import { createMask, MaskShapeError } from './mask.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeMaskPng / writeOverlayPng', () => {
  it('writes a mask as 0/255 and reads back the same pixels', async () => {
    const mask = createMask(4, 3, [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    const file = join(dir, 'sub', 'mask.png');
    await writeMaskPng(file, mask);
    const png = readFileSync(file);
    expect([png[24], png[25]]).toEqual([8, 0]); // IHDR: bit depth 8, colour type 0 (grey, one channel)
    const back = await readImage(file);
    expect([back.width, back.height]).toEqual([4, 3]);
    expect(Array.from({ length: 12 }, (_, i) => back.data[i * 3])).toEqual([
      0, 255, 255, 0, 0, 255, 0, 0, 0, 0, 0, 255,
    ]);
  });

  it('blends the first mask colour at 50% and draws a white box outline', async () => {
    const img = { width: 20, height: 10, data: new Uint8Array(20 * 10 * 3).fill(100) };
    const m = createMask(20, 10);
    (m.data as Uint8Array)[5 * 20 + 10] = 1;
    const file = join(dir, 'overlay.png');
    await writeOverlayPng(file, img, [m], { boxes: [[2, 2, 6, 6]] });
    const back = await readImage(file);
    const px = (x: number, y: number) => Array.from(back.data.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3));
    expect(px(10, 5)).toEqual([65, 122, 178]); // 0.5*100 + 0.5*(30,144,255)
    expect(px(2, 4)).toEqual([255, 255, 255]);
    expect(px(0, 0)).toEqual([100, 100, 100]);
    await expect(writeOverlayPng(file, img, [createMask(3, 3)])).rejects.toThrow(MaskShapeError);
  });
});
