/**
 * Infers a `SamConfig` from checkpoint tensor shapes (never assumes a variant): TinyViT vs ViT by
 * key names, then every size from shapes. Named after the preset it equals, else `custom`.
 */
import {
  DEFAULT_MASK_DECODER,
  DEFAULT_PROMPT_ENCODER,
  IMAGE_SIZE,
  SAM_PRESETS,
  samConfig,
  type ImageEncoderConfig,
  type MaskDecoderConfig,
  type PromptEncoderConfig,
  type SamConfig,
  type TinyVitConfig,
  type VitConfig,
} from '../config.js';
import type { WeightMap } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when shapes do not determine a config; names the key and what was found. */
export class ConfigInferenceError extends SamtuneError {
  readonly code: string = 'config-inference';
  readonly kind: ErrorKind = 'input';
}

function shapeOf(w: WeightMap, key: string): readonly number[] {
  const t = w.get(key);
  if (!t)
    throw new ConfigInferenceError(
      `inferSamConfig(weights): key '${key}' is missing (have ${w.size} keys); cannot infer the config`,
    );
  return t.shape;
}

function dim(w: WeightMap, key: string, axis: number): number {
  const s = shapeOf(w, key);
  const d = s[axis];
  if (d === undefined)
    throw new ConfigInferenceError(
      `inferSamConfig(weights): '${key}' has shape [${s.join(',')}], expected at least ${axis + 1} dims`,
    );
  return d;
}

/** Number of consecutive indices `prefix<i>.` present, from 0. */
function countIndexed(w: WeightMap, prefix: string): number {
  let n = 0;
  const keys = [...w.keys()];
  while (keys.some((k) => k.startsWith(`${prefix}${n}.`))) n++;
  return n;
}

function inferVit(w: WeightMap): VitConfig {
  const [E, inChans, patch] = [
    dim(w, 'image_encoder.patch_embed.proj.weight', 0),
    dim(w, 'image_encoder.patch_embed.proj.weight', 1),
    dim(w, 'image_encoder.patch_embed.proj.weight', 2),
  ];
  const grid = w.has('image_encoder.pos_embed') ? dim(w, 'image_encoder.pos_embed', 1) : IMAGE_SIZE / patch;
  const depth = countIndexed(w, 'image_encoder.blocks.');
  if (depth === 0)
    throw new ConfigInferenceError('inferSamConfig(weights): no image_encoder.blocks.<i> keys in a ViT checkpoint');
  const useRelPos = w.has('image_encoder.blocks.0.attn.rel_pos_h');
  const global: number[] = [];
  let windowSize = 14;
  let headDim = 64;
  if (useRelPos) {
    headDim = dim(w, 'image_encoder.blocks.0.attn.rel_pos_h', 1);
    const windows = new Set<number>();
    for (let i = 0; i < depth; i++) {
      const rows = dim(w, `image_encoder.blocks.${i}.attn.rel_pos_h`, 0);
      if (rows === 2 * grid - 1) global.push(i);
      else windows.add((rows + 1) / 2);
    }
    if (windows.size > 1)
      throw new ConfigInferenceError(
        `inferSamConfig(weights): windowed blocks have different rel_pos_h sizes (windows ${[...windows].join(', ')}), expected one window size`,
      );
    const ws = [...windows][0];
    if (ws !== undefined) windowSize = ws;
  } else {
    // Without relative positions the shapes cannot tell global from windowed blocks: use the
    // official spacing (every depth/4-th block global) and window 14.
    for (let k = 1; k <= 4; k++) global.push((depth / 4) * k - 1);
  }
  return {
    kind: 'vit',
    imgSize: grid * patch,
    patchSize: patch,
    inChans,
    embedDim: E,
    depth,
    numHeads: E / headDim,
    mlpRatio: dim(w, 'image_encoder.blocks.0.mlp.lin1.weight', 0) / E,
    globalAttnIndexes: global,
    windowSize,
    qkvBias: w.has('image_encoder.blocks.0.attn.qkv.bias'),
    useRelPos,
    outChans: dim(w, 'image_encoder.neck.0.weight', 0),
  };
}

