/**
 * `optimizeExportDir`: INT8 models for a samtune export directory (`model.json` + `encoder.onnx` +
 * `decoder.onnx`), measured against FP32 and gated on accuracy.
 *
 * Per component: quantize (static QDQ calibrated on the given samples, or dynamic) into a work
 * folder, time FP32 and INT8 (same input), evaluate the pair with that component in INT8 and the
 * other in FP32 through the injected evaluator, and apply the gate. Passing models are written as
 * `<dir>/encoder.int8.onnx` / `<dir>/decoder.int8.onnx` and listed in `model.json` under
 * `models.encoder_int8` / `models.decoder_int8` (plus a `quantization` block); refused ones are not
 * written. The report is written either way; then `AccuracyGateError` is thrown if any was refused.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { modelFilePath, OnnxSamModel, readModelJson, writeModelJson, SAMTUNE_VERSION } from '@samtune/export';
import type { ModelFileEntry, ModelJson } from '@samtune/export';
import { containedPath, sha256File } from '@samtune/sam-model';
import type { SessionOptions } from '@samtune/onnx';
import { CalibrationError } from './calibrate.js';
import type { CalibrationMethod, Feeds } from './calibrate.js';
import {
  AccuracyGateError,
  DEFAULT_MAX_F1_DROP,
  f1DropPoints,
  gateDecision,
  refusalMessage,
  withinGate,
} from './gate.js';
import { vacuousGateNote, type GateDecision, type SegmentationScores } from './gate.js';
import { compareOutputs } from './fidelity.js';
import type { FidelityResult } from './fidelity.js';
import { machineSummary, measureLatencies } from './latency.js';
import type { LatencyStats } from './latency.js';
import { quantizeDynamic } from './quantize-dynamic.js';
import { quantizeStatic } from './quantize.js';
import type { QuantizeResult } from './quantize.js';
import type { QuantizableOp } from './qdq-plan.js';
import { writeReport } from './report.js';
import { EtaReporter } from './progress.js';
import type { ComponentReport, PtqReport } from './report.js';

/** The two quantizable components of an export directory. */
export type Component = 'encoder' | 'decoder';

/** Nodes kept float by default, by component, chosen by measurement (see the package README). */
export const DEFAULT_EXCLUDES: Readonly<Record<Component, readonly string[]>> = {
  encoder: [],
  // the prompt encoder: random-Fourier positional encoding (coords @ gaussian → sin/cos) and the
  // mask_input convolutions (zeros unless a mask prompt is given): cheap, and quantization-hostile.
  decoder: ['prompt_encoder'],
};

/**
 * Op types quantized by default, by component, chosen by measurement (package README): on the TinyViT
 * encoder, quantizing the convolutions too (QLinearConv needs their outputs quantized, per tensor)
 * doubled the embedding error (2.0 % → 4.3 % relative RMSE) and gave no speedup on ORT CPU (1.0× vs
 * 1.3× with the linear layers alone), so the defaults quantize the linear layers.
 */
export const DEFAULT_OP_TYPES: Readonly<Record<Component, readonly QuantizableOp[]>> = {
  encoder: ['MatMul', 'Gemm'],
  decoder: ['MatMul', 'Gemm'],
};

/** A model pair to evaluate: `model` runs `encoderFile` + `decoderFile`. */
export interface EvalTarget {
  /** `fp32`, `int8-encoder`, `int8-decoder` or `int8-both`. */
  readonly label: string;
  readonly model: OnnxSamModel;
  readonly encoderFile: string;
  readonly decoderFile: string;
}

/** Evaluates a pair on the validation set (the CLI composes it from the trainer's evaluation). */
export type PairEvaluator = (target: EvalTarget) => Promise<SegmentationScores>;

/** Calibration samples of a component; called once per use (may be called twice). */
export type SampleFactory = () => Iterable<Feeds> | AsyncIterable<Feeds>;

