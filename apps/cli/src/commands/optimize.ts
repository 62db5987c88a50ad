/**
 * `samtune optimize`: parses the flags, runs @samtune/quantize-ptq's `optimizeWithDataset` (INT8
 * post-training quantization of an export directory, calibrated on the user's training images and
 * gated on validation F1) and prints one line per component.
 */
import {
  AccuracyGateError,
  DEFAULT_MAX_F1_DROP,
  optimizeWithDataset,
  type CalibrationMethod,
  type Component,
  type QuantizableOp,
} from '@samtune/quantize-ptq';
import { parseFlags } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';

const USAGE = `usage: samtune optimize --model <export dir> --data-root <dir> [flags]

Quantizes encoder.onnx and decoder.onnx of an export directory to INT8 (static QDQ: int8 per-channel
weights, uint8 per-tensor activations calibrated on your training images), measures size, ORT CPU
latency (median of >= 20 runs) and F1/IoU/Dice on the validation subset, FP32 vs INT8, and writes
<dir>/encoder.int8.onnx, <dir>/decoder.int8.onnx (listed in model.json) only for models that lose
at most --max-f1-drop F1 points. The report goes to <dir>/ptq-report.{md,json} (or --report).
Exit code 1 when the gate refuses a model (the report is still written).

  --model <dir>             export directory (samtune export)
  --data-root <dir>         dataset root (the data the model was fine-tuned on)
  --subset-size <n>         calibration images from the training subset (default 100, seeded choice)
  --max-f1-drop <points>    accuracy gate in F1 points, 1 point = 0.01 F1 (default ${DEFAULT_MAX_F1_DROP})
  --method minmax|percentile|entropy   activation range calibration (default minmax)
  --percentile <p>          percentile of --method percentile (default 99.99)
  --dynamic                 dynamic quantization (MatMul weights int8, activations per run; no calibration)
  --only encoder|decoder    quantize one component
  --ops <list>              op types to quantize, comma-separated, of MatMul,Gemm,Conv,ConvTranspose
                            (default MatMul,Gemm: quantizing TinyViT's convolutions too measured twice
                            the embedding error and no speedup on onnxruntime CPU)
  --activation-matmul       also quantize MatMuls of two activations (attention; measured: more error)
  --format <name>           dataset format (default auto)
  --calibration-subset <s>  default: train / training
  --eval-subset <s>         default: val / valid / validation / test
  --prompts-per-image <n>   decoder calibration instances per image (default 4; box + interior point each)
  --latency-runs <n>        timed runs per model (default 20, at least 20)
  --threads <n>             onnxruntime intra-op threads (default: all cores)
  --report <dir>            where ptq-report.{md,json} go (default: the export directory)
  --cache-dir <dir>         embedding cache (default: the trainer's)
  --seed <n>                calibration sample choice (default 0)`;

/** Parsed `optimize` flags. */
export interface OptimizeArgs {
  readonly model: string;
  readonly dataRoot: string;
  readonly subsetSize: number;
  readonly maxF1Drop: number;
  readonly method: CalibrationMethod;
  readonly percentile: number | undefined;
  readonly dynamic: boolean;
  readonly only: Component | undefined;
  readonly ops: readonly QuantizableOp[] | undefined;
  readonly activationMatMul: boolean;
  readonly format: string;
  readonly calibrationSubset: string | undefined;
  readonly evalSubset: string | undefined;
  readonly promptsPerImage: number;
  readonly latencyRuns: number;
  readonly threads: number | undefined;
  readonly report: string | undefined;
  readonly cacheDir: string | undefined;
  readonly seed: number;
}

function num(v: string | undefined, flag: string, fallback: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || !ok(x)) throw new UsageError(`--${flag} must be ${what}, got '${v}'`);
  return x;
}
const int = (lo: number) => (x: number) => Number.isInteger(x) && x >= lo;

