/**
 * The run folder as a trust boundary (issue 22): `train --out` on a foreign non-empty folder is
 * refused with every file untouched (unless `existOk`), `demo` never empties a foreign folder, and a
 * resume never imports the plugins named by the state file or writes them to `config.yaml`.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_STATE_VERSION, saveRunState } from './checkpoints.js';
import { defaultTrainConfig, type TrainConfig } from './config.js';
import { EarlyStopping } from './early-stopping.js';
import { emptyRunFolder, prepareRunFolder, RUN_MARKER, RunDirectoryError, resumedConfig } from './run-folder.js';
import { runTraining } from './trainer.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-runfolder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder of someone else's files named like a run's, with their bytes. */
function foreignFolder(name: string): { dir: string; files: Record<string, string> } {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const files = { 'config.yaml': 'mine: 1\n', 'report.md': '# my notes\n', 'results.csv': 'a,b\n', '.draft.tmp': 'x' };
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return { dir, files };
}

function expectUntouched(dir: string, files: Record<string, string>): void {
  expect(readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
  for (const [f, text] of Object.entries(files)) expect(readFileSync(join(dir, f), 'utf8')).toBe(text);
}

function config(out: string): TrainConfig {
  const c = defaultTrainConfig();
  c.checkpoint = join(tmp, 'no-such-checkpoint.pth');
  c.data.root = join(tmp, 'no-such-dataset');
  c.out = out;
  return c;
}

describe('train --out on a folder that is not a samtune run folder', () => {
  it('is refused before any file is written or removed', async () => {
    const { dir, files } = foreignFolder('foreign');
    const err = await runTraining(config(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunDirectoryError);
    expect((err as Error).message).toBe(
      `runTraining(config.out): expected a new or empty folder or a samtune run folder (holding .samtune-run), got '${dir}' with 4 entries (${readdirSync(dir).join(', ')}) and no .samtune-run; nothing was written: choose another --out, or pass --exist-ok to write the run files into it`,
    );
    expectUntouched(dir, files);
  });

  it('with existOk: the marker is written and the other files stay', () => {
    const { dir } = foreignFolder('allowed');
    prepareRunFolder(dir, true);
    expect(readdirSync(dir).sort()).toEqual([RUN_MARKER, 'config.yaml', 'report.md', 'results.csv']);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe('# my notes\n');
  });

  it('a new folder, an empty one and a run folder are accepted (the run folder keeps its files)', () => {
    const fresh = join(tmp, 'new', 'run');
    prepareRunFolder(fresh, false);
    expect(readdirSync(fresh)).toEqual([RUN_MARKER]);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    prepareRunFolder(empty, false);
    expect(readdirSync(empty)).toEqual([RUN_MARKER]);
    writeFileSync(join(fresh, 'results.csv'), 'epoch\n');
    prepareRunFolder(fresh, false);
    expect(readdirSync(fresh).sort()).toEqual([RUN_MARKER, 'results.csv']);
  });

  it('demo never empties a foreign folder; a run folder is replaced', () => {
    const { dir, files } = foreignFolder('demo-foreign');
    expect(() => emptyRunFolder(dir, 'prepareDemo(options.out)')).toThrow(
      `prepareDemo(options.out): expected a new or empty folder or a samtune run folder (holding .samtune-run) to replace, got '${dir}', which holds other files; nothing was removed: choose another --out`,
    );
    expectUntouched(dir, files);
    const run = join(tmp, 'demo-run');
    prepareRunFolder(run, false);
    emptyRunFolder(run, 'prepareDemo(options.out)');
    expect(existsSync(run)).toBe(false);
  });
});

describe('--resume and plugins', () => {
  it('keeps the current command plugins, never the stored ones', () => {
    const stored = config('/old/place');
    stored.data.plugins = ['/tmp/evil.mjs'];
    stored.optimizer.lr = 3e-4;
    const current = config('/ignored');
    current.data.plugins = ['./mine.mjs'];
    const c = resumedConfig(stored, current, '/runs/x');
    expect(c.data.plugins).toEqual(['./mine.mjs']);
    expect(c.optimizer.lr).toBe(3e-4);
    expect(c.out).toBe('/runs/x');
  });

  it('a state file naming a plugin: the plugin is not imported and config.yaml names none', async () => {
    const out = join(tmp, 'resumed');
    prepareRunFolder(out, false);
    const evil = join(tmp, 'evil.mjs');
    const pwned = join(tmp, 'pwned');
    writeFileSync(evil, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(pwned)}, 'ran');\n`);
    const stored = config(out);
    stored.data.plugins = [evil];
    const weights = new Float32Array([1, 2]);
    saveRunState(
      join(out, 'state.safetensors'),
      {
        version: RUN_STATE_VERSION,
        config: stored,
        epochsDone: 0,
        history: [],
        zeroShot: null,
        bestEpoch: null,
        earlyStopping: new EarlyStopping({ mode: 'max', minDelta: 0, patience: 1, warmupEpochs: 0 }).state(),
        adamStep: 0,
        adamSteps: {},
        finished: false,
        stopReason: null,
        baseCheckpoint: { path: 'x.pth', sha256: '0'.repeat(64) },
        embeddingPass: null,
        backend: 'test',
      },
      new Map([['w', { dtype: 'float32', shape: [2], data: weights }]]),
      { step: 0, steps: {}, m: {}, v: {} },
    );
    // Fails at the dataset (it does not exist), after the point where plugins are loaded.
    await expect(runTraining(config(out), { resume: true })).rejects.toThrow(/no-such-dataset/);
    expect(existsSync(pwned)).toBe(false);
    expect(readFileSync(join(out, 'config.yaml'), 'utf8')).toMatch(/plugins: \[\]/);
  }, 120_000);
});
