/**
 * The state-dict keys and shapes of a SAM model of a given config, derived from the official module
 * structure (segment-anything `modeling/{image_encoder,prompt_encoder,mask_decoder,transformer}.py`
 * and MobileSAM `tiny_vit_sam.py`), and a validator that reports every difference at once.
 */
import type { MaskDecoderConfig, PromptEncoderConfig, SamConfig, TinyVitConfig, VitConfig } from '../config.js';
import type { WeightMap } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

type Shapes = Map<string, number[]>;

/** Thrown by `validateWeights` with every missing, unexpected and mis-shaped key. */
export class CheckpointKeysError extends SamtuneError {
  readonly code: string = 'checkpoint-keys';
  readonly kind: ErrorKind = 'input';
  constructor(
    message: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly misshaped: ReadonlyArray<{ key: string; expected: readonly number[]; actual: readonly number[] }>,
  ) {
    super(message);
  }
}

/**
 * Keys that checkpoints may or may not carry: TinyViT's `attention_bias_idxs` is a non-persistent
 * buffer in MobileSAM (absent from `mobile_sam.pt`) but persistent in the original TinyViT code.
 * When present its shape is checked; when absent it is not reported.
 */
export function isOptionalKey(key: string): boolean {
  return key.endsWith('.attention_bias_idxs');
}

/** Keys a SAM checkpoint may carry that the SAM model never uses (TinyViT's classifier head). */
export function isIgnoredKey(key: string): boolean {
  return key.startsWith('image_encoder.head.') || key.startsWith('image_encoder.norm_head.');
}

const linear = (m: Shapes, p: string, out: number, inp: number, bias = true): void => {
  m.set(`${p}.weight`, [out, inp]);
  if (bias) m.set(`${p}.bias`, [out]);
};
const norm = (m: Shapes, p: string, c: number): void => {
  m.set(`${p}.weight`, [c]);
  m.set(`${p}.bias`, [c]);
};

/** MobileSAM `Conv2d_BN`: conv without bias (`.c`) + BatchNorm2d (`.bn`, with running stats). */
function conv2dBn(m: Shapes, p: string, cin: number, cout: number, ks: number, groups = 1): void {
  m.set(`${p}.c.weight`, [cout, cin / groups, ks, ks]);
  norm(m, `${p}.bn`, cout);
  m.set(`${p}.bn.running_mean`, [cout]);
  m.set(`${p}.bn.running_var`, [cout]);
  m.set(`${p}.bn.num_batches_tracked`, []);
}

function tinyVitShapes(m: Shapes, c: TinyVitConfig): void {
  const p = 'image_encoder';
  const e = c.embedDims;
  conv2dBn(m, `${p}.patch_embed.seq.0`, c.inChans, e[0]! / 2, 3);
  conv2dBn(m, `${p}.patch_embed.seq.2`, e[0]! / 2, e[0]!, 3);
  for (let s = 0; s < e.length; s++) {
    const dim = e[s]!;
    const lp = `${p}.layers.${s}`;
    for (let b = 0; b < c.depths[s]!; b++) {
      const bp = `${lp}.blocks.${b}`;
      if (s === 0) {
        // MBConv: 1x1 expand, depthwise 3x3, 1x1 project.
        const hidden = dim * c.mbconvExpandRatio;
        conv2dBn(m, `${bp}.conv1`, dim, hidden, 1);
        conv2dBn(m, `${bp}.conv2`, hidden, hidden, 3, hidden);
        conv2dBn(m, `${bp}.conv3`, hidden, dim, 1);
        continue;
      }
      // TinyViTBlock: Attention(dim, key_dim=dim/heads, heads, attn_ratio=1, resolution=(ws,ws)).
      const heads = c.numHeads[s]!;
      const ws = c.windowSizes[s]!;
      const keyDim = dim / heads;
      const qkvOut = 3 * keyDim * heads;
      m.set(`${bp}.attn.attention_biases`, [heads, ws * ws]);
      m.set(`${bp}.attn.attention_bias_idxs`, [ws * ws, ws * ws]);
      norm(m, `${bp}.attn.norm`, dim);
      linear(m, `${bp}.attn.qkv`, qkvOut, dim);
      linear(m, `${bp}.attn.proj`, dim, keyDim * heads);
      norm(m, `${bp}.mlp.norm`, dim);
      linear(m, `${bp}.mlp.fc1`, dim * c.mlpRatio, dim);
      linear(m, `${bp}.mlp.fc2`, dim, dim * c.mlpRatio);
      conv2dBn(m, `${bp}.local_conv`, dim, dim, c.localConvSize, dim);
    }
    if (s < e.length - 1) {
      // PatchMerging(dim -> out): 1x1, depthwise 3x3 (stride 2 or 1), 1x1.
      const out = e[s + 1]!;
      conv2dBn(m, `${lp}.downsample.conv1`, dim, out, 1);
      conv2dBn(m, `${lp}.downsample.conv2`, out, out, 3, out);
      conv2dBn(m, `${lp}.downsample.conv3`, out, out, 1);
    }
  }
  neckShapes(m, e[e.length - 1]!, c.outChans);
}

