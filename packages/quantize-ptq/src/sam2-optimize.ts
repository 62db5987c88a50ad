/**
 * `samtune optimize` on a SAM 2.1 export folder (`samtune export` of a SAM 2.1 checkpoint:
 * samexporter's `encoder.onnx` + `decoder.onnx`, no model.json), with SAM 1's recipe and gate
 * (`optimizeLayout`):
 * - calibration: the encoder on `preprocessImageSam2` images of the training subset; the decoder on
 *   the FP32 encoder's features, a box and an interior point per chosen instance, in samexporter's
 *   feeds (`sam2PointFeeds`: box corners 2/3 before the clicks, `x·1024/W`, `y·1024/H`; no mask input);
 * - evaluation: each pair through `evaluateModel` (one tight box per instance, pixel F1 at the
 *   original size) as `Sam2OnnxPair`: the decoder's best of tokens 1..3 by predicted IoU (the
 *   samexporter decoder outputs the multimask tokens only), resized straight to (H,W) by
 *   `recordSam2PostprocessGraph`; features from a `sam2` embedding cache keyed by the SHA-256 of
 *   the pair's encoder file, so FP32 and INT8 encoders never share entries;
 * - what passes the gate is written as `encoder.int8.onnx` / `decoder.int8.onnx` beside the FP32
 *   files; with no model.json to list them, `ptq-report.{json,md}` records them.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EmbeddingCache, evaluateModel, type CachedEmbedding } from '@samtune/evaluation';
import { TargetStore } from '@samtune/training-data';
import { ModelDirError, SAM2_DECODER_INPUTS, SAM2_EXPORT_FILES } from '@samtune/export';
import { createSession, type Session, type SessionOptions } from '@samtune/onnx';
import {
  recordSam2PostprocessGraph,
  sam2PointFeeds,
  selectMaskIndex,
  sha256File,
  SAM2_ENCODER_INPUT,
  type FloatTensor,
  type PredictPrompts,
  type Sam2Embedding,
} from '@samtune/sam-model';
import { floatTensor, type HostTensor } from '@samtune/tensor';
import { decoderCalibrationCount, decoderCalibrationFeeds, encoderCalibrationFeeds } from './calibration-data.js';
import type { Feeds } from './calibrate.js';
import type { SourceEmbedding } from './calibration-data.js';
import { optimizeLayout, type Component, type ExportLayout, type OptimizeResult } from './optimize-dir.js';
import type { OptimizeWithDatasetOptions } from './optimize-recipe.js';
import { evaluationProgress, openRecipeData, passThroughOptions } from './recipe-data.js';

/** SAM 2.1's model input side. */
const SIZE = 1024;
const LOW = 256;

/** Whether `dir` is a SAM 2.1 export folder: samexporter's two files and no model.json. */
export function isSam2ExportDir(dir: string): boolean {
  return (
    !existsSync(join(dir, 'model.json')) &&
    existsSync(join(dir, SAM2_EXPORT_FILES.encoder)) &&
    existsSync(join(dir, SAM2_EXPORT_FILES.decoder))
  );
}

/** The samexporter decoder's feeds for one prompt (ORIGINAL pixels) on an image's features. */
export function sam2DecoderFeeds(emb: SourceEmbedding, prompts: PredictPrompts): Feeds {
  if (!emb.highResFeats)
    throw new ModelDirError(
      'sam2DecoderFeeds(emb): a SAM 2.1 decoder needs the high_res_feats of the features, got none',
    );
  return {
    image_embed: emb.embedding,
    high_res_feats_0: emb.highResFeats[0],
    high_res_feats_1: emb.highResFeats[1],
    ...sam2PointFeeds('sam2DecoderFeeds', prompts, emb.originalSize),
    mask_input: floatTensor(new Float32Array(LOW * LOW), [1, 1, LOW, LOW]),
    has_mask_input: floatTensor(Float32Array.of(0), [1]),
  };
}

/** A SAM 2.1 ONNX pair (samexporter I/O) as the encoder of an embedding cache and a box-prompt model. */
export class Sam2OnnxPair {
  private constructor(
    private readonly encoder: Session,
    private readonly decoder: Session,
    private readonly post: Session,
  ) {}

  /** @throws ModelDirError when the decoder does not have samexporter's SAM 2.1 inputs */
  static async load(
    files: { readonly encoder: string; readonly decoder: string },
    session: SessionOptions = {},
  ): Promise<Sam2OnnxPair> {
    const post = recordSam2PostprocessGraph(0, 'logits').builder.toModelBytes();
    const [encoder, decoder, postSession] = await Promise.all([
      createSession(files.encoder, session),
      createSession(files.decoder, session),
      createSession(post, session),
    ]);
    const names = decoder.inputs.map((i) => i.name);
    if (names.join(',') !== SAM2_DECODER_INPUTS.join(',')) {
      await Promise.all([encoder.release(), decoder.release(), postSession.release()]);
      throw new ModelDirError(
        `Sam2OnnxPair.load(${files.decoder}): expected samexporter's SAM 2.1 decoder inputs [${SAM2_DECODER_INPUTS.join(', ')}], got [${names.join(', ')}]`,
      );
    }
    return new Sam2OnnxPair(encoder, decoder, postSession);
  }