export interface OptimizeExportOptions {
  readonly dir: string;
  /** Components to quantize. Default: those present in `model.json`. */
  readonly components?: readonly Component[];
  readonly calibration: Readonly<Record<Component, SampleFactory>>;
  /** Expected calibration samples per component (an upper bound), for the progress lines' total and ETA. */
  readonly calibrationTotals?: Partial<Readonly<Record<Component, number>>>;
  readonly evaluate: PairEvaluator;
  /**
   * Held-out inputs (e.g. the validation images / prompts) on which FP32 and INT8 outputs are compared
   * (`compareOutputs`): a label-free fidelity measure reported beside the metrics.
   */
  readonly fidelity?: Partial<Record<Component, SampleFactory>>;
  /** Samples used for fidelity per component. Default 32. */
  readonly fidelitySamples?: number;
  /** Gate in F1 points. Default 1.0. */
  readonly maxF1Drop?: number;
  /** Static calibration method. Default `minmax`. */
  readonly method?: CalibrationMethod;
  readonly percentile?: number;
  /** Dynamic quantization instead of static. */
  readonly dynamic?: boolean;
  /** Per component; default `DEFAULT_EXCLUDES`. */
  readonly exclude?: Partial<Record<Component, readonly string[]>>;
  /** Op types to quantize per component (static mode); default `DEFAULT_OP_TYPES`. */
  readonly opTypes?: Partial<Record<Component, readonly QuantizableOp[]>>;
  readonly activationMatMul?: boolean;
  /** Timed runs per model (>= 20). Default 20. */
  readonly latencyRuns?: number;
  readonly session?: SessionOptions;
  /** Where `ptq-report.{json,md}` go. Default `dir`. */
  readonly reportDir?: string;
  /** Data description for the report. */
  readonly data?: Readonly<Record<string, string | number>>;
  readonly notes?: readonly string[];
  readonly log?: (line: string) => void;
}

/** What `optimizeExportDir` did. */
export interface OptimizeResult {
  readonly report: PtqReport;
  readonly reportPaths: { readonly json: string; readonly markdown: string };
  readonly decisions: readonly GateDecision[];
}

async function first(samples: SampleFactory): Promise<Feeds> {
  for await (const f of samples()) return f;
  throw new CalibrationError(
    'optimizeExportDir(options.calibration): a sample factory produced no sample (needed for the latency input)',
  );
}

/** Hard-links (or copies, across filesystems) `src` into `dir` under its own name; returns the name. */
function placeInto(dir: string, src: string): string {
  const name = basename(src);
  const dest = join(dir, name);
  rmSync(dest, { force: true });
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
  return name;
}

/**
 * A `model.json` in `evalDir` whose encoder/decoder entries are the given files, placed inside
 * `evalDir` (hard links) with their real sizes and SHA-256, so the pair loads like any export
 * directory (model files inside the folder, checked against model.json). `externalData`: the
 * external-data file of a model file that has one (the FP32 encoder of a large model).
 */
async function pairDir(
  info: ModelJson,
  evalDir: string,
  files: { readonly encoder: string; readonly decoder: string },
  externalData: ReadonlyMap<string, string>,
): Promise<string> {
  mkdirSync(evalDir, { recursive: true });
  const entry = async <E extends ModelFileEntry>(base: E, src: string): Promise<E> => {
    const data = externalData.get(src);
    const file = placeInto(evalDir, src);
    const external = data !== undefined ? placeInto(evalDir, data) : undefined;
    return {
      ...base,
      file,
      external_data: external,
      bytes: statSync(src).size + (data !== undefined ? statSync(data).size : 0),
      sha256: await sha256File(src),
    };
  };
  const { encoder, decoder } = info.models;
  const models = {
    ...(encoder ? { encoder: await entry(encoder, files.encoder) } : {}),
    ...(decoder ? { decoder: await entry(decoder, files.decoder) } : {}),
  };
  writeFileSync(join(evalDir, 'model.json'), JSON.stringify({ ...info, models }));
  return evalDir;
}