function vitShapes(m: Shapes, c: VitConfig): void {
  const p = 'image_encoder';
  const grid = c.imgSize / c.patchSize;
  const E = c.embedDim;
  m.set(`${p}.pos_embed`, [1, grid, grid, E]);
  m.set(`${p}.patch_embed.proj.weight`, [E, c.inChans, c.patchSize, c.patchSize]);
  m.set(`${p}.patch_embed.proj.bias`, [E]);
  const global = new Set(c.globalAttnIndexes);
  const headDim = E / c.numHeads;
  for (let i = 0; i < c.depth; i++) {
    const bp = `${p}.blocks.${i}`;
    norm(m, `${bp}.norm1`, E);
    if (c.useRelPos) {
      const side = global.has(i) ? grid : c.windowSize;
      m.set(`${bp}.attn.rel_pos_h`, [2 * side - 1, headDim]);
      m.set(`${bp}.attn.rel_pos_w`, [2 * side - 1, headDim]);
    }
    linear(m, `${bp}.attn.qkv`, 3 * E, E, c.qkvBias);
    linear(m, `${bp}.attn.proj`, E, E);
    norm(m, `${bp}.norm2`, E);
    linear(m, `${bp}.mlp.lin1`, E * c.mlpRatio, E);
    linear(m, `${bp}.mlp.lin2`, E, E * c.mlpRatio);
  }
  neckShapes(m, E, c.outChans);
}

/** Neck: conv1x1 (no bias), LayerNorm2d, conv3x3 (no bias), LayerNorm2d. */
function neckShapes(m: Shapes, cin: number, out: number): void {
  m.set('image_encoder.neck.0.weight', [out, cin, 1, 1]);
  norm(m, 'image_encoder.neck.1', out);
  m.set('image_encoder.neck.2.weight', [out, out, 3, 3]);
  norm(m, 'image_encoder.neck.3', out);
}

function promptEncoderShapes(m: Shapes, c: PromptEncoderConfig): void {
  const p = 'prompt_encoder';
  const E = c.embedDim;
  const mc = c.maskInChans;
  m.set(`${p}.pe_layer.positional_encoding_gaussian_matrix`, [2, E / 2]);
  for (let i = 0; i < 4; i++) m.set(`${p}.point_embeddings.${i}.weight`, [1, E]);
  m.set(`${p}.not_a_point_embed.weight`, [1, E]);
  // mask_downscaling: Conv(1, mc/4, 2, s2), LN2d, GELU, Conv(mc/4, mc, 2, s2), LN2d, GELU, Conv(mc, E, 1).
  m.set(`${p}.mask_downscaling.0.weight`, [mc / 4, 1, 2, 2]);
  m.set(`${p}.mask_downscaling.0.bias`, [mc / 4]);
  norm(m, `${p}.mask_downscaling.1`, mc / 4);
  m.set(`${p}.mask_downscaling.3.weight`, [mc, mc / 4, 2, 2]);
  m.set(`${p}.mask_downscaling.3.bias`, [mc]);
  norm(m, `${p}.mask_downscaling.4`, mc);
  m.set(`${p}.mask_downscaling.6.weight`, [E, mc, 1, 1]);
  m.set(`${p}.mask_downscaling.6.bias`, [E]);
  m.set(`${p}.no_mask_embed.weight`, [1, E]);
}

/** `transformer.Attention(dim, heads, downsample_rate)`: q/k/v project to dim/rate, out back to dim. */
function attention(m: Shapes, p: string, dim: number, rate: number): void {
  const inner = dim / rate;
  linear(m, `${p}.q_proj`, inner, dim);
  linear(m, `${p}.k_proj`, inner, dim);
  linear(m, `${p}.v_proj`, inner, dim);
  linear(m, `${p}.out_proj`, dim, inner);
}

function mlpHead(m: Shapes, p: string, inp: number, hidden: number, out: number, depth: number): void {
  for (let i = 0; i < depth; i++) linear(m, `${p}.layers.${i}`, i === depth - 1 ? out : hidden, i === 0 ? inp : hidden);
}

