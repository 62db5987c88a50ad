/**
 * Issue 25, acceptance 3 (so far): a 2-epoch fine-tune of the seeded reduced-Hiera SAM 2.1 checkpoint
 * on `examples/plant-mini` through the CLI (`train` on the default `ort` engine, validation on the SAM
 * 2.1 predictor), then `eval`, `export` and `predict` on the run's `best.safetensors` (a complete SAM
 * 2.1 checkpoint with the trained decoder). `optimize` and `serve` do not take SAM 2.1 yet.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSam2Checkpoint, readSafetensors, type FloatTensor } from '@samtune/sam-model';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { recordingIO } from '../test-utils/io.js';
import { writeSam2MiniCheckpoint } from '../test-utils/sam2-mini.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-cli-sam2-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const plantMini = resolve(fileURLToPath(import.meta.url), '../../../../../examples/plant-mini');

describe('samtune train → eval → export → predict (SAM 2.1, plant-mini, 2 epochs)', () => {
  it('fine-tunes the decoder, and the run’s best.safetensors goes through eval, export and predict', async () => {
    const ckpt = await writeSam2MiniCheckpoint(dir);
    const out = join(dir, 'run');
    const cache = join(dir, 'cache');
    const io = recordingIO();
    const train = ['train', '--checkpoint', ckpt, '--data-root', plantMini, '--out', out, '--epochs', '2'];
    const code = await runCli([...train, '--lr', '1e-4', '--cache-dir', cache, '--no-worker', '--json'], io);
    expect(code, io.stderr.join('\n').slice(-3000)).toBe(0);
    const result = JSON.parse(io.stdout.at(-1) as string) as { epochs: number; best: { f1: number } | null };
    expect(result.epochs).toBe(2);
    const history = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(history).toHaveLength(3); // header + 2 epochs

    // best.safetensors: the whole SAM 2.1 checkpoint, decoder trained (except conv_s0/s1), encoder unchanged
    const base = await loadSam2Checkpoint(ckpt);
    const best = await loadSam2Checkpoint(join(out, 'best.safetensors'));
    expect(best.config).toEqual(base.config);
    expect([...best.weights.keys()].sort()).toEqual([...base.weights.keys()].sort());
    const diff = (k: string): number => {
      const a = base.weights.get(k) as FloatTensor;
      const b = best.weights.get(k) as FloatTensor;
      return Math.max(...b.data.map((v, i) => Math.abs(v - (a.data[i] as number))));
    };
    expect(diff('sam_mask_decoder.iou_token.weight')).toBeGreaterThan(0);
    expect(diff('sam_mask_decoder.conv_s0.weight')).toBe(0);
    expect(diff('image_encoder.trunk.patch_embed.proj.weight')).toBe(0);

    const bestPath = join(out, 'best.safetensors');
    const ev = recordingIO();
    const evalArgs = ['eval', '--checkpoint', bestPath, '--data-root', plantMini, '--cache-dir', cache, '--json'];
    expect(await runCli(evalArgs, ev), ev.stderr.join('\n').slice(-2000)).toBe(0);
    const metrics = JSON.parse(ev.stdout[0] as string) as { f1: number; images: number };
    expect(metrics.images).toBe(4);
    expect(metrics.f1).toBeGreaterThanOrEqual(0);

    const ex = recordingIO();
    expect(await runCli(['export', '--checkpoint', bestPath, '--out', join(dir, 'onnx')], ex)).toBe(0);
    expect(JSON.parse(ex.stdout[0] as string).files).toHaveLength(2);

    const pr = recordingIO();
    const image = join(plantMini, 'valid', 'wheat_20260219141146680_jpg.rf.IG6iKZO58nC8qCb3jxlU.jpg');
    const mask = join(dir, 'mask.safetensors');
    expect(
      await runCli(
        ['predict', '--checkpoint', bestPath, '--image', image, '--box', '10,10,200,200', '--out', mask],
        pr,
      ),
    ).toBe(0);
    expect(readSafetensors(mask).tensors.get('masks')?.shape.length).toBe(3);
  }, 900_000);
});
