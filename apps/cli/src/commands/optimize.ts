/**
 * `samtune optimize`: parses the flags, runs @samtune/quantize-ptq's `optimizeWithDataset` (INT8
 * post-training quantization of an export directory, calibrated on the user's training images and
 * gated on validation F1) and prints one line per component.
 */
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { defineCommand, Flag, parseFlagTable } from '../flags.js';

/** @samtune/quantize-ptq's `DEFAULT_MAX_F1_DROP` (`optimize.test.ts` checks); a value, so `--help` loads no model code. */
export const MAX_F1_DROP = 1;

const SYNOPSIS = `usage: samtune optimize --model <export dir> --data-root <dir> [flags]

Quantizes encoder.onnx and decoder.onnx of an export directory to INT8 (static QDQ: int8 per-channel
weights, uint8 per-tensor activations calibrated on your training images), measures size, ORT CPU
latency (median of >= 20 runs) and F1/IoU/Dice on the validation subset, FP32 vs INT8, and writes
<dir>/encoder.int8.onnx, <dir>/decoder.int8.onnx (listed in model.json) only for models that lose
at most --max-f1-drop F1 points. The report goes to <dir>/ptq-report.{md,json} (or --report).
Exit code 1 when the gate refuses a model (the report is still written).`;

const FLAGS = Type.Object({
  model: Flag.text('export directory (samtune export)', { placeholder: '<dir>' }),
  'data-root': common.dataRoot,
  'subset-size': Flag.int('calibration images from the training subset (seeded choice)', 1, { default: 100 }),
  'max-f1-drop': Flag.num('accuracy gate in F1 points, 1 point = 0.01 F1', 'a number of F1 points >= 0', {
    minimum: 0,
    default: MAX_F1_DROP,
    placeholder: '<points>',
  }),
  method: Flag.oneOf(['minmax', 'percentile', 'entropy'], 'activation range calibration', { default: 'minmax' }),
  percentile: Type.Optional(
    Flag.num('percentile of --method percentile (default 99.99)', 'a number in (50, 100]', {
      exclusiveMinimum: 50,
      maximum: 100,
    }),
  ),
  dynamic: Flag.bool('dynamic quantization (MatMul weights int8, activations per run; no calibration)'),
  only: Type.Optional(Flag.oneOf(['encoder', 'decoder'], 'quantize one component')),
  ops: Type.Optional(
    Flag.list(
      ['MatMul', 'Gemm', 'Conv', 'ConvTranspose'],
      "op types to quantize (default MatMul,Gemm: quantizing TinyViT's convolutions too measured twice the embedding error and no speedup on onnxruntime CPU)",
    ),
  ),
  'activation-matmul': Flag.bool('also quantize MatMuls of two activations (attention; measured: more error)'),
  format: common.format,
  'calibration-subset': Type.Optional(Flag.text('default: train / training', { placeholder: '<name>' })),
  'eval-subset': Type.Optional(Flag.text('default: val / valid / validation / test', { placeholder: '<name>' })),
  'prompts-per-image': Flag.int('decoder calibration instances per image (box + interior point each)', 1, {
    default: 4,
  }),
  'latency-runs': Flag.int('timed runs per model', 20, { default: 20 }),
  threads: Type.Optional(Flag.int('onnxruntime intra-op threads (default: all cores)', 1)),
  report: Type.Optional(
    Flag.text('where ptq-report.{md,json} go (default: the export directory)', { placeholder: '<dir>' }),
  ),
  'cache-dir': common.cacheDir,
  seed: common.seed('calibration sample choice'),
});

/** Parses `optimize` flags. */
export const parseOptimizeArgs = (argv: readonly string[]) => parseFlagTable(argv, FLAGS).flags;

export const optimizeCommand = defineCommand({
  path: ['optimize'],
  summary: 'INT8 quantization of an export directory, calibrated on your data, with an accuracy gate',
  synopsis: SYNOPSIS,
  flags: FLAGS,
  async run(a, io, { argv }) {
    const { AccuracyGateError, optimizeWithDataset } = await import('@samtune/quantize-ptq');
    try {
      const result = await optimizeWithDataset({
        model: a.model,
        dataRoot: a['data-root'],
        format: a.format,
        subsetSize: a['subset-size'],
        ...(a['calibration-subset'] ? { calibrationSubset: a['calibration-subset'] } : {}),
        ...(a['eval-subset'] ? { evalSubset: a['eval-subset'] } : {}),
        promptsPerImage: a['prompts-per-image'],
        ...(a.only ? { only: a.only } : {}),
        ...(a.ops ? { opTypes: a.ops } : {}),
        activationMatMul: a['activation-matmul'],
        maxF1Drop: a['max-f1-drop'],
        method: a.method,
        ...(a.percentile !== undefined ? { percentile: a.percentile } : {}),
        dynamic: a.dynamic,
        latencyRuns: a['latency-runs'],
        ...(a.threads ? { threads: a.threads } : {}),
        ...(a.report ? { reportDir: a.report } : {}),
        ...(a['cache-dir'] ? { cacheDir: a['cache-dir'] } : {}),
        seed: a.seed,
        notes: [`Regenerate: pnpm samtune optimize ${argv.join(' ')}`],
        log: (l) => io.err(l),
      });
      for (const c of result.report.components) {
        io.out(
          `${c.component}: ${(c.fp32.bytes / 1e6).toFixed(1)} MB -> ${(c.int8.bytes / 1e6).toFixed(1)} MB, ${c.fp32.latency.medianMs.toFixed(1)} -> ${c.int8.latency.medianMs.toFixed(1)} ms, F1 ${c.metrics.fp32.f1.toFixed(4)} -> ${c.metrics.int8.f1.toFixed(4)} (${c.written ? `wrote ${c.int8.file}` : 'not written'})`,
        );
      }
      io.err(`report: ${result.reportPaths.markdown}`);
      return 0;
    } catch (e) {
      if (e instanceof AccuracyGateError) {
        io.err(`samtune optimize: ${e.name}: ${e.message}`);
        return 1;
      }
      throw e;
    }
  },
});
