/**
 * `samtune eval` on a SAM 2.1 checkpoint (the seeded reduced-Hiera fixture): plant-mini's valid
 * subset, box prompts decoded on onnxruntime by `Sam2OrtDecoder` (the official single-mask rule) on
 * the `sam2` embedding cache (its entries carry high_res_feats); a second run reads the cache and
 * gives the same metrics; `--clicks` measures clicks-to-quality on the same decoder (the previous
 * low-res logits fed back as mask input), printed and in `--json`.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '@samtune/tensor-files';
import { afterAll, describe, expect, it } from 'vitest';
import { recordingIO } from '../test-utils/io.js';
import { writeSam2MiniCheckpoint } from '../test-utils/sam2-mini.js';
import { evalCommand } from './eval.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-sam2-eval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const plantMini = resolve(fileURLToPath(import.meta.url), '../../../../../examples/plant-mini');

describe('samtune eval (SAM 2.1)', () => {
  it('box prompts on plant-mini valid: metrics from the sam2 cache, the same on a cached second run', async () => {
    const ckpt = await writeSam2MiniCheckpoint(dir);
    const cache = join(dir, 'cache');
    const args = ['--checkpoint', ckpt, '--data-root', plantMini, '--max-instances', '2', '--json'];
    const run = async (): Promise<{ printed: Record<string, number>; stderr: string }> => {
      const io = recordingIO();
      expect(await evalCommand.run([...args, '--cache-dir', cache], io)).toBe(0);
      return { printed: JSON.parse(io.stdout[0] as string), stderr: io.stderr.join('\n') };
    };
    const first = await run();
    expect(first.stderr).toMatch(/SAM 2\.1/);
    expect(first.stderr).toMatch(/embeddings: 4 images, 4 computed/);
    expect([first.printed.images, first.printed.instances, first.printed.skipped]).toEqual([4, 8, 0]);
    expect(first.printed.f1).toBeGreaterThan(0);
    expect(first.printed.f1).toBeLessThanOrEqual(1);
    expect(first.printed.f1).toBe(first.printed.dice);
    const files = readdirSync(cache).filter((f) => f.endsWith('.safetensors'));
    expect(files).toHaveLength(4);
    expect([...readSafetensors(join(cache, files[0] as string)).tensors.keys()].sort()).toEqual([
      'high_res_feats.0',
      'high_res_feats.1',
      'image_embeddings',
    ]);
    const second = await run();
    expect(second.stderr).toMatch(/4 cached|0 computed/);
    expect(second.printed).toEqual(first.printed);
    const io = recordingIO();
    expect(await evalCommand.run([...args, '--cache-dir', cache, '--clicks', '5'], io)).toBe(0);
    const withClicks = JSON.parse(io.stdout[0] as string) as Record<string, unknown> & {
      clicks: Record<string, number>;
    };
    expect(withClicks.f1).toBe(first.printed.f1);
    const c = withClicks.clicks;
    expect(c.maxClicks).toBe(5);
    expect(c.instances).toBe(8);
    for (const k of ['iouAt1', 'iouAt3', 'iouAt5']) {
      expect(c[k], k).toBeGreaterThanOrEqual(0);
      expect(c[k], k).toBeLessThanOrEqual(1);
    }
    for (const k of ['noc85', 'noc90']) {
      expect(c[k], k).toBeGreaterThanOrEqual(1);
      expect(c[k], k).toBeLessThanOrEqual(5);
    }
    const text = recordingIO();
    expect(
      await evalCommand.run([...args.filter((a) => a !== '--json'), '--cache-dir', cache, '--clicks', '5'], text),
    ).toBe(0);
    expect(text.stdout.join('\n')).toMatch(
      /clicks \(max 5\): NoC@85 \d+\.\d\d {2}NoC@90 \d+\.\d\d {2}IoU@1 0\.\d{4} {2}IoU@3 0\.\d{4} {2}IoU@5 0\.\d{4}/,
    );
  }, 600_000);
});
