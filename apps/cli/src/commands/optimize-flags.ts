/** The flags and help text of `samtune optimize` (a flag table, see `flags.ts`). */
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { Flag } from '../flags.js';

/** @samtune/quantize-ptq's `DEFAULT_MAX_F1_DROP` (`optimize.test.ts` checks); a value, so `--help` loads no model code. */
export const MAX_F1_DROP = 1;

export const SYNOPSIS = `usage: samtune optimize --model <export dir> --data-root <dir> [flags]

Quantizes encoder.onnx and decoder.onnx of an export directory to INT8 (static QDQ: int8 per-channel
weights, uint8 per-tensor activations calibrated on your training images), measures size, ORT CPU
latency (median of >= 20 runs) and F1/IoU/Dice on the validation subset, FP32 vs INT8, and writes
<dir>/encoder.int8.onnx, <dir>/decoder.int8.onnx (listed in model.json) only for models that lose
at most --max-f1-drop F1 points. The report goes to <dir>/ptq-report.{md,json} (or --report).
A SAM 2.1 export folder (samexporter's encoder.onnx + decoder.onnx, no model.json) takes the same
recipe; its INT8 files are listed in the report only.
Exit code 1 when the gate refuses a model (the report is still written).`;

export const FLAGS = Type.Object({
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
