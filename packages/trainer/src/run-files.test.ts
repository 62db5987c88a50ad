import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { EpochRecord } from './checkpoints.js';
import { defaultTrainConfig, mergeConfig } from './config.js';
import { configYaml, RESULTS_COLUMNS, resultsCsv } from './run-files.js';

const val = {
  f1: 0.5,
  iou: 1 / 3,
  dice: 0.5,
  images: 4,
  instances: 17,
  crowd: 0,
  crowdIgnored: 0,
  loss: 1.25,
  ap: 0.25,
  ap50: 0.6,
  ap75: 0.2,
};
const rec = (epoch: number, best: boolean): EpochRecord => ({
  epoch,
  trainLoss: 2 / epoch,
  trainFocal: 0.05,
  trainDice: 0.5,
  trainIou: 0.01,
  steps: 3,
  prompts: 12,
  val: { ...val, loss: Number.NaN },
  trainSeconds: 10.25,
  valSeconds: 2,
  best,
});

describe('run folder files', () => {
  it('config.yaml has kebab-case keys and reads back into the same config', () => {
    const c = defaultTrainConfig();
    c.checkpoint = 'tiny_vit';
    c.data.root = '/data/x';
    c.data.train.batchSize = 4;
    c.optimizer.lr = 1e-4;
    c.out = '/runs/x';
    const text = configYaml(c);
    expect(text).toContain('batch-size: 4');
    expect(text).toContain('early-stopping:');
    const back = defaultTrainConfig();
    mergeConfig(back, parse(text));
    expect(back).toEqual(c);
  });

  it('results.csv: a header and one row per epoch, non-finite values empty', () => {
    const csv = resultsCsv([rec(1, true), rec(2, false)], 1e-5);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(RESULTS_COLUMNS.join(','));
    expect(lines[0]).toBe(
      'epoch,train_loss,train_focal,train_dice,train_iou_mse,val_loss,val_f1,val_iou,val_dice,val_ap,val_ap50,val_ap75,train_seconds,val_seconds,lr,best',
    );
    expect(lines[1]).toBe('1,2,0.05,0.5,0.01,,0.5,0.333333,0.5,0.25,0.6,0.2,10.25,2,0.00001,1');
    expect(lines[2]?.split(',')[1]).toBe('1');
    expect(lines).toHaveLength(3);
  });
});