/** What the component loop (`optimizeLayout`) needs from an export folder of either model family. */
export interface ExportLayout {
  /** The export folder (INT8 models are written into it). */
  readonly dir: string;
  /** The components the folder has, in order (`OptimizeLayoutOptions.components` picks among them). */
  readonly components: readonly Component[];
  /** The FP32 model file of `c`, its name in the folder and its size (with external data). */
  fp32(c: Component): { readonly path: string; readonly file: string; readonly bytes: number };
  /** Loads the pair (FP32 or INT8 files), evaluates it and releases it; `work` is a scratch folder. */
  evaluatePair(
    label: string,
    files: { readonly encoder: string; readonly decoder: string },
    work: string,
  ): Promise<SegmentationScores>;
  /** Records the INT8 models that passed (already at `dir/<component>.int8.onnx`), e.g. in model.json. */
  record(kept: readonly ComponentReport[], decisions: readonly GateDecision[], report: PtqReport): Promise<void>;
  /** For the report. */
  readonly checkpoint: { readonly path: string; readonly sha256: string };
  readonly model: string;
}

/** `OptimizeExportOptions` without what the layout provides. */
export type OptimizeLayoutOptions = Omit<OptimizeExportOptions, 'dir' | 'evaluate'>;

/** The SAM 1 layout: `model.json` lists the models; pairs load as `OnnxSamModel`s (`o.evaluate`). */
async function modelJsonLayout(o: OptimizeExportOptions): Promise<ExportLayout> {
  const dir = resolve(o.dir);
  const info = readModelJson(dir);
  const components = (['encoder', 'decoder'] as const).filter((c) => info.models[c]);
  const entryFor = (c: Component): ModelFileEntry => info.models[c] as ModelFileEntry; // filtered above
  const fp32File = (c: Component): string => modelFilePath(dir, entryFor(c), c);
  // The external-data files of the FP32 models that have one, by model file.
  const externalData = new Map<string, string>();
  for (const c of ['encoder', 'decoder'] as const) {
    const e = info.models[c];
    if (e?.external_data !== undefined)
      externalData.set(
        modelFilePath(dir, e, c),
        containedPath(dir, e.external_data, { what: `optimizeExportDir(dir): models.${c}.external_data` }),
      );
  }
  return {
    dir,
    components,
    fp32: (c) => ({ path: fp32File(c), file: entryFor(c).file, bytes: entryFor(c).bytes }),
    async evaluatePair(label, files, work) {
      const model = await OnnxSamModel.load(
        await pairDir(info, join(work, `eval-${label}`), files, externalData),
        o.session ? { session: o.session } : {},
      );
      try {
        return await o.evaluate({ label, model, encoderFile: files.encoder, decoderFile: files.decoder });
      } finally {
        await model.release();
      }
    },
    async record(kept, decisions, report) {
      const models: ModelJson['models'] = { ...info.models };
      for (const rep of kept) {
        const { verification: _v, external_data: _x, ...base } = entryFor(rep.component);
        const entry = {
          ...base,
          file: rep.int8.file,
          bytes: rep.int8.bytes,
          sha256: await sha256File(join(dir, rep.int8.file)),
          quantization: {
            mode: report.settings.mode,
            ...(report.settings.method ? { method: report.settings.method } : {}),
            f1_drop_points: rep.gate.f1DropPoints,
          },
        };
        if (rep.component === 'encoder')
          models.encoder_int8 = { ...entry, variant: info.models.encoder?.variant ?? 'images' };
        else models.decoder_int8 = { ...entry, variant: info.models.decoder?.variant ?? 'multimask' };
      }
      if (kept.length > 0)
        writeModelJson(dir, {
          ...info,
          models,
          quantization: {
            created_at: report.created_at,
            mode: report.settings.mode,
            max_f1_drop: report.settings.maxF1Drop,
            report: 'ptq-report.json',
            decisions: [...decisions],
          },
        });
    },
    checkpoint: info.checkpoint,
    model: info.model,
  };
}

/** Quantizes, measures, evaluates and gates the components of an export directory (see the module comment). */
export async function optimizeExportDir(o: OptimizeExportOptions): Promise<OptimizeResult> {
  return optimizeLayout(await modelJsonLayout(o), o);
}

