import { Type, type Static } from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { DEFAULT_VAL_FRACTION, defaultEmbeddingCacheDir } from '@samtune/evaluation';
import { DEFAULT_MICRO_BATCH } from '@samtune/training-data';
import {
  applyOverride,
  configHelp,
  configKeys,
  defaultsOf,
  defaultTrainConfig,
  mergeConfig,
  TrainConfigError,
  TrainConfigSchema,
  validateTrainConfig,
  type TrainConfig,
} from './config.js';

describe('train config', () => {
  it('has the reference recipe as defaults', () => {
    const c = defaultTrainConfig();
    expect(c.optimizer.lr).toBe(1e-5);
    expect(c.data.train.batchSize).toBe(2);
    expect(c.data.train.maxInstances).toBe(0);
    expect(c.training).toEqual({ epochs: 100, microBatch: 4, seed: 0 });
    expect(c.earlyStopping).toEqual({ enabled: true, minDelta: 0.001, patience: 3, warmupEpochs: 3 });
    expect(c.prompt.mode).toBe('box');
    // the values config-schema.ts writes down so that it loads no model code
    expect([c.training.microBatch, c.data.valFraction]).toEqual([DEFAULT_MICRO_BATCH, DEFAULT_VAL_FRACTION]);
    expect(c.runtime.cacheDir).toBe(defaultEmbeddingCacheDir());
  });

  it('applies dotted overrides with kebab-case keys and typed values', () => {
    const c = defaultTrainConfig();
    applyOverride(c, 'optimizer.lr', '1e-4');
    applyOverride(c, 'data.train.batch-size', '4');
    applyOverride(c, 'early-stopping.enabled', 'false');
    applyOverride(c, 'optimizer.betas', '0.8,0.99');
    applyOverride(c, 'prompt.mode', 'point');
    expect(c.optimizer.lr).toBe(1e-4);
    expect(c.data.train.batchSize).toBe(4);
    expect(c.earlyStopping.enabled).toBe(false);
    expect(c.optimizer.betas).toEqual([0.8, 0.99]);
    expect(c.prompt.mode).toBe('point');
  });

  it('rejects unknown keys, sections and badly typed values with the key in the message', () => {
    const c = defaultTrainConfig();
    expect(() => applyOverride(c, 'optimizer.learning-rate', '1')).toThrow(/unknown key 'optimizer.learning-rate'.*lr/);
    expect(() => applyOverride(c, 'optimizer', '1')).toThrow(/is a section/);
    expect(() => applyOverride(c, 'optimizer.lr', 'fast')).toThrow(/'optimizer.lr': expected a number, got 'fast'/);
    expect(() => applyOverride(c, 'optimizer.lr.x', '1')).toThrow(TrainConfigError);
  });

  it('merges a nested (YAML-shaped) config and validates ranges', () => {
    const c = defaultTrainConfig();
    mergeConfig(c, {
      checkpoint: 'tiny_vit',
      data: { root: '/d', train: { 'batch-size': 3 } },
      training: { epochs: 7 },
      out: 'runs/x',
    });
    expect(c.data.train.batchSize).toBe(3);
    expect(c.training.epochs).toBe(7);
    expect(validateTrainConfig(c)).toBe(c);
    expect(() => mergeConfig(c, { training: { epochs: 'many' } })).toThrow(/training.epochs/);
    c.training.microBatch = 0;
    expect(() => validateTrainConfig(c)).toThrow(/'training.microBatch': expected an integer >= 1, got 0/);
    expect(() => validateTrainConfig(defaultTrainConfig())).toThrow(/'checkpoint'/);
  });

  it('has data.val-fraction (default 0.2, in [0, 1)) and data.images, as flags and in YAML', () => {
    const c = defaultTrainConfig();
    expect(c.data.valFraction).toBe(0.2);
    applyOverride(c, 'data.val-fraction', '0.25');
    mergeConfig(c, { checkpoint: 'tiny_vit', data: { root: 'labels.json', images: 'photos/' }, out: 'runs/x' });
    expect([c.data.valFraction, c.data.images]).toEqual([0.25, 'photos/']);
    expect(validateTrainConfig(c)).toBe(c);
    c.data.valFraction = 1;
    expect(() => validateTrainConfig(c)).toThrow(/'data.valFraction': expected a number in \[0, 1\), got 1/);
  });
});

describe('one config source', () => {
  // A key added to the schema (here: a new section with one key) is a key of the type, the defaults,
  // the --help lines and the dotted overrides / YAML merge, with nothing else written.
  const Extended = Type.Object({
    ...TrainConfigSchema.properties,
    sampler: Type.Object({
      temperature: Type.Number({
        minimum: 0,
        expected: 'a number >= 0',
        description: 'softmax temperature of the instance sampler',
        default: 0.5,
      }),
    }),
  });

  it('puts a new schema key into the type, the defaults, --help and the dotted overrides', () => {
    type Extended = Static<typeof Extended>;
    expectTypeOf<Extended['sampler']['temperature']>().toEqualTypeOf<number>();
    expectTypeOf<Omit<Extended, 'sampler'>>().toEqualTypeOf<TrainConfig>();
    const c = defaultsOf(Extended) as Extended;
    expect(c.sampler.temperature).toBe(0.5);
    expect(c.optimizer.lr).toBe(1e-5);
    expect(configHelp(Extended).find((l) => l.includes('--sampler.temperature'))).toMatch(
      /--sampler\.temperature <x> +softmax temperature of the instance sampler \(default 0\.5\)/,
    );
    applyOverride(c, 'sampler.temperature', '2', Extended);
    expect(c.sampler.temperature).toBe(2);
    mergeConfig(c, { sampler: { temperature: 3 } }, '', Extended);
    expect(c.sampler.temperature).toBe(3);
    expect(() => applyOverride(c, 'sampler.temp', '2', Extended)).toThrow(/unknown key 'sampler.temp'.*temperature/);
  });

  it('lists every key of the training schema in --help, with its default', () => {
    const help = configHelp().join('\n');
    expect(configKeys().map((k) => k.key)).toContain('data.train.batch-size');
    for (const { key } of configKeys()) expect(help).toContain(`--${key} `);
    expect(help).toMatch(/--optimizer\.lr <x> +Adam learning rate \(default 0\.00001\)/);
    expect(help).toMatch(/--prompt\.mode box\|point\|both +.*\(default box\)/);
    expect(help).toMatch(/--optimizer\.betas <b1,b2> +.*\(default 0\.9,0\.999\)/);
  });
});
