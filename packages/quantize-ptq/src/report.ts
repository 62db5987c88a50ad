/**
 * The PTQ report: per model (encoder, decoder) FP32 vs INT8 side by side — file size, ORT CPU
 * latency (median of >= 20 runs), F1/IoU/Dice on the validation set — the gate's verdict, and how
 * the models were quantized. Written as `ptq-report.json` and `ptq-report.md`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FidelityResult } from './fidelity.js';
import type { GateDecision, SegmentationScores } from './gate.js';
import type { LatencyStats } from './latency.js';

/** One model file's measurements. */
export interface ModelMeasure {
  /** File name (relative to the export directory), or the candidate's when it was refused. */
  readonly file: string;
  readonly bytes: number;
  readonly latency: LatencyStats;
}

/** One component's FP32 vs INT8 comparison. */
export interface ComponentReport {
  readonly component: 'encoder' | 'decoder';
  readonly fp32: ModelMeasure;
  readonly int8: ModelMeasure;
  /** Metrics of the FP32 pair and of the pair with this component in INT8 (the other FP32). */
  readonly metrics: { readonly fp32: SegmentationScores; readonly int8: SegmentationScores };
  /** FP32 vs INT8 outputs on held-out inputs (label-free). */
  readonly fidelity?: FidelityResult;
  readonly gate: GateDecision;
  /** Whether the INT8 file was written to the export directory. */
  readonly written: boolean;
  readonly quantization: {
    readonly mode: 'static' | 'dynamic';
    readonly quantized: Readonly<Record<string, number>>;
    readonly keptFloat: readonly { readonly name: string; readonly opType: string; readonly reason: string }[];
    readonly calibrationSamples?: number;
    readonly calibrationSeconds?: number;
    readonly exclude: readonly string[];
    /** Op types considered (static mode). */
    readonly opTypes?: readonly string[];
  };
}

export interface PtqReport {
  readonly created_at: string;
  readonly samtune_version: string;
  readonly export_dir: string;
  readonly checkpoint: { readonly path: string; readonly sha256: string };
  readonly model: string;
  readonly settings: {
    readonly mode: 'static' | 'dynamic';
    readonly method?: string;
    readonly percentile?: number;
    readonly maxF1Drop: number;
    readonly activationMatMul: boolean;
    readonly activations: string;
    readonly weights: string;
    readonly latencyRuns: number;
  };
  /** Where calibration and evaluation data came from (given by the caller). */
  readonly data: Readonly<Record<string, string | number>>;
  readonly machine: Readonly<Record<string, string | number>>;
  readonly components: readonly ComponentReport[];
  /** Both INT8 models together (informational; the gate applies per model). */
  readonly combined?: {
    readonly metrics: SegmentationScores;
    readonly f1DropPoints: number;
    readonly overGate: boolean;
  };
  readonly notes: readonly string[];
}

const mb = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
const ms = (l: LatencyStats): string => `${l.medianMs.toFixed(l.medianMs < 100 ? 1 : 0)} ms`;
const pct = (x: number): string => (x * 100).toFixed(2);
const signed = (x: number, digits = 2): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;