/** The component loop of `optimizeExportDir` on any `ExportLayout`. */
export async function optimizeLayout(layout: ExportLayout, o: OptimizeLayoutOptions): Promise<OptimizeResult> {
  const { dir } = layout;
  const present = layout.components;
  const components = (o.components ?? (['encoder', 'decoder'] as const)).filter((c) => present.includes(c));
  const log = o.log ?? ((): void => {});
  const maxF1Drop = o.maxF1Drop ?? DEFAULT_MAX_F1_DROP;
  const mode: 'dynamic' | 'static' = o.dynamic ? 'dynamic' : 'static';
  const work = join(dir, '.ptq-work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const fp32File = (c: Component): string => layout.fp32(c).path;
  const candidate = (c: Component): string => join(work, `${c}.int8.onnx`);
  try {
    const quantized = new Map<Component, QuantizeResult>();
    const latencyFeeds = new Map<Component, Feeds>();
    for (const c of components) {
      const exclude = o.exclude?.[c] ?? DEFAULT_EXCLUDES[c];
      log(
        `${c}: ${mode} INT8 quantization of ${layout.fp32(c).file}${mode === 'static' ? ` (${o.method ?? 'minmax'} calibration)` : ''}`,
      );
      const samples = o.calibration[c];
      const r =
        mode === 'dynamic'
          ? quantizeDynamic(fp32File(c), { exclude })
          : await quantizeStatic(fp32File(c), samples(), {
              method: o.method ?? 'minmax',
              ...(o.percentile !== undefined ? { percentile: o.percentile } : {}),
              exclude,
              opTypes: o.opTypes?.[c] ?? DEFAULT_OP_TYPES[c],
              activationMatMul: o.activationMatMul ?? false,
              ...(o.session ? { session: o.session } : {}),
              onProgress: calibrationProgress(c, o.calibrationTotals?.[c], log),
            });
      writeFileSync(candidate(c), r.bytes);
      quantized.set(c, r);
      latencyFeeds.set(c, await first(samples));
      log(
        `${c}: ${Object.entries(r.summary.quantized)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')} quantized, ${r.summary.keptFloat.length} kept float; ${(r.bytes.length / 1e6).toFixed(1)} MB`,
      );
    }

    const evaluatePair = async (
      label: string,
      encoderFile: string,
      decoderFile: string,
    ): Promise<SegmentationScores> => {
      log(`evaluating ${label}`);
      const m = await layout.evaluatePair(label, { encoder: encoderFile, decoder: decoderFile }, work);
      log(
        `${label}: F1 ${m.f1.toFixed(4)} IoU ${m.iou.toFixed(4)} Dice ${m.dice.toFixed(4)} (${m.instances} instances)`,
      );
      return m;
    };
    const encFp32 = present.includes('encoder') ? fp32File('encoder') : '';
    const decFp32 = present.includes('decoder') ? fp32File('decoder') : '';
    const fp32 = await evaluatePair('fp32', encFp32, decFp32);
    const notes = [...(o.notes ?? [])];
    const vacuous = vacuousGateNote(fp32.f1, maxF1Drop);
    if (vacuous) {
      log(`warning: ${vacuous}`);
      notes.push(vacuous);
    }
    const reports: ComponentReport[] = [];
    const decisions: GateDecision[] = [];
    for (const c of components) {
      const r = quantized.get(c) as QuantizeResult;
      const int8 = await evaluatePair(
        `int8-${c}`,
        c === 'encoder' ? candidate(c) : encFp32,
        c === 'decoder' ? candidate(c) : decFp32,
      );
      const runs = o.latencyRuns ?? 20;
      log(`${c}: timing FP32 and INT8 (${runs} interleaved runs each)`);
      const feeds = latencyFeeds.get(c) as Feeds;
      const [latFp32, latInt8] = (await measureLatencies([fp32File(c), candidate(c)], feeds, {
        runs,
        ...(o.session ? { session: o.session } : {}),
      })) as [LatencyStats, LatencyStats];
      const fidFactory = o.fidelity?.[c];
      let fidelity: FidelityResult | undefined;
      if (fidFactory) {
        log(`${c}: comparing FP32 and INT8 outputs on held-out inputs`);
        fidelity = await compareOutputs(fp32File(c), candidate(c), fidFactory(), {
          ...(o.session ? { session: o.session } : {}),
          maxSamples: o.fidelitySamples ?? 32,
        });
      }
      const gate = gateDecision(c, fp32, int8, maxF1Drop);
      decisions.push(gate);
      log(
        gate.passed
          ? `${c}: F1 drop ${gate.f1DropPoints.toFixed(2)} points <= ${maxF1Drop}: accepted`
          : refusalMessage(gate),
      );
      reports.push({
        component: c,
        fp32: { file: layout.fp32(c).file, bytes: layout.fp32(c).bytes, latency: latFp32 },
        int8: { file: `${c}.int8.onnx`, bytes: r.bytes.length, latency: latInt8 },
        metrics: { fp32, int8 },
        ...(fidelity ? { fidelity } : {}),
        gate,
        written: gate.passed,
        quantization: {
          mode,
          quantized: r.summary.quantized,
          keptFloat: r.summary.keptFloat,
          ...(r.calibration
            ? { calibrationSamples: r.calibration.samples, calibrationSeconds: r.calibration.seconds }
            : {}),
          exclude: [...(o.exclude?.[c] ?? DEFAULT_EXCLUDES[c])],
          ...(mode === 'static' ? { opTypes: [...(o.opTypes?.[c] ?? DEFAULT_OP_TYPES[c])] } : {}),
        },
      });
    }
    let combined: PtqReport['combined'];
    if (components.length === 2 && decisions.every((d) => d.passed)) {
      const both = await evaluatePair('int8-both', candidate('encoder'), candidate('decoder'));
      const drop = f1DropPoints(fp32, both);
      combined = { metrics: both, f1DropPoints: drop, overGate: !withinGate(drop, maxF1Drop) };
    }

    const kept = reports.filter((x) => x.written);
    for (const rep of kept) renameSync(candidate(rep.component), join(dir, rep.int8.file));
    const report: PtqReport = {
      created_at: new Date().toISOString(),
      samtune_version: SAMTUNE_VERSION,
      export_dir: dir,
      checkpoint: layout.checkpoint,
      model: layout.model,
      settings: {
        mode,
        ...(mode === 'static' ? { method: o.method ?? 'minmax' } : {}),
        ...(mode === 'static' && o.method === 'percentile' ? { percentile: o.percentile ?? 99.99 } : {}),
        maxF1Drop,
        activationMatMul: o.activationMatMul ?? false,
        activations:
          mode === 'static' ? 'uint8 per-tensor asymmetric (calibrated)' : 'uint8 per-tensor (range computed per run)',
        weights: 'int8 per-channel symmetric (MatMul/Gemm: per output column; Conv: per output channel)',
        latencyRuns: o.latencyRuns ?? 20,
      },
      data: o.data ?? {},
      machine: machineSummary(),
      components: reports,
      ...(combined ? { combined } : {}),
      notes,
    };
    await layout.record(kept, decisions, report);
    const reportPaths = writeReport(o.reportDir ?? dir, report);
    const refused = decisions.filter((d) => !d.passed);
    if (refused.length > 0) {
      throw new AccuracyGateError(
        `optimizeExportDir(${dir}): accuracy gate refused ${refused.map(refusalMessage).join('; ')} (report: ${reportPaths.markdown})`,
        refused,
      );
    }
    return { report, reportPaths, decisions };
  } finally {
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
  }
}

/** Calibration progress: with a total, every 10% with the ETA; without, every 50 samples. */
function calibrationProgress(
  c: Component,
  total: number | undefined,
  log: (line: string) => void,
): (n: number) => void {
  if (total === undefined) return (n) => n % 50 === 0 && log(`${c}: calibrated on ${n} samples`);
  const eta = new EtaReporter(`${c}: calibrated`, 'samples', total, log);
  return (n) => eta.update(n);
}