function inferTinyVit(w: WeightMap): TinyVitConfig {
  const stages = countIndexed(w, 'image_encoder.layers.');
  const embedDims: number[] = [dim(w, 'image_encoder.patch_embed.seq.2.c.weight', 0)];
  const depths: number[] = [];
  const numHeads: number[] = [];
  const windowSizes: number[] = [];
  for (let s = 0; s < stages; s++) {
    depths.push(countIndexed(w, `image_encoder.layers.${s}.blocks.`));
    if (s > 0) {
      embedDims.push(dim(w, `image_encoder.layers.${s}.blocks.0.attn.norm.weight`, 0));
      const heads = dim(w, `image_encoder.layers.${s}.blocks.0.attn.attention_biases`, 0);
      const offsets = dim(w, `image_encoder.layers.${s}.blocks.0.attn.attention_biases`, 1);
      const ws = Math.round(Math.sqrt(offsets));
      if (ws * ws !== offsets)
        throw new ConfigInferenceError(
          `inferSamConfig(weights): layers.${s} attention_biases has ${offsets} offsets, expected a square window (ws*ws)`,
        );
      numHeads.push(heads);
      windowSizes.push(ws);
    }
  }
  if (stages < 2)
    throw new ConfigInferenceError(
      `inferSamConfig(weights): TinyViT checkpoint has ${stages} stages (image_encoder.layers.<i>), expected >= 2`,
    );
  // Stage 0 (MBConv) has no attention: its heads/window are unused; follow TinyViT's head width.
  const keyDim = embedDims[1]! / numHeads[0]!; // numHeads[0] is still stage 1's here
  numHeads.unshift(Math.max(1, Math.round(embedDims[0]! / keyDim)));
  windowSizes.unshift(windowSizes[0]!);
  const e1 = embedDims[1]!;
  return {
    kind: 'tiny_vit',
    imgSize: IMAGE_SIZE,
    inChans: dim(w, 'image_encoder.patch_embed.seq.0.c.weight', 1),
    embedDims,
    depths,
    numHeads,
    windowSizes,
    mlpRatio: dim(w, 'image_encoder.layers.1.blocks.0.mlp.fc1.weight', 0) / e1,
    mbconvExpandRatio: dim(w, 'image_encoder.layers.0.blocks.0.conv1.c.weight', 0) / embedDims[0]!,
    localConvSize: dim(w, 'image_encoder.layers.1.blocks.0.local_conv.c.weight', 2),
    outChans: dim(w, 'image_encoder.neck.0.weight', 0),
  };
}

function inferPromptEncoder(w: WeightMap, imgSize: number): PromptEncoderConfig {
  const e = imgSize / 16;
  return {
    ...DEFAULT_PROMPT_ENCODER,
    embedDim: dim(w, 'prompt_encoder.no_mask_embed.weight', 1),
    imageEmbeddingSize: [e, e],
    inputImageSize: [imgSize, imgSize],
    maskInChans: dim(w, 'prompt_encoder.mask_downscaling.3.weight', 0),
  };
}

function inferMaskDecoder(w: WeightMap): MaskDecoderConfig {
  const D = dim(w, 'mask_decoder.iou_token.weight', 1);
  return {
    transformerDim: D,
    transformerDepth: countIndexed(w, 'mask_decoder.transformer.layers.'),
    transformerMlpDim: dim(w, 'mask_decoder.transformer.layers.0.mlp.lin1.weight', 0),
    // Head count is not visible in any shape: the official value.
    transformerNumHeads: DEFAULT_MASK_DECODER.transformerNumHeads,
    attentionDownsampleRate: D / dim(w, 'mask_decoder.transformer.final_attn_token_to_image.q_proj.weight', 0),
    numMultimaskOutputs: dim(w, 'mask_decoder.mask_tokens.weight', 0) - 1,
    iouHeadDepth: countIndexed(w, 'mask_decoder.iou_prediction_head.layers.'),
    iouHeadHiddenDim: dim(w, 'mask_decoder.iou_prediction_head.layers.0.weight', 0),
  };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** True when two configs describe the same model (names ignored). */
export function sameArchitecture(a: SamConfig, b: SamConfig): boolean {
  return deepEqual({ ...a, name: '' }, { ...b, name: '' });
}

/**
 * Infers the SAM config from a state dict's shapes. TinyViT when `image_encoder.layers.*` keys
 * exist, ViT when `image_encoder.blocks.*` do. ViT: heads = embed / rel_pos head_dim, global blocks
 * = those whose `rel_pos_h` has `2*(imgSize/patch)-1` rows, window from the others (`2*ws-1`).
 * The name is the equal preset (`tiny_vit`, `vit_b`, `vit_l`, `vit_h`) or `custom`.
 */
export function inferSamConfig(weights: WeightMap): SamConfig {
  const keys = [...weights.keys()];
  let encoder: ImageEncoderConfig;
  if (keys.some((k) => k.startsWith('image_encoder.layers.'))) encoder = inferTinyVit(weights);
  else if (keys.some((k) => k.startsWith('image_encoder.blocks.'))) encoder = inferVit(weights);
  else
    throw new ConfigInferenceError(
      `inferSamConfig(weights): neither image_encoder.layers.* (TinyViT) nor image_encoder.blocks.* (ViT) keys among ${weights.size} keys`,
    );
  const base = samConfig('custom', encoder);
  const config: SamConfig = {
    ...base,
    promptEncoder: inferPromptEncoder(weights, encoder.imgSize),
    maskDecoder: inferMaskDecoder(weights),
  };
  for (const [name, preset] of Object.entries(SAM_PRESETS)) {
    if (sameArchitecture(config, preset)) return { ...config, name };
  }
  return config;
}
