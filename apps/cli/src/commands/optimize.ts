/**
 * `samtune optimize`: parses the flags, runs @samtune/quantize-ptq's `optimizeWithDataset` (INT8
 * post-training quantization of an export directory, calibrated on the user's training images and
 * gated on validation F1) and prints one line per component.
 */
import { defineCommand, parseFlagTable } from '../flags.js';
import { FLAGS, SYNOPSIS } from './optimize-flags.js';

export { MAX_F1_DROP } from './optimize-flags.js';

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