function maskDecoderShapes(m: Shapes, c: MaskDecoderConfig): void {
  const p = 'mask_decoder';
  const D = c.transformerDim;
  const r = c.attentionDownsampleRate;
  for (let i = 0; i < c.transformerDepth; i++) {
    const lp = `${p}.transformer.layers.${i}`;
    attention(m, `${lp}.self_attn`, D, 1);
    norm(m, `${lp}.norm1`, D);
    attention(m, `${lp}.cross_attn_token_to_image`, D, r);
    norm(m, `${lp}.norm2`, D);
    linear(m, `${lp}.mlp.lin1`, c.transformerMlpDim, D);
    linear(m, `${lp}.mlp.lin2`, D, c.transformerMlpDim);
    norm(m, `${lp}.norm3`, D);
    norm(m, `${lp}.norm4`, D);
    attention(m, `${lp}.cross_attn_image_to_token`, D, r);
  }
  attention(m, `${p}.transformer.final_attn_token_to_image`, D, r);
  norm(m, `${p}.transformer.norm_final_attn`, D);
  const tokens = c.numMultimaskOutputs + 1;
  m.set(`${p}.iou_token.weight`, [1, D]);
  m.set(`${p}.mask_tokens.weight`, [tokens, D]);
  // output_upscaling: ConvTranspose(D, D/4, 2, s2) [in,out,k,k], LN2d, GELU, ConvTranspose(D/4, D/8, 2, s2).
  m.set(`${p}.output_upscaling.0.weight`, [D, D / 4, 2, 2]);
  m.set(`${p}.output_upscaling.0.bias`, [D / 4]);
  norm(m, `${p}.output_upscaling.1`, D / 4);
  m.set(`${p}.output_upscaling.3.weight`, [D / 4, D / 8, 2, 2]);
  m.set(`${p}.output_upscaling.3.bias`, [D / 8]);
  for (let t = 0; t < tokens; t++) mlpHead(m, `${p}.output_hypernetworks_mlps.${t}`, D, D, D / 8, 3);
  mlpHead(m, `${p}.iou_prediction_head`, D, c.iouHeadHiddenDim, tokens, c.iouHeadDepth);
}

/**
 * Every key of a SAM state dict of `config` with its shape (weights `[out,in,kh,kw]`, ConvTranspose
 * `[in,out,kh,kw]`, scalars `[]`), in the official module order. Includes optional keys (see
 * `isOptionalKey`); excludes the ignored TinyViT classifier head.
 */
export function expectedShapes(config: SamConfig): Map<string, number[]> {
  const m: Shapes = new Map();
  const ie = config.imageEncoder;
  if (ie.kind === 'tiny_vit') tinyVitShapes(m, ie);
  else vitShapes(m, ie);
  promptEncoderShapes(m, config.promptEncoder);
  maskDecoderShapes(m, config.maskDecoder);
  return m;
}

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/**
 * Checks `weights` against `expectedShapes(config)`: throws ONE `CheckpointKeysError` listing every
 * missing, unexpected and mis-shaped key (expected vs actual). `image_encoder.head.*` /
 * `image_encoder.norm_head.*` are ignored; optional keys may be absent. `source` names the file.
 */
export function validateWeights(weights: WeightMap, config: SamConfig, source = '<weights>'): void {
  const expected = expectedShapes(config);
  const missing: string[] = [];
  const unexpected: string[] = [];
  const misshaped: Array<{ key: string; expected: number[]; actual: number[] }> = [];
  for (const [k, shape] of expected) {
    const t = weights.get(k);
    if (!t) {
      if (!isOptionalKey(k)) missing.push(k);
    } else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      misshaped.push({ key: k, expected: shape, actual: [...t.shape] });
    }
  }
  for (const k of weights.keys()) if (!expected.has(k) && !isIgnoredKey(k)) unexpected.push(k);
  if (missing.length + unexpected.length + misshaped.length === 0) return;
  const lines = [
    `validateWeights(${source}, config '${config.name}'): ${missing.length} missing, ${unexpected.length} unexpected, ${misshaped.length} mis-shaped keys`,
    ...missing.map((k) => `  missing: ${k} (expected ${fmt(expected.get(k)!)})`),
    ...unexpected.map((k) => `  unexpected: ${k} ${fmt(weights.get(k)!.shape)}`),
    ...misshaped.map((x) => `  wrong shape: ${x.key} expected ${fmt(x.expected)}, actual ${fmt(x.actual)}`),
  ];
  throw new CheckpointKeysError(lines.join('\n'), missing, unexpected, misshaped);
}
