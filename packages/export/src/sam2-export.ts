/**
 * `exportSam2Onnx`: a SAM 2.1 checkpoint as the ONNX encoder + decoder pair that samexporter writes
 * and X-AnyLabeling loads (`export_sam2.py`):
 *
 * - `encoder.onnx`: `image [1,3,1024,1024]` (RGB stretched to 1024x1024, /255, ImageNet mean/std:
 *   `preprocessImageSam2`) -> `high_res_feats_0 [1,32,256,256]`, `high_res_feats_1 [1,64,128,128]`,
 *   `image_embed [1,256,64,64]` (sam-model's `recordSam2EncoderGraph`);
 * - `decoder.onnx`: `recordSam2DecoderGraph` (`SAM2ImageDecoder` I/O, N points dynamic, masks of
 *   tokens 1..3 clamped to ±32).
 *
 * Both are verified right after writing, like the SAM 1 export: the written encoder against an
 * in-process encoder session built from the weights, the written decoder (fed the written encoder's
 * features) against the tfjs `Sam2Predictor`, on `verificationImage()` with a point and a box + point
 * prompt (tolerance `1e-4 + 1e-3*max|ref|`); a failing model is deleted and
 * `ExportVerificationError` thrown. Written through a staging folder (`writeStaged`).
 */
import { join } from 'node:path';
import { createSession, type SessionOptions } from '@samtune/onnx';
import { floatTensor, type FloatTensor } from '@samtune/tensor';
import {
  Sam2EncoderSession,
  Sam2Predictor,
  checkFiniteWeights,
  compareTensors,
  sam2ApplyCoords,
  sam2PredictorWeights,
  saveSam2EncoderOnnx,
  SAM2_ENCODER_INPUT,
  SAM2_ENCODER_OUTPUTS,
  type Box,
  type ModelSource,
  type Point,
  type Sam2Config,
  type Sam2PredictorFeatures,
  type WeightMap,
} from '@samtune/sam-model';
import { preprocessImageSam2 } from '@samtune/transforms';
import { recordSam2DecoderGraph, SAM2_DECODER_OUTPUTS } from './sam2-decoder-graph.js';
import { writeStaged } from './staging.js';
import { failVerification, WorstRatios } from './verify-common.js';
import { verificationImage } from './verify-encoder.js';

/** A loaded SAM 2.1 model to export (`loadSam2Checkpoint`'s config and official-named weights). */
export interface Sam2ExportSource {
  readonly config: Sam2Config;
  readonly weights: WeightMap;
  readonly source: ModelSource;
}

/** File names of a SAM 2.1 export folder. */
export const SAM2_EXPORT_FILES = { encoder: 'encoder.onnx', decoder: 'decoder.onnx' } as const;

export interface Sam2ExportOptions {
  readonly session?: SessionOptions;
  readonly log?: (line: string) => void;
}

/** What `exportSam2Onnx` wrote and how close each model came to its reference (worst ratio per output). */
export interface Sam2ExportResult {
  readonly dir: string;
  readonly files: { readonly encoder: string; readonly decoder: string };
  readonly worstRatio: {
    readonly encoder: Record<string, number>;
    readonly decoder: Record<string, number>;
  };
}

/** The verification prompts, in original pixels of `verificationImage()`. */
function verificationPrompts(h: number, w: number): { name: string; points: Point[]; labels: number[]; box?: Box }[] {
  return [
    { name: 'point', points: [[w / 2, h / 2]], labels: [1] },
    { name: 'box+point', points: [[w / 3, h / 2]], labels: [0], box: [w / 4, h / 4, (3 * w) / 4, (3 * h) / 4] },
  ];
}

/** Writes and verifies the pair into `dir` (module comment). */
export async function exportSam2Onnx(
  model: Sam2ExportSource,
  dir: string,
  opts: Sam2ExportOptions = {},
): Promise<Sam2ExportResult> {
  const { config, weights } = model;
  checkFiniteWeights(weights, model.source.path);
  const log = opts.log ?? (() => {});
  const { result, target } = await writeStaged(
    dir,
    'exportSam2Onnx(dir)',
    SAM2_EXPORT_FILES.decoder,
    async (staging) => {
      const encPath = join(staging, SAM2_EXPORT_FILES.encoder);
      const decPath = join(staging, SAM2_EXPORT_FILES.decoder);
      log(`writing ${SAM2_EXPORT_FILES.encoder} (Hiera + FPN, ${config.name})`);
      saveSam2EncoderOnnx(config.imageEncoder, weights, encPath);
      const enc = await verifySam2EncoderFile(encPath, model, SAM2_ENCODER_INPUT, SAM2_ENCODER_OUTPUTS, opts.session);
      log(`writing ${SAM2_EXPORT_FILES.decoder} (samexporter SAM2ImageDecoder I/O)`);
      recordSam2DecoderGraph(sam2PredictorWeights(weights), config).builder.save(decPath);
      const decWorst = await verifyDecoder(decPath, config, weights, enc.features, enc.originalSize, opts.session);
      return {
        encoder: ratios(enc.worst),
        decoder: ratios(decWorst),
      };
    },
  );
  return {
    dir: target,
    files: { encoder: join(target, SAM2_EXPORT_FILES.encoder), decoder: join(target, SAM2_EXPORT_FILES.decoder) },
    worstRatio: result,
  };
}

