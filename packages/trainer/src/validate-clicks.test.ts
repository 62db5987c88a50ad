/**
 * Validation with clicks-to-quality (`data.val.clicks`) decodes on ONE decoder: the training engine's
 * `evalDecoder()` scores the pixels and runs the click sequences (`EvalDecoder.decodeClicks`), so no
 * second `OrtDecoder` is built from the same weights. The clicks numbers are those of the separate
 * decoder it replaced (measured on this fixed input before the change: seeded TinyViT, dog.jpg's
 * embedding, two rectangles, at most 6 clicks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openModel, setupRuntime } from '@samtune/evaluation';
import type * as SamModel from '@samtune/sam-model';
import { TargetStore } from '@samtune/training-data';
import { defaultTrainConfig } from './config.js';
import { Fit, validatePhase } from './fit.js';
import type { Run } from './run-setup.js';
import { DOG_ITEM, dogEmbeddingCache } from './test-utils/dog-item.js';
import { referencePath } from './test-utils/fixtures.js';

const built = vi.hoisted(() => ({ decoders: 0 }));
vi.mock('@samtune/sam-model', async (importOriginal) => {
  const mod = await importOriginal<typeof SamModel>();
  class CountedOrtDecoder extends mod.OrtDecoder {
    constructor(...args: ConstructorParameters<typeof mod.OrtDecoder>) {
      super(...args);
      built.decoders++;
    }
  }
  return { ...mod, OrtDecoder: CountedOrtDecoder };
});

const tmp = mkdtempSync(join(tmpdir(), 'samtune-validate-clicks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('validatePhase with clicks-to-quality', () => {
  it('builds one decoder for pixels and clicks, with the clicks numbers of before', async () => {
    await setupRuntime('wasm', true);
    const config = defaultTrainConfig();
    config.checkpoint = referencePath('tinyvit.pth');
    config.data.val.clicks = 6;
    const run: Run = {
      out: tmp,
      files: {} as Run['files'],
      config,
      emit: () => undefined,
      stopAt: () => undefined,
    };
    const opened = await openModel(config.checkpoint, join(tmp, 'cache'));
    const model = { ...opened, cache: dogEmbeddingCache() };
    const items = [DOG_ITEM];
    const fit = new Fit(run, model, { train: { name: 'train', items }, val: { name: 'val', items } });
    try {
      fit.startEngine(new TargetStore(0, false), { seconds: 0, computed: 0, hits: 0 }, 'test');
      built.decoders = 0;
      const { metrics } = await validatePhase(fit, 'zero-shot', 0);
      expect(built.decoders).toBe(1);
      expect(metrics.instances).toBe(2);
      expect(metrics.clicks).toEqual({
        noc85: 6,
        noc90: 6,
        iouAt1: 0.15740921475396166,
        iouAt3: 0.1716719317622699,
        iouAt5: 0.1427696287278424,
        instances: 2,
        maxClicks: 6,
      });
    } finally {
      fit.engine?.dispose();
      opened.dispose();
    }
  });
});
