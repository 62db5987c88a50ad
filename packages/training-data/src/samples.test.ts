import { describe, expect, it } from 'vitest';
import { createMask, ResizeGeometry } from '@samtune/transforms';
import type { BinaryMask } from '@samtune/transforms';
import {
  buildPrompts,
  chunks,
  computeImageTargets,
  derivedRng,
  shuffled,
  TargetStore,
  toDecoderBatch,
  type TrainItem,
} from './samples.js';

/** A W x H mask with the rectangle [x0..x1] x [y0..y1] (inclusive) set. */
function rect(w: number, h: number, x0: number, y0: number, x1: number, y1: number): BinaryMask {
  const m = createMask(w, h);
  for (let y = y0; y <= y1; y++) m.data.fill(1, y * w + x0, y * w + x1 + 1);
  return m;
}

const item: TrainItem = {
  id: 'img',
  imagePath: '/nowhere/img.png',
  width: 512,
  height: 384,
  instances: [
    { id: 'a', mask: () => rect(512, 384, 100, 40, 163, 103) },
    { id: 'b', mask: () => rect(512, 384, 0, 0, 511, 127) },
    { id: 'crowd', iscrowd: true, mask: () => rect(512, 384, 0, 0, 10, 10) },
    { id: 'empty', mask: () => createMask(512, 384) },
    { id: 'c', mask: async () => rect(512, 384, 300, 200, 301, 201) },
  ],
};

describe('training samples', () => {
  it('keeps crowd instances by default (CVAT masks are iscrowd 1) and leaves them out with crowd ignore', async () => {
    const kept = await computeImageTargets(item, 0);
    expect([kept.crowd, kept.skippedCrowd, kept.skippedEmpty]).toEqual([1, 0, 1]);
    expect(kept.targets.map((x) => x.instanceId)).toEqual(['a', 'b', 'crowd', 'c']);
    expect(kept.targets[2]?.box).toEqual([0, 0, 10, 10]);
    const store = new TargetStore(0, false, 'ignore');
    expect((await store.get(item)).targets.map((x) => x.instanceId)).toEqual(['a', 'b', 'c']);
  });

  it('keeps tight inclusive boxes and exact low-res targets, skipping crowd (ignore) and empty instances', async () => {
    const t = await computeImageTargets(item, 0, false, 'ignore');
    expect(t.skippedCrowd).toBe(1);
    expect(t.crowd).toBe(0);
    expect(t.skippedEmpty).toBe(1);
    expect(t.targets.map((x) => x.instanceId)).toEqual(['a', 'b', 'c']);
    expect(t.targets.map((x) => x.box)).toEqual([
      [100, 40, 163, 103],
      [0, 0, 511, 127],
      [300, 200, 301, 201],
    ]);
    // 512x384 → 1024x768 (x2), low-res = /4 of that: rectangle 'a' covers x 200..327 → 50..81, y 80..207 → 20..51: 32x32 pixels.
    const sum = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0);
    expect(sum(t.targets[0]?.lowRes as Uint8Array)).toBe(32 * 32);
    expect(sum(t.targets[1]?.lowRes as Uint8Array)).toBe(256 * 64);
    expect(t.targets[0]?.interior).toBeUndefined();
    const withPoints = await computeImageTargets(item, 0, true, 'ignore');
    const a = withPoints.targets[0];
    expect(a?.pointPool).toHaveLength(32);
    for (const [x, y] of a?.pointPool ?? []) expect(x >= 100 && x <= 163 && y >= 40 && y <= 103).toBe(true);
  });

  it('builds seeded, capped prompts and 1024-frame decoder batches', async () => {
    const store = new TargetStore(0, true, 'ignore');
    const t = (await store.get(item)).targets;
    expect(await store.get(item)).toBe(await store.get(item));
    const opts = { mode: 'box' as const, points: 1, jitterFraction: 0, jitterPixels: 0 };
    const fixed = buildPrompts(item, t, opts, 2);
    expect(fixed.map((p) => p.target.instanceId)).toEqual(['a', 'b']);
    const r1 = buildPrompts(item, t, opts, 2, derivedRng(0, 'epoch', 1)).map((p) => p.target.instanceId);
    const r2 = buildPrompts(item, t, opts, 2, derivedRng(0, 'epoch', 1)).map((p) => p.target.instanceId);
    expect(r1).toEqual(r2);
    expect(r1).toHaveLength(2);
    const jittered = buildPrompts(item, t, { ...opts, jitterFraction: 0.1 }, 0, derivedRng(0, 'j'));
    for (const p of jittered) {
      const b = p.box as readonly number[];
      const w = p.target.box[2] - p.target.box[0] + 1;
      expect(Math.abs((b[0] as number) - p.target.box[0])).toBeLessThanOrEqual(0.1 * w + 1e-9);
    }
    const { batch, targets } = toDecoderBatch(fixed, new ResizeGeometry([384, 512]));
    expect(batch.size).toBe(2);
    expect(Array.from(batch.boxes ?? [])).toEqual([200, 80, 326, 206, 0, 0, 1022, 254]);
    expect(targets.length).toBe(2 * 65536);
    const points = buildPrompts(item, t, { ...opts, mode: 'point' }, 0);
    const pb = toDecoderBatch(points, new ResizeGeometry([384, 512])).batch;
    expect(pb.numPoints).toBe(1);
    expect(pb.boxes).toBeUndefined();
    expect(Array.from(pb.labels ?? [])).toEqual([1, 1, 1]);
    expect(buildPrompts(item, t, { ...opts, mode: 'both' }, 0).every((p) => p.box !== undefined)).toBe(true);
  });

  it('shuffles deterministically and chunks', () => {
    expect(shuffled([1, 2, 3, 4, 5], derivedRng(3, 'x'))).toEqual(shuffled([1, 2, 3, 4, 5], derivedRng(3, 'x')));
    expect([...shuffled([1, 2, 3, 4, 5], derivedRng(3, 'x'))].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
