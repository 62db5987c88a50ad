import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command.js';
import { recordingIO } from '../test-utils/io.js';
import { backendLine, resultTable, trainEventRenderer } from '../render.js';
import { configKeys } from '@samtune/trainer/config';
import { parseTrainArgs } from './train-args.js';
import { trainCommand } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'samtune-train-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['--checkpoint', 'tiny_vit', '--data-root', '/data', '--out', 'runs/x'];

describe('samtune train flags', () => {
  it('--help lists the short flags and every config key of the schema, with defaults', () => {
    const help = trainCommand.usage;
    for (const { key } of configKeys()) expect(help).toContain(`--${key} `);
    expect(help).toMatch(/^ {2}--lr <x> +optimizer\.lr: Adam learning rate$/m);
    expect(help).toMatch(/^ {2}--training\.micro-batch <n> +prompts per forward\/backward .*\(default 4\)$/m);
    expect(() => parseTrainArgs([...base, '--optimizer.lr', 'fast'])).toThrow(
      "config 'optimizer.lr': expected a number, got 'fast'",
    );
  });

  it('maps shorthands and dotted overrides onto the config, defaults elsewhere', () => {
    const { config, resume, worker } = parseTrainArgs([
      ...base,
      '--lr',
      '1e-4',
      '--batch-size=4',
      '--epochs',
      '7',
      '--prompt',
      'point',
      '--optimizer.weight-decay',
      '0.01',
      '--data.val.max-instances',
      '3',
      '--early-stopping.patience',
      '5',
      '--no-ort-kernels',
      '--no-worker',
      '--resume',
    ]);
    expect(config.checkpoint).toBe('tiny_vit');
    expect(config.data.root).toBe('/data');
    expect(config.out).toBe('runs/x');
    expect(config.optimizer).toMatchObject({ lr: 1e-4, weightDecay: 0.01 });
    expect(config.data.train.batchSize).toBe(4);
    expect(config.data.val.maxInstances).toBe(3);
    expect(config.training.epochs).toBe(7);
    expect(config.training.microBatch).toBe(4);
    expect(config.prompt.mode).toBe('point');
    expect(config.earlyStopping.patience).toBe(5);
    expect(config.runtime.ortKernels).toBe(false);
    expect(config.data.strict).toBe(false);
    expect([resume, worker]).toEqual([true, false]);
  });

  it('--strict stops at the first bad item; without it, skipped items are listed with their reason', () => {
    expect(parseTrainArgs([...base, '--strict']).config.data.strict).toBe(true);
    const lines: string[] = [];
    const render = trainEventRenderer({ out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) });
    render({
      type: 'dataset',
      format: 'coco',
      train: 2,
      val: 1,
      trainSubset: 'train',
      valSubset: 'val',
      skipped: 1,
      problems: ['a.json (item 7): polygon with 2 points'],
    });
    expect(lines).toEqual([
      'dataset: coco, train 2 images → val 1 images (1 problems skipped)',
      'skipped: a.json (item 7): polygon with 2 points',
    ]);
  });

  it('reads a YAML config, and flags win over it', () => {
    const file = join(dir, 'train.yaml');
    writeFileSync(
      file,
      'optimizer:\n  lr: 0.0003\ndata:\n  train:\n    batch-size: 3\n    max-instances: 6\ntraining:\n  epochs: 12\n',
    );
    const { config } = parseTrainArgs([...base, '--config', file, '--epochs', '2']);
    expect(config.optimizer.lr).toBe(0.0003);
    expect(config.data.train).toMatchObject({ batchSize: 3, maxInstances: 6 });
    expect(config.training.epochs).toBe(2);
  });

  it('a config file never names code: data.plugins in it is refused; --exist-ok is read', () => {
    const file = join(dir, 'copied-config.yaml');
    writeFileSync(file, 'data:\n  plugins:\n    - /tmp/evil.mjs\n');
    expect(() => parseTrainArgs([...base, '--config', file])).toThrow(
      `--config ${file}: expected no data.plugins in a config file (a file never names code to run), got ["/tmp/evil.mjs"]; pass each module with --plugin <module> instead`,
    );
    writeFileSync(file, 'data:\n  plugins: []\n'); // what a run folder's config.yaml holds
    expect(parseTrainArgs([...base, '--config', file]).config.data.plugins).toEqual([]);
    expect(parseTrainArgs([...base, '--exist-ok']).existOk).toBe(true);
    expect(parseTrainArgs(base).existOk).toBe(false);
  });

  it('reports usage errors that name the flag', () => {
    expect(() => parseTrainArgs(['--data-root', '/d', '--out', 'o'])).toThrow(/'checkpoint'/);
    expect(() => parseTrainArgs([...base, '--learning-rate', '1'])).toThrow(/unknown flag --learning-rate/);
    expect(() => parseTrainArgs([...base, '--optimizer.lrr', '1'])).toThrow(/unknown key 'optimizer.lrr'/);
    expect(() => parseTrainArgs([...base, '--lr', 'fast'])).toThrow(/'optimizer.lr': expected a number/);
    expect(() => parseTrainArgs([...base, '--prompt', 'mask'])).toThrow(/prompt.mode/);
    expect(() => parseTrainArgs([...base, '--epochs'])).toThrow(UsageError);
    expect(() => parseTrainArgs([...base, '--config', join(dir, 'none.yaml')])).toThrow(/cannot read the file/);
    expect(() => parseTrainArgs([...base, '--data-rot', '/d'])).toThrow(
      'unknown flag --data-rot (did you mean --data-root?)',
    );
    expect(() => parseTrainArgs([...base, 'stray'])).toThrow(/unexpected argument 'stray'/);
    expect(() => parseTrainArgs([...base, '--optimizer.lr'])).toThrow(/--optimizer.lr needs a value/);
  });

  it('takes --json, --images, --val-fraction, and negative dotted values written with =', () => {
    const a = parseTrainArgs([...base, '--json', '--images', 'photos', '--val-fraction', '0.3']);
    expect([a.json, a.config.data.images, a.config.data.valFraction]).toEqual([true, 'photos', 0.3]);
    expect(parseTrainArgs([...base, '--training.seed=-3']).config.training.seed).toBe(-3);
    expect(parseTrainArgs([...base, '--training.seed', '-3']).config.training.seed).toBe(-3);
    expect(() => parseTrainArgs([...base, '--val-fraction', '1'])).toThrow(/data.valFraction/);
    expect(parseTrainArgs(base).json).toBe(false);
    const v = parseTrainArgs([...base, '--val-data-root', 'val.json', '--val-images', 'val']).config.data.val;
    expect([v.root, v.images]).toEqual(['val.json', 'val']);
  });

  it('takes --crowd keep|ignore (data.crowd, default keep) and names a bad value', () => {
    expect(parseTrainArgs(base).config.data.crowd).toBe('keep');
    expect(parseTrainArgs([...base, '--crowd', 'ignore']).config.data.crowd).toBe('ignore');
    expect(() => parseTrainArgs([...base, '--crowd', 'drop'])).toThrow(
      `config 'data.crowd': expected keep or ignore, got "drop"`,
    );
    const lines: string[] = [];
    const render = trainEventRenderer({ out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) });
    const event = {
      type: 'dataset',
      format: 'coco',
      train: 1,
      val: 1,
      trainSubset: 'train',
      valSubset: 'val',
    } as const;
    render({ ...event, skipped: 0, problems: [], crowd: { train: 7, val: 5, policy: 'keep' } });
    render({ ...event, skipped: 0, problems: [], crowd: { train: 0, val: 0, policy: 'keep' } });
    expect(lines).toEqual([
      'dataset: coco, train 1 images → val 1 images',
      'dataset: crowd instances (iscrowd) train 7 / val 5, kept as objects (--crowd keep)',
      'dataset: coco, train 1 images → val 1 images',
    ]);
  });

  it('names the skipped tfjs backends once, with the reasons only under --verbose', () => {
    const skipped = [{ name: 'tensorflow-gpu', reason: 'libcudart.so.11: cannot open shared object file' }];
    expect(backendLine("tfjs backend 'wasm'", skipped, false)).toBe(
      "tfjs backend: tfjs backend 'wasm' (tensorflow-gpu not available; --verbose says why)",
    );
    expect(backendLine("'wasm'", skipped, true)).toBe(
      "tfjs backend: 'wasm' (skipped tensorflow-gpu: libcudart.so.11: cannot open shared object file)",
    );
    const io = { ...recordingIO(), verbose: false };
    trainEventRenderer(io)({
      type: 'backend',
      backend: 'wasm',
      ortKernels: true,
      detail: "tfjs backend 'wasm'",
      skipped,
    });
    expect(io.stderr).toEqual(['tfjs backend: wasm (tensorflow-gpu not available; --verbose says why)']);
  });

  it('renders events as progress and summary lines, and the before/after table', () => {
    const io = recordingIO();
    const render = trainEventRenderer(io);
    const m = { f1: 0.5, iou: 1 / 3, dice: 0.5, images: 4, instances: 17, loss: 1.25, ap: 0.25, ap50: 0.5, ap75: 0.2 };
    render({ type: 'eval-done', phase: 'zero-shot', epoch: 0, metrics: m, seconds: 1.5 });
    render({
      type: 'epoch-end',
      stop: true,
      reason: 'early stopping (patience) at epoch 6',
      record: {
        epoch: 6,
        trainLoss: 1,
        trainFocal: 0,
        trainDice: 0,
        trainIou: 0,
        steps: 3,
        prompts: 12,
        val: m,
        trainSeconds: 10,
        valSeconds: 2,
        best: false,
      },
    });
    expect(io.stderr).toEqual([
      'zero-shot: F1 0.5000 IoU 0.3333 AP 0.2500 loss 1.2500 (17 instances, 1.5s)',
      'epoch 6: train loss 1.0000, val F1 0.5000, 10.0s + 2.0s; early stopping (patience) at epoch 6',
    ]);
    expect(resultTable(m, { ...m, f1: 0.75 }, 'after').split('\n')[3]).toBe(
      '| after | 0.7500 | 0.3333 | 0.5000 | 0.2500 | 17 |',
    );
  });
});
