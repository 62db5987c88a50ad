/**
 * Model configurations, like the official `build_sam` registry: a model is built from one of these,
 * never from variant numbers scattered in code. Checkpoint loading infers a config from tensor
 * shapes (see `checkpoint/infer-config.ts`) and can check it against a preset.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** TinyViT image encoder (MobileSAM). */
export interface TinyVitConfig {
  readonly kind: 'tiny_vit';
  /** Input side in pixels (square, padded). */
  readonly imgSize: number;
  readonly inChans: number;
  /** Channels per stage, e.g. [64,128,160,320]. */
  readonly embedDims: readonly number[];
  /** Blocks per stage (stage 0 is MBConv, the others TinyViT attention blocks). */
  readonly depths: readonly number[];
  /** Attention heads per stage (stage 0 unused). */
  readonly numHeads: readonly number[];
  /** Attention window side per stage (stage 0 unused). */
  readonly windowSizes: readonly number[];
  readonly mlpRatio: number;
  readonly mbconvExpandRatio: number;
  /** Depthwise "local conv" kernel inside each attention block. */
  readonly localConvSize: number;
  /** Neck output channels (the embedding channels, 256). */
  readonly outChans: number;
}

/** ViT image encoder (SAM ViT-B/L/H and any other size). */
export interface VitConfig {
  readonly kind: 'vit';
  readonly imgSize: number;
  readonly patchSize: number;
  readonly inChans: number;
  readonly embedDim: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  /** Blocks with global attention (the others use windows of `windowSize`). */
  readonly globalAttnIndexes: readonly number[];
  readonly windowSize: number;
  readonly qkvBias: boolean;
  readonly useRelPos: boolean;
  readonly outChans: number;
}

export type ImageEncoderConfig = TinyVitConfig | VitConfig;

export interface PromptEncoderConfig {
  /** Embedding channels (256). */
  readonly embedDim: number;
  /** Embedding grid (H,W) = imgSize / 16, i.e. (64,64). */
  readonly imageEmbeddingSize: readonly [number, number];
  /** Padded input image (H,W) = (1024,1024). */
  readonly inputImageSize: readonly [number, number];
  /** Hidden channels of the mask-input downscaler (16). */
  readonly maskInChans: number;
}

export interface MaskDecoderConfig {
  readonly transformerDim: number;
  readonly transformerDepth: number;
  readonly transformerMlpDim: number;
  readonly transformerNumHeads: number;
  /** Downsampling of the cross-attention inner dim (2). */
  readonly attentionDownsampleRate: number;
  /** Masks in multimask mode (3); the decoder has `num + 1` mask tokens. */
  readonly numMultimaskOutputs: number;
  readonly iouHeadDepth: number;
  readonly iouHeadHiddenDim: number;
}

export interface SamConfig {
  /** Preset name (`tiny_vit`, `vit_b`, …) or `custom` for an inferred non-preset shape. */
  readonly name: string;
  readonly imageEncoder: ImageEncoderConfig;
  readonly promptEncoder: PromptEncoderConfig;
  readonly maskDecoder: MaskDecoderConfig;
  /** Per-channel RGB mean and std on the 0-255 scale (official values). */
  readonly pixelMean: readonly [number, number, number];
  readonly pixelStd: readonly [number, number, number];
  /** Logit threshold for binary masks (0.0). */
  readonly maskThreshold: number;
}

export const PIXEL_MEAN = [123.675, 116.28, 103.53] as const;
export const PIXEL_STD = [58.395, 57.12, 57.375] as const;
export const IMAGE_SIZE = 1024;
export const EMBED_SIZE = 64;
/** Side of the decoder's low-res mask logits (4 x the embedding grid), defined by transforms. */
export { LOW_RES_SIZE } from '@samtune/transforms';

export const DEFAULT_PROMPT_ENCODER: PromptEncoderConfig = {
  embedDim: 256,
  imageEmbeddingSize: [EMBED_SIZE, EMBED_SIZE],
  inputImageSize: [IMAGE_SIZE, IMAGE_SIZE],
  maskInChans: 16,
};

export const DEFAULT_MASK_DECODER: MaskDecoderConfig = {
  transformerDim: 256,
  transformerDepth: 2,
  transformerMlpDim: 2048,
  transformerNumHeads: 8,
  attentionDownsampleRate: 2,
  numMultimaskOutputs: 3,
  iouHeadDepth: 3,
  iouHeadHiddenDim: 256,
};

/** ViT encoder config with the official defaults, for the given size. */
export function vitConfig(
  embedDim: number,
  depth: number,
  numHeads: number,
  globalAttnIndexes: readonly number[],
): VitConfig {
  return {
    kind: 'vit',
    imgSize: IMAGE_SIZE,
    patchSize: 16,
    inChans: 3,
    embedDim,
    depth,
    numHeads,
    mlpRatio: 4,
    globalAttnIndexes: [...globalAttnIndexes],
    windowSize: 14,
    qkvBias: true,
    useRelPos: true,
    outChans: 256,
  };
}

/** MobileSAM's TinyViT-5M encoder. */
export const TINY_VIT_ENCODER: TinyVitConfig = {
  kind: 'tiny_vit',
  imgSize: IMAGE_SIZE,
  inChans: 3,
  embedDims: [64, 128, 160, 320],
  depths: [2, 2, 6, 2],
  numHeads: [2, 4, 5, 10],
  windowSizes: [7, 7, 14, 7],
  mlpRatio: 4,
  mbconvExpandRatio: 4,
  localConvSize: 3,
  outChans: 256,
};

/** Assembles a full SAM config around an image encoder config. */
export function samConfig(name: string, imageEncoder: ImageEncoderConfig): SamConfig {
  return {
    name,
    imageEncoder,
    promptEncoder: DEFAULT_PROMPT_ENCODER,
    maskDecoder: DEFAULT_MASK_DECODER,
    pixelMean: [...PIXEL_MEAN],
    pixelStd: [...PIXEL_STD],
    maskThreshold: 0,
  };
}

/** The published variants (official `sam_model_registry` + MobileSAM). */
export const SAM_PRESETS = {
  tiny_vit: samConfig('tiny_vit', TINY_VIT_ENCODER),
  vit_b: samConfig('vit_b', vitConfig(768, 12, 12, [2, 5, 8, 11])),
  vit_l: samConfig('vit_l', vitConfig(1024, 24, 16, [5, 11, 17, 23])),
  vit_h: samConfig('vit_h', vitConfig(1280, 32, 16, [7, 15, 23, 31])),
} as const satisfies Record<string, SamConfig>;

export type SamPresetName = keyof typeof SAM_PRESETS;

/** Thrown for an unknown preset name. */
export class UnknownPresetError extends SamtuneError {
  readonly code: string = 'unknown-preset';
  readonly kind: ErrorKind = 'not-found';
}

export function getPreset(name: string): SamConfig {
  const preset = (SAM_PRESETS as Record<string, SamConfig>)[name];
  if (!preset) {
    throw new UnknownPresetError(
      `getPreset(name): unknown preset '${name}', expected one of ${Object.keys(SAM_PRESETS).join(', ')}`,
    );
  }
  return preset;
}
