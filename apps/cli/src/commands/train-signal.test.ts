/**
 * SIGTERM to a real `samtune train` (what `docker stop` and CI cancels send), end to end: the CLI
 * runs as a child process (node with tsx's loader, one process, as the built `samtune` binary) on
 * examples/plant-mini (tinyvit.pth, 2 instances per image, 3 steps per epoch, 2 epochs). SIGTERM is
 * sent at the first step of epoch 2. The run must stop at a step boundary and exit 143, every file
 * of the run folder must parse (last.safetensors written by the stop, state at epoch 1), and
 * `--resume` must finish both epochs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '@samtune/tensor-files';
import { exitCodeForSignal, loadRunState } from '@samtune/trainer';
import { sharedEmbeddingCacheDir } from '@samtune/test-fixtures';

const repo = resolve(import.meta.dirname, '../../../..');
const tmp = mkdtempSync(join(tmpdir(), 'samtune-sigterm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const reference = join(repo, '..', 'shared', 'fixtures', 'sam-reference', 'tinyvit.pth');
const out = join(tmp, 'run');
const args = [
  '--import',
  join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
  '--conditions=@samtune/source',
  join(repo, 'apps', 'cli', 'src', 'main.ts'),
  'train',
  '--checkpoint',
  reference,
  '--data-root',
  join(repo, 'examples', 'plant-mini'),
  '--out',
  out,
  '--epochs',
  '2',
  '--max-instances',
  '2',
  '--data.val.max-instances',
  '2',
  '--lr',
  '1e-4',
  '--cache-dir',
  sharedEmbeddingCacheDir(),
];

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly signalled: boolean;
}

/** Runs the CLI; when `signalAt` matches a train.jsonl event (polled), sends `signal` once. */
function runCli(
  extra: string[],
  signalAt?: (e: Record<string, unknown>) => boolean,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<Exit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...args, ...extra], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      if (!signalAt || signalled) return;
      const log = join(out, 'train.jsonl');
      if (!existsSync(log)) return;
      const events = readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      if (events.some(signalAt)) {
        signalled = true;
        child.kill(signal);
      }
    }, 100);
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearInterval(poll);
      resolvePromise({ code, signal: sig, stdout, stderr, signalled });
    });
  });
}

describe('samtune train: SIGTERM stops at a step boundary, --resume finishes', () => {
  it('exits 143 with valid files, then --resume completes', async () => {
    expect(existsSync(reference), `missing ${reference}`).toBe(true);
    const stopped = await runCli([], (e) => e.type === 'step' && e.epoch === 2);
    expect(stopped.signalled).toBe(true);
    expect(stopped.stderr).not.toContain('terminate called');
    expect(stopped.code, stopped.stderr.slice(-3000)).toBe(exitCodeForSignal('SIGTERM'));
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toContain('samtune train: runTraining: stopped by SIGTERM at epoch 2 step');
    expect(stopped.stderr).toContain('--resume continues with epoch 2');

    // Every file of the run folder is complete: no temp files; safetensors and the log parse.
    const names = readdirSync(out).sort();
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['best.safetensors', 'last.safetensors', 'state.safetensors']));
    for (const n of names.filter((x) => x.endsWith('.safetensors')))
      expect(readSafetensors(join(out, n)).tensors.size).toBeGreaterThan(0);
    for (const line of readFileSync(join(out, 'train.jsonl'), 'utf8').trim().split('\n'))
      expect(() => JSON.parse(line)).not.toThrow();
    const last = readSafetensors(join(out, 'last.safetensors')).metadata;
    expect(JSON.parse(last['samtune.metrics'] as string)).toMatchObject({
      epoch: 1,
      interrupted: { signal: 'SIGTERM' },
    });
    const state = loadRunState(join(out, 'state.safetensors'));
    expect(state.meta.epochsDone).toBe(1);
    expect(state.meta.finished).toBe(false);

    const resumed = await runCli(['--resume']);
    expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
    expect(resumed.stderr).toContain('resuming after epoch 1');
    expect(resumed.stdout).toContain('2 epochs (reached 2 epochs)');
    const done = loadRunState(join(out, 'state.safetensors'));
    expect(done.meta.epochsDone).toBe(2);
    expect(done.meta.finished).toBe(true);
    expect(done.meta.history.map((h) => h.epoch)).toEqual([1, 2]);
    const lastMeta = readSafetensors(join(out, 'last.safetensors')).metadata;
    expect(JSON.parse(lastMeta['samtune.metrics'] as string)).not.toHaveProperty('interrupted');
  }, 900_000);
});