/** The report as markdown. */
export function reportMarkdown(r: PtqReport): string {
  const s = r.settings;
  const lines: string[] = [
    `# INT8 post-training quantization report — ${r.model}`,
    '',
    `Checkpoint \`${r.checkpoint.path}\` (sha256 \`${r.checkpoint.sha256.slice(0, 12)}…\`), export directory \`${r.export_dir}\`, ${r.created_at}.`,
    '',
    `Quantization: ${s.mode === 'static' ? `static QDQ, ${s.method} calibration${s.percentile !== undefined ? ` (${s.percentile}th percentile)` : ''}` : 'dynamic (DynamicQuantizeLinear + MatMulInteger)'}; activations ${s.activations}; weights ${s.weights}. Accuracy gate: at most ${s.maxF1Drop} F1 point(s) lost per model.`,
    '',
    '| model | | size | ORT CPU latency (median) | F1 | IoU | Dice | F1 Δ (points) | gate |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const c of r.components) {
    const verdict = c.gate.passed
      ? c.written
        ? `pass, wrote \`${c.int8.file}\``
        : 'pass'
      : `**refused** (> ${c.gate.maxF1Drop})`;
    lines.push(
      `| ${c.component} | FP32 | ${mb(c.fp32.bytes)} | ${ms(c.fp32.latency)} | ${pct(c.metrics.fp32.f1)} | ${pct(c.metrics.fp32.iou)} | ${pct(c.metrics.fp32.dice)} | | |`,
      `| ${c.component} | INT8 | ${mb(c.int8.bytes)} (${(c.int8.bytes / c.fp32.bytes).toFixed(2)}×) | ${ms(c.int8.latency)} (${(c.fp32.latency.medianMs / c.int8.latency.medianMs).toFixed(2)}× faster) | ${pct(c.metrics.int8.f1)} | ${pct(c.metrics.int8.iou)} | ${pct(c.metrics.int8.dice)} | ${signed(-c.gate.f1DropPoints)} | ${verdict} |`,
    );
  }
  if (r.combined) {
    const m = r.combined.metrics;
    lines.push(
      `| encoder + decoder | INT8 both | | | ${pct(m.f1)} | ${pct(m.iou)} | ${pct(m.dice)} | ${signed(-r.combined.f1DropPoints)} | ${r.combined.overGate ? 'over the gate together (informational)' : 'within the gate together'} |`,
    );
  }
  const first = r.components[0];
  lines.push(
    '',
    `F1/IoU/Dice in %: pixel-level, micro-averaged over ${first?.metrics.fp32.instances ?? 0} instance masks of ${first?.metrics.fp32.images ?? 0} validation images, at the original image size, one box prompt per instance. ` +
      'Each INT8 row runs that model in INT8 and the other one in FP32; "INT8 both" runs both in INT8. ' +
      `Latency: onnxruntime-node CPU, ${first?.fp32.latency.threads ?? '?'} intra-op threads, median of ${s.latencyRuns} runs after 2 warm-up runs, FP32 and INT8 runs interleaved so that load changes hit both alike (p10–p90 in the JSON).`,
    '',
    ...fidelityLines(r),
    '## Data and machine',
    '',
    ...Object.entries(r.data).map(([k, v]) => `- ${k}: ${v}`),
    ...Object.entries(r.machine).map(([k, v]) => `- machine ${k}: ${v}`),
    '',
    '## What was quantized',
    '',
  );
  for (const c of r.components) {
    const q = c.quantization;
    const counts =
      Object.entries(q.quantized)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'nothing';
    lines.push(
      `- **${c.component}**: ${counts}${q.opTypes ? ` (op types considered: ${q.opTypes.join(', ')})` : ''}${q.calibrationSamples !== undefined ? `; calibrated on ${q.calibrationSamples} samples in ${(q.calibrationSeconds ?? 0).toFixed(0)} s` : ''}.`,
    );
    lines.push(
      `  Kept float: ${q.keptFloat.length} quantizable node(s)${q.exclude.length ? `; excluded by setting: ${q.exclude.map((e) => `\`${e}\``).join(', ')}` : ''}.`,
    );
    const reasons = new Map<string, number>();
    for (const k of q.keptFloat) reasons.set(k.reason, (reasons.get(k.reason) ?? 0) + 1);
    for (const [reason, n] of reasons) lines.push(`  - ${n} × ${reason}`);
  }
  if (r.notes.length > 0) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

function fidelityLines(r: PtqReport): string[] {
  const rows = r.components.filter((c) => c.fidelity);
  if (rows.length === 0) return [];
  const lines = [
    '## Output agreement, INT8 vs FP32',
    '',
    'Both models on the same held-out inputs (validation images for the encoder; validation embeddings with one box prompt per instance for the decoder), pooled over all values: relative RMSE `‖int8 − fp32‖ / ‖fp32‖`, cosine similarity, and the fraction of values on the same side of 0 (for mask logits: the same binary mask pixel). Independent of labels and of how good the checkpoint is.',
    '',
    '| model | output | samples | relative RMSE | cosine | same sign |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const c of rows) {
    for (const [name, f] of Object.entries(c.fidelity?.outputs ?? {})) {
      lines.push(
        `| ${c.component} | ${name} | ${c.fidelity?.samples} | ${(f.relRmse * 100).toFixed(2)} % | ${f.cosine.toFixed(5)} | ${(f.signAgreement * 100).toFixed(2)} % |`,
      );
    }
  }
  lines.push('');
  return lines;
}

/** Writes `ptq-report.json` and `ptq-report.md` into `dir`; returns their paths. */
export function writeReport(dir: string, r: PtqReport): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'ptq-report.json');
  const markdown = join(dir, 'ptq-report.md');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(markdown, reportMarkdown(r));
  return { json, markdown };
}
