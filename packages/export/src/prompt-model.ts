/**
 * One interface for "prompts in, masks out" over the two kinds of model `samtune predict` runs: a
 * checkpoint (registry name, `.pth`, a run's `best.safetensors`) on the in-process tfjs decoder, or a
 * directory written by `samtune export` on onnxruntime (`OnnxSamModel`). Also reads a `--mask-input`
 * file (low-res logits from an earlier prediction).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import {
  floatTensor,
  LOW_RES_SIZE,
  checkpointFamily,
  Sam2Model,
  SamModel,
  type FloatTensor,
  type ImageEmbedding,
  type PredictPrompts,
  type PredictResult,
  type Sam2Config,
} from '@samtune/sam-model';
import { decodeNpy, encodeSafetensors, readSafetensors } from '@samtune/tensor-files';
import type { RgbImage } from '@samtune/transforms';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { isExportDir } from './model-json.js';
import { OnnxSamModel } from './runner.js';

/** Thrown when a mask-input file holds no usable low-res logits. */
export class MaskInputError extends SamtuneError {
  readonly code: string = 'mask-input';
  readonly kind: ErrorKind = 'input';
}

/**
 * Reads low-res logits `[1,256,256]` from `.npy` or `.safetensors` (tensor `mask_input`,
 * `low_res_masks` or the only one); `[256,256]`, `[1,1,256,256]` or `[M,256,256]` give their first plane.
 * @throws MaskInputError naming the file, what it holds and what is expected
 */
export function readMaskInputFile(path: string): FloatTensor {
  let t: FloatTensor | undefined;
  if (extname(path).toLowerCase() === '.npy') {
    t = decodeNpy(readFileSync(path), path);
  } else {
    const { tensors } = readSafetensors(path);
    const found =
      tensors.get('mask_input') ??
      tensors.get('low_res_masks') ??
      (tensors.size === 1 ? [...tensors.values()][0] : undefined);
    if (!found || found.dtype !== 'float32') {
      throw new MaskInputError(
        `readMaskInputFile(${path}): needs a float32 tensor 'mask_input' or 'low_res_masks' (has ${[...tensors.keys()].join(', ') || 'none'})`,
      );
    }
    t = found as FloatTensor;
  }
  const n = LOW_RES_SIZE * LOW_RES_SIZE;
  if (t.data.length < n || t.shape.slice(-2).join(',') !== `${LOW_RES_SIZE},${LOW_RES_SIZE}`) {
    throw new MaskInputError(
      `readMaskInputFile(${path}): expected low-res logits [1,${LOW_RES_SIZE},${LOW_RES_SIZE}], got [${t.shape.join(',')}]`,
    );
  }
  return floatTensor(t.data.slice(0, n), [1, LOW_RES_SIZE, LOW_RES_SIZE]);
}

/** A model that embeds images and decodes prompts, with original-size masks. */
export interface PromptModel {
  embed(img: RgbImage): Promise<ImageEmbedding>;
  /** Masks for `prompts`; without `multimask` one mask (token 0, or a single-mask export's rule). */
  predict(emb: ImageEmbedding, prompts: PredictPrompts, multimask: boolean): Promise<PredictResult>;
  /** Logit above which a pixel is inside the mask. */
  readonly maskThreshold: number;
  /** SHA-256 of the checkpoint the weights come from. */
  readonly sha256: string;
  /** One line saying what was loaded. */
  readonly description: string;
  release(): Promise<void>;
}

export interface OpenPromptModelOptions {
  /** Download progress of a registry checkpoint, in bytes. */
  readonly onDownloadProgress?: (done: number, total: number | undefined) => void;
  /**
   * Export directories only: run the INT8 models `samtune optimize` wrote (`models.encoder_int8` /
   * `models.decoder_int8` in model.json) where present, FP32 otherwise.
   */
  readonly int8?: boolean;
}

/** Opens an export directory (`model.json`) on onnxruntime, or a checkpoint on the tfjs decoder. */
export async function openPromptModel(
  checkpointOrDir: string,
  options: OpenPromptModelOptions = {},
): Promise<PromptModel> {
  if (isExportDir(checkpointOrDir)) {
    const model = await OnnxSamModel.load(checkpointOrDir, options.int8 ? { precision: 'int8' } : {});
    const variant = model.decoderVariant;
    const precision = `encoder ${model.precisionOf('encoder')}, decoder ${model.precisionOf('decoder')}`;
    return {
      embed: (img) => model.embed(img),
      // without multimask: token 0 like the tfjs path; a single-mask decoder can only give the rule's mask
      predict: (emb, prompts, multimask) =>
        model.predict(emb, prompts, { multimask: multimask || (variant === 'single_mask' ? 'auto' : false) }),
      maskThreshold: model.info.mask_threshold,
      sha256: model.info.checkpoint.sha256,
      description: `model: ONNX export ${checkpointOrDir} (${model.info.model}, ${variant} decoder, ${precision}) of checkpoint sha256 ${model.info.checkpoint.sha256.slice(0, 12)}`,
      release: () => model.release(),
    };
  }
  if (checkpointFamily(checkpointOrDir) === 'sam2') return openSam2PromptModel(checkpointOrDir, options);
  const model = await SamModel.load(checkpointOrDir, {
    ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
  });
  return {
    embed: (img) => model.embedImage(img),
    predict: async (emb, prompts, multimask) => model.predict(emb, prompts, { multimask, returnMasks: true }),
    maskThreshold: model.config.maskThreshold,
    sha256: model.source.sha256,
    description: `model: ${model.config.name} (${model.config.imageEncoder.kind}) from ${model.source.path} sha256 ${model.source.sha256.slice(0, 12)}`,
    release: () => model.release(),
  };
}

/**
 * A SAM 2.1 checkpoint (`Sam2Model`): the Hiera encoder and the decoder (`Sam2OrtDecoder`) on
 * onnxruntime (the official `SAM2ImagePredictor` rules: single-mask calls with the stability
 * fallback, logits clamped to ±32).
 */
export async function openSam2PromptModel(
  checkpoint: string,
  options: OpenPromptModelOptions = {},
): Promise<PromptModel & { readonly config: Sam2Config; readonly path: string }> {
  const model = await Sam2Model.load(checkpoint, {
    ...(options.onDownloadProgress ? { onProgress: options.onDownloadProgress } : {}),
  });
  const { config, source } = model;
  return {
    embed: (img) => model.embedImage(img),
    predict: (emb, prompts, multimask) => model.predict(emb, prompts, { multimask, returnMasks: true }),
    maskThreshold: config.maskThreshold,
    sha256: source.sha256,
    config,
    path: source.path,
    description: `model: ${config.name} (SAM 2.1, hiera) from ${source.path} sha256 ${source.sha256.slice(0, 12)}`,
    release: () => model.release(),
  };
}

/**
 * A prediction as safetensors: `low_res_masks` [M,256,256], `iou_predictions` [M] and `masks` [M,H,W]
 * (logits at the original size), with `original_size` "H,W" and `checkpoint_sha256` metadata.
 */
export function encodePrediction(
  res: PredictResult,
  originalSize: readonly [number, number],
  sha256: string,
): Uint8Array {
  if (!res.masks) throw new MaskInputError('encodePrediction(res): the prediction has no original-size masks');
  return encodeSafetensors(
    new Map([
      ['low_res_masks', res.lowResMasks],
      ['iou_predictions', res.iouPredictions],
      ['masks', res.masks],
    ]),
    { original_size: `${originalSize[0]},${originalSize[1]}`, checkpoint_sha256: sha256 },
  );
}
