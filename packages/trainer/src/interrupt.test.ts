/**
 * Stopping a run (issue 11). A divergent run (lr 1e30: the first Adam step moves every decoder
 * weight by ~1e30, the next forward overflows) stops with NonFiniteLossError at the first NaN loss
 * and writes no model checkpoint; the stop flag and the signal exit codes. The SIGTERM end-to-end
 * test (a real `samtune train` child) is apps/cli/src/commands/train-signal.test.ts.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTrainConfig } from './config.js';
import { exitCodeForSignal, NonFiniteLossError, StopFlag } from './interrupt.js';
import { readRunLog } from './run-log.js';
import { referencePath, repoPath, sharedEmbeddingCacheDir } from './test-utils/fixtures.js';
import { runTraining } from './trainer.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-nan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('stop flag and exit codes', () => {
  it('SIGTERM exits 143, SIGINT 130; the first request wins and crosses threads as shared memory', () => {
    expect(exitCodeForSignal('SIGTERM')).toBe(143);
    expect(exitCodeForSignal('SIGINT')).toBe(130);
    const flag = new StopFlag();
    expect(flag.requested()).toBeUndefined();
    flag.request('SIGINT');
    flag.request('SIGTERM');
    expect(new StopFlag(flag.buffer).requested()).toBe('SIGINT');
  });
});

describe('a non-finite training loss', () => {
  it('stops the run with NonFiniteLossError naming the step, and no best/last is written', async () => {
    const c = defaultTrainConfig();
    c.checkpoint = referencePath('tinyvit.pth');
    c.data.root = repoPath('examples/plant-mini');
    c.data.train.maxInstances = 2;
    c.data.val.maxInstances = 2;
    c.optimizer.lr = 1e30;
    c.training.epochs = 1;
    c.runtime.cacheDir = sharedEmbeddingCacheDir();
    c.out = join(tmp, 'run');
    const err = await runTraining(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(
      /^runTraining: the training loss is NaN at epoch 1 step [23]\/3; stopped without saving \(optimizer\.lr = 1e\+30: lower it/,
    );
    expect(readdirSync(c.out).filter((n) => n === 'best.safetensors' || n === 'last.safetensors')).toEqual([]);
    // The state holds only the zero-shot evaluation (finite weights of the base checkpoint).
    expect(existsSync(join(c.out, 'state.safetensors'))).toBe(true);
    const steps = readRunLog(join(c.out, 'train.jsonl')).filter((e) => e.type === 'step');
    expect(Number.isFinite(steps[0]?.loss)).toBe(true);
    expect(steps.at(-1)?.loss).toBeNull(); // NaN in JSON
  }, 600_000);
});
