import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSamCheckpoint, SAM_PRESETS } from '@samtune/sam-model';
import { DEMO_RECIPE, demoTrainConfig, findDemoRoot, prepareDemo, resolveDemoCheckpoint } from './demo.js';
import { validateTrainConfig } from './config.js';

const tmp = mkdtempSync(join(tmpdir(), 'samtune-demo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('demo checkpoint', () => {
  it('falls back to a seeded tiny_vit model, says so, and reuses it', async () => {
    const a = await resolveDemoCheckpoint({ cacheDir: tmp, offline: true });
    expect(a.official).toBe(false);
    expect(a.message).toMatch(/offline mode.*SEEDED/);
    const loaded = await loadSamCheckpoint(a.path);
    expect(loaded.config).toEqual(SAM_PRESETS.tiny_vit);
    const b = await resolveDemoCheckpoint({ cacheDir: tmp, offline: true });
    expect(b.path).toBe(a.path);
    expect((await loadSamCheckpoint(b.path)).sha256).toBe(loaded.sha256);
  });

  it('uses a failing download as the reason, and a short valid recipe', async () => {
    const r = await resolveDemoCheckpoint({ cacheDir: tmp, downloadTimeoutMs: 1 });
    expect(r.official).toBe(false);
    expect(r.message).not.toMatch(/offline mode/);
    const c = validateTrainConfig(demoTrainConfig('/repo', r.path, '/repo/runs/demo'));
    expect(c.data.root).toBe('/repo/examples/plant-mini');
    expect(c.training.epochs).toBe(5);
  });

  it('prepares a run: the repo found from a subfolder, the recipe it says it uses', async () => {
    const root = findDemoRoot(join(import.meta.dirname, '..'));
    const { config, checkpoint } = await prepareDemo({
      cwd: join(root, 'packages'),
      cacheDir: tmp,
      offline: true,
      out: join(tmp, 'run'),
      epochs: 2,
    });
    expect(checkpoint.official).toBe(false);
    expect(config.data.root).toBe(join(root, 'examples', 'plant-mini'));
    expect([config.optimizer.lr, config.data.train.maxInstances, config.training.epochs]).toEqual([1e-4, 8, 2]);
    expect(DEMO_RECIPE).toMatch(/lr 1e-4 .* at most 8 instances an image/);
    expect(() => findDemoRoot(tmp)).toThrow(/no examples\/plant-mini above/);
  });
});
