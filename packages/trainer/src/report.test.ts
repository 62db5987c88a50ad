import { describe, expect, it } from 'vitest';
import type { EpochRecord, RunStateMeta } from './checkpoints.js';
import { defaultTrainConfig } from './config.js';
import { curvesSvg, reportMarkdown } from './report.js';

const val = (f1: number, loss: number) => ({
  f1,
  iou: f1 / (2 - f1),
  dice: f1,
  images: 4,
  instances: 17,
  crowd: 3,
  crowdIgnored: 0,
  loss,
  ap: f1 / 2,
  ap50: f1,
  ap75: f1 / 3,
});
const rec = (epoch: number, f1: number, best: boolean): EpochRecord => ({
  epoch,
  trainLoss: 3 - epoch * 0.5,
  trainFocal: 0.1,
  trainDice: 0.9,
  trainIou: 0.05,
  steps: 3,
  prompts: 12,
  val: val(f1, 2.5 - epoch * 0.3),
  trainSeconds: 10 + epoch,
  valSeconds: 2,
  best,
});

const meta: RunStateMeta = {
  version: 1,
  config: {
    ...defaultTrainConfig(),
    checkpoint: 'tiny_vit',
    out: '/runs/demo',
    data: { ...defaultTrainConfig().data, root: '/data' },
  },
  epochsDone: 3,
  history: [rec(1, 0.5, true), rec(2, 0.75, true), rec(3, 0.7, false)],
  zeroShot: val(0.25, 3.1),
  bestEpoch: 2,
  earlyStopping: { epochs: 3, best: null, bestEpoch: null, wait: 0, stoppedEpoch: null },
  adamStep: 9,
  adamSteps: {},
  finished: true,
  stopReason: 'reached 3 epochs',
  baseCheckpoint: { path: '/c/mobile_sam.pt', sha256: 'f'.repeat(64) },
  embeddingPass: { seconds: 12.34, computed: 10, hits: 0 },
  backend: "tfjs backend 'wasm'",
};

describe('run report', () => {
  it('draws loss and F1 curves as SVG', () => {
    const svg = curvesSvg(meta.history, meta.zeroShot, 'demo <run>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('demo &lt;run&gt;');
    expect(svg.match(/<path /g)).toHaveLength(4); // train loss, val loss, F1, zero-shot line
    expect(svg.match(/<circle /g)).toHaveLength(3 + 4 + 4 + 2);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('tabulates before/after metrics, epochs and timings', () => {
    const md = reportMarkdown(meta);
    expect(md).toContain('| before (zero-shot) | 0.2500 | 0.1429 | 0.2500 | 3.1000 | 4 | 17 (3 crowd) |');
    expect(md).toContain('| after (best, epoch 2) | 0.7500 | 0.6000 | 0.7500 | 1.9000 | 4 | 17 (3 crowd) |');
    expect(md).toContain('Crowd instances (iscrowd) are kept as objects (data.crowd keep).');
    expect(md).toContain('Epochs run: 3 (reached 3 epochs)');
    expect(md).toContain('First pass (embedding 10 images into the cache): 12.3 s.');
    expect(md).toContain('Mean wall time per epoch: 12.0 s training + 2.0 s validation.');
    expect(md).toContain('![training curves](curves.svg)');
    expect(md.split('\n').filter((l) => /^\| [123] \|/.test(l))).toHaveLength(3);
    expect(md).not.toContain('did not improve');
    expect(reportMarkdown({ ...meta, zeroShot: val(0.8, 1) })).toContain(
      'Fine-tuning did not improve on the zero-shot F1 (best epoch 2: 0.7500 vs 0.8000 before).',
    );
  });
});