/** Parses `optimize` flags. */
export function parseOptimizeArgs(argv: string[]): OptimizeArgs {
  const values = parseFlags(argv, {
    model: { type: 'string' },
    'data-root': { type: 'string' },
    'subset-size': { type: 'string' },
    'max-f1-drop': { type: 'string' },
    method: { type: 'string' },
    percentile: { type: 'string' },
    dynamic: { type: 'boolean' },
    only: { type: 'string' },
    format: { type: 'string' },
    ops: { type: 'string' },
    'activation-matmul': { type: 'boolean' },
    'calibration-subset': { type: 'string' },
    'eval-subset': { type: 'string' },
    'prompts-per-image': { type: 'string' },
    'latency-runs': { type: 'string' },
    threads: { type: 'string' },
    report: { type: 'string' },
    'cache-dir': { type: 'string' },
    seed: { type: 'string' },
  });
  if (!values.model) throw new UsageError('--model is required');
  if (!values['data-root']) throw new UsageError('--data-root is required');
  const method = values.method ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile' && method !== 'entropy')
    throw new UsageError(`--method must be minmax, percentile or entropy, got '${method}'`);
  const only = values.only;
  if (only !== undefined && only !== 'encoder' && only !== 'decoder')
    throw new UsageError(`--only must be encoder or decoder, got '${only}'`);
  const known: readonly QuantizableOp[] = ['MatMul', 'Gemm', 'Conv', 'ConvTranspose'];
  const ops = values.ops?.split(',').map((x) => x.trim());
  const bad = ops?.filter((x) => !known.includes(x as QuantizableOp)) ?? [];
  if (bad.length > 0 || ops?.length === 0)
    throw new UsageError(`--ops must list op types among ${known.join(',')}, got '${values.ops}'`);
  return {
    model: values.model,
    dataRoot: values['data-root'],
    subsetSize: num(values['subset-size'], 'subset-size', 100, int(1), 'an integer >= 1'),
    maxF1Drop: num(
      values['max-f1-drop'],
      'max-f1-drop',
      DEFAULT_MAX_F1_DROP,
      (x) => x >= 0,
      'a number of F1 points >= 0',
    ),
    method,
    percentile:
      values.percentile === undefined
        ? undefined
        : num(values.percentile, 'percentile', 99.99, (x) => x > 50 && x <= 100, 'in (50, 100]'),
    dynamic: values.dynamic ?? false,
    only,
    format: values.format ?? 'auto',
    ops: ops as QuantizableOp[] | undefined,
    activationMatMul: values['activation-matmul'] ?? false,
    calibrationSubset: values['calibration-subset'],
    evalSubset: values['eval-subset'],
    promptsPerImage: num(values['prompts-per-image'], 'prompts-per-image', 4, int(1), 'an integer >= 1'),
    latencyRuns: num(values['latency-runs'], 'latency-runs', 20, int(20), 'an integer >= 20'),
    threads: values.threads === undefined ? undefined : num(values.threads, 'threads', 1, int(1), 'an integer >= 1'),
    report: values.report,
    cacheDir: values['cache-dir'],
    seed: num(values.seed, 'seed', 0, int(0), 'an integer >= 0'),
  };
}

export const optimizeCommand: CliCommand = {
  path: ['optimize'],
  summary: 'INT8 quantization of an export directory, calibrated on your data, with an accuracy gate',
  usage: USAGE,
  async run(argv, io) {
    const a = parseOptimizeArgs(argv);
    try {
      const result = await optimizeWithDataset({
        model: a.model,
        dataRoot: a.dataRoot,
        format: a.format,
        subsetSize: a.subsetSize,
        ...(a.calibrationSubset ? { calibrationSubset: a.calibrationSubset } : {}),
        ...(a.evalSubset ? { evalSubset: a.evalSubset } : {}),
        promptsPerImage: a.promptsPerImage,
        ...(a.only ? { only: a.only } : {}),
        ...(a.ops ? { opTypes: a.ops } : {}),
        activationMatMul: a.activationMatMul,
        maxF1Drop: a.maxF1Drop,
        method: a.method,
        ...(a.percentile !== undefined ? { percentile: a.percentile } : {}),
        dynamic: a.dynamic,
        latencyRuns: a.latencyRuns,
        ...(a.threads ? { threads: a.threads } : {}),
        ...(a.report ? { reportDir: a.report } : {}),
        ...(a.cacheDir ? { cacheDir: a.cacheDir } : {}),
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
};