  /** `image [1,3,1024,1024]` (`preprocessImageSam2`) -> the 64x64 embedding and the high-res levels. */
  async embed(image: Float32Array): Promise<Sam2Embedding> {
    const out = await this.encoder.run({ [SAM2_ENCODER_INPUT]: floatTensor(image, [1, 3, SIZE, SIZE]) });
    return {
      imageEmbed: out.image_embed as FloatTensor,
      highResFeats: [out.high_res_feats_0 as FloatTensor, out.high_res_feats_1 as FloatTensor],
    };
  }

  /** One box (original pixels): the best of tokens 1..3 by predicted IoU, logits `[1,1,H,W]`. */
  async predict(
    emb: CachedEmbedding,
    prompts: { box: [number, number, number, number] },
  ): Promise<{ masks: FloatTensor }> {
    const out = await this.decoder.run(sam2DecoderFeeds(emb, prompts));
    const masks = out.masks as FloatTensor;
    const k = selectMaskIndex((out.iou_predictions as FloatTensor).data);
    const low = floatTensor(masks.data.slice(k * LOW * LOW, (k + 1) * LOW * LOW), [1, 1, LOW, LOW]);
    const size: HostTensor = { dtype: 'int64', shape: [2], data: BigInt64Array.from(emb.originalSize, BigInt) };
    const r = await this.post.runTyped({ low_res_masks: low, original_size: size });
    return { masks: r.masks as FloatTensor };
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release(), this.post.release()]);
  }
}

/** A `sam2` embedding cache in front of a pair's encoder file. */
async function sam2Cache(dir: string, encoderFile: string, pair: Sam2OnnxPair): Promise<EmbeddingCache> {
  return new EmbeddingCache({
    dir,
    family: 'sam2',
    encoderKey: `onnx-sam2:${await sha256File(encoderFile)}`,
    embedder: { embed: (image) => pair.embed(image) },
  });
}

/** The SAM 2.1 recipe (module comment); the gate's refusal throws `AccuracyGateError`. */
export async function optimizeSam2WithDataset(o: OptimizeWithDatasetOptions): Promise<OptimizeResult> {
  const log = o.log ?? ((): void => {});
  const dir = resolve(o.model);
  const files = { encoder: join(dir, SAM2_EXPORT_FILES.encoder), decoder: join(dir, SAM2_EXPORT_FILES.decoder) };
  const d = await openRecipeData(o);
  const { calItems, valItems, cacheDir, session, promptsPerImage, seed } = d;
  log(
    `SAM 2.1 export folder; calibration: ${calItems.length} images of '${d.calName}'; evaluation: ${d.evalItems.length} images of '${d.valName}'`,
  );
  const fp32 = await Sam2OnnxPair.load(files, session ?? {});
  try {
    const cache = await sam2Cache(cacheDir, files.encoder, fp32);
    const features = (p: string): Promise<SourceEmbedding> => cache.get(p);
    const targets = new TargetStore(0, false);
    const progress = evaluationProgress(log);
    const fidelityImages = Math.min(8, valItems.length);
    const layout: ExportLayout = {
      dir,
      components: ['encoder', 'decoder'],
      fp32: (c: Component) => ({ path: files[c], file: SAM2_EXPORT_FILES[c], bytes: statSync(files[c]).size }),
      async evaluatePair(label, pairFiles) {
        const pair = await Sam2OnnxPair.load(pairFiles, session ?? {});
        try {
          return await evaluateModel({
            model: pair,
            cache: await sam2Cache(cacheDir, pairFiles.encoder, pair),
            targets,
            items: d.evalItems,
            onProgress: (done, total) => progress(label, done, total),
          });
        } finally {
          await pair.release();
        }
      },
      record: async () => {}, // no model.json: the report lists the INT8 files
      checkpoint: { path: `${dir} (SAM 2.1 export folder: no model.json names the checkpoint)`, sha256: 'unknown' },
      model: 'SAM 2.1 (samexporter encoder + decoder)',
    };
    const decoderOptions = { promptsPerImage, imageSize: SIZE, seed, feeds: sam2DecoderFeeds };
    return await optimizeLayout(layout, {
      ...passThroughOptions(o, d, fidelityImages, log),
      calibration: {
        encoder: () => encoderCalibrationFeeds(calItems, { sam2: true }),
        decoder: () => decoderCalibrationFeeds(calItems, features, decoderOptions),
      },
      fidelity: {
        encoder: () => encoderCalibrationFeeds(valItems.slice(0, fidelityImages), { sam2: true }),
        decoder: () =>
          decoderCalibrationFeeds(valItems, features, { ...decoderOptions, prompts: 'box', promptsPerImage: 1000 }),
      },
      calibrationTotals: {
        encoder: calItems.length,
        decoder: decoderCalibrationCount(calItems, { promptsPerImage, seed }),
      },
    });
  } finally {
    await fp32.release();
  }
}
