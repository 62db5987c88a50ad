/**
 * Kill -9 during an epoch, then resume: a child process trains on examples/plant-mini (tinyvit.pth,
 * 2 instances per image, 2 epochs) in a worker thread; it is SIGKILLed during epoch 2 (after the
 * state of epoch 1 was written). Every checkpoint file left behind parses; `--resume` continues after
 * epoch 1 and completes; the result matches an uninterrupted run of the same config (the per-epoch
 * generators derive from (seed, epoch), so a resumed run is the same run). Not bitwise: the
 * onnxruntime `Sum` kernel of the wasm backend is not deterministic run to run (~1e-8 differences in
 * gradients, measured; the stock wasm kernels are), and Adam amplifies such differences in
 * near-zero gradients, so the weights must agree to a small fraction of what training changed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSamCheckpoint } from '@samtune/sam-model';
import { readSafetensors } from '@samtune/tensor-files';
import { defaultTrainConfig, type TrainConfig } from './config.js';
import { loadRunState } from './checkpoints.js';
import { readRunLog } from './run-log.js';
import { referencePath, repoPath, repoRoot, sharedEmbeddingCacheDir } from './test-utils/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function config(out: string): TrainConfig {
  const c = defaultTrainConfig();
  c.checkpoint = referencePath('tinyvit.pth');
  c.data.root = repoPath('examples/plant-mini');
  c.data.train.maxInstances = 2;
  c.data.val.maxInstances = 2;
  c.optimizer.lr = 1e-4;
  c.training.epochs = 2;
  c.runtime.cacheDir = sharedEmbeddingCacheDir();
  c.out = out;
  return c;
}

interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: Record<string, unknown>[];
}

/** Runs the child; `killWhen` (checked on every output line) SIGKILLs it. */
function runChild(
  c: TrainConfig,
  resume: boolean,
  killWhen?: (e: Record<string, unknown>) => boolean,
): Promise<ChildRun> {
  const tsx = join(repoRoot(), 'node_modules', '.bin', 'tsx');
  const args = [
    '--conditions=@samtune/source',
    join(import.meta.dirname, 'test-utils', 'train-child.ts'),
    JSON.stringify(c),
    ...(resume ? ['--resume'] : []),
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tsx, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as Record<string, unknown>;
        lines.push(e);
        // SIGKILL the whole process group: tsx's launcher and the node process that trains.
        if (killWhen?.(e) && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 && !killWhen) reject(new Error(`train child failed (code ${code}): ${err.slice(-2000)}`));
      else resolvePromise({ code, signal, lines });
    });
  });
}

/** Every safetensors file of a run directory parses; no temp file is read as a checkpoint. */
function assertFilesParse(out: string): string[] {
  const files = readdirSync(out).filter((f) => f.endsWith('.safetensors'));
  for (const f of files) expect(() => readSafetensors(join(out, f)), f).not.toThrow();
  return files;
}

describe('kill -9 during an epoch, then --resume', () => {
  it('completes, leaves parseable checkpoints, and equals the uninterrupted run', async () => {
    const killedOut = join(tmp, 'killed');
    const killed = await runChild(config(killedOut), false, (e) => e.type === 'step' && e.epoch === 2);
    expect(killed.code).not.toBe(0);
    expect(killed.lines.some((e) => e.type === 'epoch-end')).toBe(true);
    expect(killed.lines.some((e) => e.type === 'child-done')).toBe(false);
    expect(assertFilesParse(killedOut).sort()).toEqual(['best.safetensors', 'last.safetensors', 'state.safetensors']);
    expect(loadRunState(join(killedOut, 'state.safetensors')).meta.epochsDone).toBe(1);

    const resumed = await runChild(config(killedOut), true);
    expect(resumed.code).toBe(0);
    expect(resumed.lines.find((e) => e.type === 'resume')).toMatchObject({ epochsDone: 1 });
    expect(
      resumed.lines.filter((e) => e.type === 'epoch-end').map((e) => (e.record as { epoch: number }).epoch),
    ).toEqual([2]);
    expect(resumed.lines.at(-1)).toMatchObject({ type: 'child-done', epochs: 2 });
    assertFilesParse(killedOut);
    const state = loadRunState(join(killedOut, 'state.safetensors')).meta;
    expect(state.finished).toBe(true);
    expect(state.history.map((h) => h.epoch)).toEqual([1, 2]);
    for (const f of ['report.md', 'curves.svg', 'metrics.json', 'train.jsonl'])
      expect(existsSync(join(killedOut, f)), f).toBe(true);
    expect(readRunLog(join(killedOut, 'train.jsonl')).some((e) => e.type === 'resume')).toBe(true);

    // The same config without interruption: identical decoder weights and validation metrics.
    const cleanOut = join(tmp, 'clean');
    expect((await runChild(config(cleanOut), false)).code).toBe(0);
    const a = await loadSamCheckpoint(join(killedOut, 'last.safetensors'));
    const b = await loadSamCheckpoint(join(cleanOut, 'last.safetensors'));
    const base = await loadSamCheckpoint(referencePath('tinyvit.pth'));
    let maxDiff = 0;
    let maxChange = 0;
    for (const [k, t] of b.weights) {
      if (!k.startsWith('mask_decoder.')) continue;
      const u = a.weights.get(k);
      const w0 = base.weights.get(k);
      expect(u, k).toBeDefined();
      for (let i = 0; i < t.data.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(Number(t.data[i]) - Number(u?.data[i])));
        maxChange = Math.max(maxChange, Math.abs(Number(t.data[i]) - Number(w0?.data[i])));
      }
    }
    console.log(
      `resumed vs uninterrupted run: max |Δ decoder weight| = ${maxDiff.toExponential(3)}, training changed weights by up to ${maxChange.toExponential(3)}`,
    );
    expect(maxChange).toBeGreaterThan(1e-4);
    expect(maxDiff).toBeLessThanOrEqual(0.05 * maxChange);
    const cleanState = loadRunState(join(cleanOut, 'state.safetensors')).meta;
    const f1 = (h: readonly { val: { f1: number } }[]): number[] => h.map((r) => r.val.f1);
    for (const [i, v] of f1(cleanState.history).entries())
      expect(Math.abs((f1(state.history)[i] as number) - v)).toBeLessThanOrEqual(0.01);
  }, 600_000);
});
