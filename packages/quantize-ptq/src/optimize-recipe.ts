/**
 * The `samtune optimize` recipe: INT8 post-training quantization of an export directory, calibrated
 * on the user's training images and gated on validation F1, on top of `optimizeExportDir`.
 * - calibration: `subsetSize` seeded images of the training subset (encoder: the images; decoder:
 *   up to `promptsPerImage` instances per image, box + interior point each, on the FP32 embeddings);
 * - fidelity inputs (output agreement FP32 vs INT8): the first 8 validation images for the encoder,
 *   every validation instance's box for the decoder;
 * - evaluation: `evaluateModel` (samtune eval's box recipe: micro-averaged pixel F1/IoU/Dice) on each
 *   ONNX pair, with embeddings from an embedding cache keyed by the SHA-256 of the pair's encoder
 *   file, so FP32 and INT8 encoders never share entries;
 * - the encoder input is `[1,3,S,S]` with S the model's `image_size` from model.json.
 * A SAM 2.1 export folder (samexporter's pair, no model.json) goes to `optimizeSam2WithDataset`.
 */
import { resolve } from 'node:path';
import { EmbeddingCache, evaluateModel } from '@samtune/evaluation';
import { TargetStore, type TrainItem } from '@samtune/training-data';
import { ModelDirError, modelFilePath, OnnxSamModel, readModelJson } from '@samtune/export';
import { sha256File } from '@samtune/sam-model';
import { decoderCalibrationCount, decoderCalibrationFeeds, encoderCalibrationFeeds } from './calibration-data.js';
import type { CalibrationMethod } from './calibrate.js';
import type { SegmentationScores } from './gate.js';
import {
  optimizeExportDir,
  type Component,
  type EvalTarget,
  type OptimizeResult,
  type PairEvaluator,
} from './optimize-dir.js';
import { evaluationProgress, openRecipeData, passThroughOptions } from './recipe-data.js';
import { isSam2ExportDir, optimizeSam2WithDataset } from './sam2-optimize.js';
import type { QuantizableOp } from './qdq-plan.js';

/** Options of `optimizeWithDataset` (the CLI's flags, parsed). */
export interface OptimizeWithDatasetOptions {
  /** Export directory (`samtune export`). */
  readonly model: string;
  /** Dataset root (the data the model was fine-tuned on). */
  readonly dataRoot: string;
  /** Dataset format; default `auto`. */
  readonly format?: string;
  /** Calibration images from the training subset (seeded choice). Default 100. */
  readonly subsetSize?: number;
  /** Calibration subset; default `train` / `training`. */
  readonly calibrationSubset?: string;
  /** Evaluation subset; default `val` / `valid` / `validation` / `test`. */
  readonly evalSubset?: string;
  /** Decoder calibration instances per image. Default 4. */
  readonly promptsPerImage?: number;
  /** Quantize one component only. */
  readonly only?: Component;
  readonly opTypes?: readonly QuantizableOp[];
  readonly activationMatMul?: boolean;
  /** Accuracy gate in F1 points (1 point = 0.01 F1). */
  readonly maxF1Drop?: number;
  readonly method?: CalibrationMethod;
  readonly percentile?: number;
  readonly dynamic?: boolean;
  readonly latencyRuns?: number;
  /** onnxruntime intra-op threads; default all cores. */
  readonly threads?: number;
  /** Where ptq-report.{md,json} go; default the export directory. */
  readonly reportDir?: string;
  /** Embedding cache; default `defaultEmbeddingCacheDir()`. */
  readonly cacheDir?: string;
  readonly seed?: number;
  /** Lines for the report's "regenerate" note. */
  readonly notes?: readonly string[];
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** An embedding cache in front of an ONNX encoder file, keyed by the file's SHA-256; input `[1,3,S,S]`. */
async function onnxEmbeddingCache(
  dir: string,
  encoderFile: string,
  model: OnnxSamModel,
  imageSize: number,
): Promise<EmbeddingCache> {
  return new EmbeddingCache({
    dir,
    encoderKey: `onnx:${await sha256File(encoderFile)}`,
    embedder: {
      embed: (images) => model.encode({ dtype: 'float32', shape: [1, 3, imageSize, imageSize], data: images }),
    },
  });
}

/** The evaluator of an ONNX pair: `evaluateModel` (samtune eval's box recipe) on the pair's own embeddings. */
export function onnxPairEvaluator(
  items: readonly TrainItem[],
  cacheDir: string,
  imageSize: number,
  onImage?: (label: string, done: number, total: number) => void,
): PairEvaluator {
  const targets = new TargetStore(0, false);
  return async (t: EvalTarget): Promise<SegmentationScores> =>
    evaluateModel({
      model: t.model,
      cache: await onnxEmbeddingCache(cacheDir, t.encoderFile, t.model, imageSize),
      targets,
      items,
      onProgress: (done, total) => onImage?.(t.label, done, total),
    });
}

/** Runs the optimize recipe (see the module comment); the gate's refusal throws `AccuracyGateError`. */
export async function optimizeWithDataset(o: OptimizeWithDatasetOptions): Promise<OptimizeResult> {
  const log = o.log ?? ((): void => {});
  const dir = resolve(o.model);
  if (isSam2ExportDir(dir)) return optimizeSam2WithDataset(o);
  const info = readModelJson(dir);
  const imageSize = info.image_size;
  const d = await openRecipeData(o);
  const { calItems, valItems, cacheDir, session, promptsPerImage, seed } = d;
  const fp32 = await OnnxSamModel.load(dir, session ? { session } : {});
  log(
    `calibration: ${calItems.length} images of '${d.calName}'; evaluation: ${d.evalItems.length} images of '${d.valName}'`,
  );
  try {
    const embCache = info.models.encoder
      ? await onnxEmbeddingCache(cacheDir, modelFilePath(dir, info.models.encoder, 'encoder'), fp32, imageSize)
      : undefined;
    const needEncoder = (what: string): EmbeddingCache => {
      if (!embCache)
        throw new ModelDirError(`optimizeWithDataset(model): ${dir} has no encoder.onnx to embed the ${what} images`);
      return embCache;
    };
    const pre = {
      pixelMean: info.pixel_mean as [number, number, number],
      pixelStd: info.pixel_std as [number, number, number],
      imageSize,
    };
    const fidelityImages = Math.min(8, valItems.length);
    return await optimizeExportDir({
      dir,
      ...passThroughOptions(o, d, fidelityImages, log),
      calibration: {
        encoder: () => encoderCalibrationFeeds(calItems, pre),
        decoder: () =>
          decoderCalibrationFeeds(calItems, (p) => needEncoder("decoder's calibration").get(p), {
            promptsPerImage,
            imageSize,
            seed,
          }),
      },
      fidelity: {
        encoder: () => encoderCalibrationFeeds(valItems.slice(0, fidelityImages), pre),
        decoder: () =>
          decoderCalibrationFeeds(valItems, (p) => needEncoder('validation').get(p), {
            prompts: 'box',
            promptsPerImage: 1000,
            imageSize,
          }),
      },
      calibrationTotals: {
        encoder: calItems.length,
        decoder: decoderCalibrationCount(calItems, { promptsPerImage, seed }),
      },
      evaluate: onnxPairEvaluator(d.evalItems, cacheDir, imageSize, evaluationProgress(log)),
    });
  } finally {
    await fp32.release();
  }
}
