/**
 * Engine parity over a run: the full-batch recipe on examples/plant-mini
 * (`--data.train.batch-size 6 --optimizer.lr 1e-4 --early-stopping.enabled false`, tinyvit.pth) on
 * the ort engine, in the training worker thread (a tsx child process, like the CLI), gives per-epoch
 * train losses within 0.5% of the tfjs engine's over all five committed epochs (issues 19 and 20 ask for
 * the 5-epoch agreement): full batch, so one Adam step per epoch, each later epoch following a step that
 * uses the moments of the earlier ones (Adam's state carried over).
 * The tfjs engine's losses are committed (test-utils/plant-mini-tfjs-losses.json, made by
 * test-utils/make-tfjs-losses.ts): running both engines here would double the test's time. The checkpoint written after training holds every
 * mask-decoder tensor under the keys and shapes of the base checkpoint.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { referencePath, repoRoot, sharedEmbeddingCacheDir } from './test-utils/fixtures.js';
import { plantMiniParityConfig, readTfjsLosses } from './test-utils/plant-mini-parity.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-engine-parity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs test-utils/train-child.ts (runTrainingInWorker) and returns its JSON lines. */
function runChild(configJson: string): Promise<Record<string, unknown>[]> {
  const tsx = join(repoRoot(), 'node_modules', '.bin', 'tsx');
  const args = ['--conditions=@samtune/source', join(import.meta.dirname, 'test-utils', 'train-child.ts'), configJson];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tsx, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`train-child exited with ${code}: ${err.slice(-2000)}`));
      else
        resolvePromise(
          out
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        );
    });
  });
}

const EPOCHS = 5;

describe(`ort engine vs tfjs engine: ${EPOCHS} epochs on examples/plant-mini`, () => {
  it('per-epoch train losses agree within 0.5%, and the checkpoint keeps the base keys and shapes', async () => {
    const ref = readTfjsLosses();
    expect(ref.engine).toBe('tfjs');
    expect(ref.trainLoss.length).toBe(5);
    const out = join(tmp, 'run');
    const config = plantMiniParityConfig('ort', out, sharedEmbeddingCacheDir(), EPOCHS);
    const lines = await runChild(JSON.stringify(config));
    const ends = lines.filter((l) => l.type === 'epoch-end') as { record: { trainLoss: number; prompts: number } }[];
    expect(ends.length).toBe(EPOCHS);
    const rel = ends.map(
      (e, i) => Math.abs(e.record.trainLoss - (ref.trainLoss[i] as number)) / (ref.trainLoss[i] as number),
    );
    console.log(
      `plant-mini ${EPOCHS} epochs: ort ${ends.map((e) => e.record.trainLoss.toFixed(5)).join(', ')}; tfjs ${ref.trainLoss.map((x) => x.toFixed(5)).join(', ')}; max rel diff ${(100 * Math.max(...rel)).toFixed(3)}%`,
    );
    expect(ends.map((e) => e.record.prompts)).toEqual(ref.prompts.slice(0, EPOCHS));
    for (const r of rel) expect(r).toBeLessThanOrEqual(0.005);
    // training moved the loss (the comparison is not between two untrained runs)
    expect(ends[EPOCHS - 1]?.record.trainLoss).toBeLessThan(0.95 * (ends[0]?.record.trainLoss as number));

    const base = readTorchCheckpoint(referencePath('tinyvit.pth'));
    const last = readSafetensors(join(out, 'last.safetensors')).tensors;
    const keys = [...base.keys()].filter((k) => k.startsWith('mask_decoder.'));
    let changed = 0;
    for (const k of keys) {
      const t = last.get(k);
      expect(t?.shape, k).toEqual(base.get(k)?.shape);
      const a = t?.data as Float32Array;
      const b = base.get(k)?.data as Float32Array;
      if (a.some((v, i) => v !== b[i])) changed++;
    }
    expect(changed).toBeGreaterThan(keys.length / 2);
  }, 1_800_000);
});