/** What `verifySam2EncoderFile` found: the worst ratios, and the written encoder's features of `verificationImage()`. */
export interface Sam2EncoderCheck {
  readonly worst: WorstRatios;
  readonly features: Sam2PredictorFeatures;
  /** (H,W) of `verificationImage()`. */
  readonly originalSize: readonly [number, number];
}

/**
 * Runs a written SAM 2.1 encoder file on `verificationImage()` (`preprocessImageSam2`) and compares
 * its three outputs with an in-process encoder session built from the weights; a failing file is
 * deleted (`ExportVerificationError`).
 * @param input the file's input name; `outputs` its output names for high-res level 0, level 1 and
 *   the 64x64 embedding, in that order
 */
export async function verifySam2EncoderFile(
  path: string,
  model: Sam2ExportSource,
  input: string,
  outputs: readonly [string, string, string],
  session?: SessionOptions,
): Promise<Sam2EncoderCheck> {
  const { imgSize: s } = model.config.imageEncoder;
  const pre = preprocessImageSam2(verificationImage(), s);
  const worst = new WorstRatios();
  const written = await createSession(path, session);
  const got: FloatTensor[] = [];
  try {
    const out = await written.run({ [input]: floatTensor(pre.tensor, [1, 3, s, s]) }, [...outputs]);
    const reference = await Sam2EncoderSession.create(model.config.imageEncoder, model.weights, session);
    try {
      const ref = await reference.embed(pre.tensor);
      const refs = [ref.highResFeats[0], ref.highResFeats[1], ref.imageEmbed];
      for (const [i, name] of outputs.entries()) {
        const ours = out[name] as FloatTensor;
        const a = compareTensors(ours, refs[i] as FloatTensor);
        worst.add(name, 'verification image', a);
        if (!a.ok) await failVerification(path, name, 'verification image', a, written);
        got.push(ours);
      }
    } finally {
      await reference.release();
    }
  } finally {
    await written.release();
  }
  const [h0, h1, embed] = got as [FloatTensor, FloatTensor, FloatTensor];
  return { worst, features: { imageEmbedding: embed, highResFeatures: [h0, h1] }, originalSize: pre.originalSize };
}

function ratios(w: WorstRatios): Record<string, number> {
  return Object.fromEntries(Object.entries(w.summary('', []).worst_ratio).map(([k, v]) => [k, v.ratio]));
}

/** The written decoder vs the tfjs `Sam2Predictor` (multimask: tokens 1..3, clamped) on the verification prompts. */
async function verifyDecoder(
  path: string,
  config: Sam2Config,
  weights: WeightMap,
  features: Sam2PredictorFeatures,
  originalSize: readonly [number, number],
  session?: SessionOptions,
): Promise<WorstRatios> {
  const worst = new WorstRatios();
  const decoder = await createSession(path, session);
  const predictor = new Sam2Predictor({ config, weights: sam2PredictorWeights(weights), trainable: false });
  try {
    const [h, w] = originalSize;
    for (const p of verificationPrompts(h, w)) {
      const ref = predictor.predict(
        features,
        { points: p.points, labels: p.labels, ...(p.box ? { box: p.box } : {}) },
        originalSize,
        { multimask: true, returnMasks: false },
      );
      const corners = p.box ? [...sam2ApplyCoords(p.box, originalSize)] : [];
      const coords = [...corners, ...sam2ApplyCoords(p.points.flat(), originalSize)];
      const labels = [...(p.box ? [2, 3] : []), ...p.labels];
      const n = labels.length;
      const out = await decoder.run({
        image_embed: features.imageEmbedding,
        high_res_feats_0: features.highResFeatures[0],
        high_res_feats_1: features.highResFeatures[1],
        point_coords: floatTensor(Float32Array.from(coords), [1, n, 2]),
        point_labels: floatTensor(Float32Array.from(labels), [1, n]),
        mask_input: floatTensor(new Float32Array(256 * 256), [1, 1, 256, 256]),
        has_mask_input: floatTensor(Float32Array.of(0), [1]),
      });
      const refs: Record<string, FloatTensor> = { masks: ref.lowResMasks, iou_predictions: ref.iouPredictions };
      for (const name of SAM2_DECODER_OUTPUTS) {
        const a = compareTensors(out[name] as FloatTensor, refs[name] as FloatTensor);
        worst.add(name, p.name, a);
        if (!a.ok) await failVerification(path, name, p.name, a, decoder);
      }
    }
  } finally {
    predictor.dispose();
    await decoder.release();
  }
  return worst;
}
