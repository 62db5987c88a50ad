/**
 * SAM 2.1 (image mode) configuration, and its inference from checkpoint tensor shapes.
 *
 * The shapes give the Hiera trunk's embed dim, block count, stage starts (the blocks whose `proj`
 * exists: the channels double there), the position-embedding sizes and the neck's channel list. They
 * do NOT give the attention heads, the global-attention blocks, `window_spec[1:]` nor `q_pool`: those
 * are taken from the official layout whose shape signature matches (`SAM2_HIERA_LAYOUTS`, the
 * `sam2.1_hiera_{t,s,b+,l}.yaml` configs), or from the caller (`HieraFacts`) for any other trunk.
 */
import {
  PIXEL_MEAN,
  PIXEL_STD,
  IMAGE_SIZE,
  EMBED_SIZE,
  DEFAULT_PROMPT_ENCODER,
  DEFAULT_MASK_DECODER,
} from '../config.js';
import type { MaskDecoderConfig, PromptEncoderConfig } from '../config.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { SAM2_HIERA_LAYOUTS, officialHieraLayout, type Sam2PresetName } from './hiera-layouts.js';

export { SAM2_HIERA_LAYOUTS, officialHieraLayout, type HieraLayout, type Sam2PresetName } from './hiera-layouts.js';
export { isSam2Keys, Sam2CheckpointForSam1Error } from './family-keys.js';

/** The Hiera facts that tensor shapes do not carry. */
export interface HieraFacts {
  /** Heads of the first stage (doubled at each stage start). */
  readonly numHeads: number;
  /** Blocks with global attention (window 0). */
  readonly globalAttBlocks: readonly number[];
  /** Window side per stage (4 entries); `[0]` is also the side of `pos_embed_window`. */
  readonly windowSpec: readonly number[];
  /** How many stage starts pool the queries (2x2 max pooling). */
  readonly qPool: number;
}

/** Hiera trunk + FPN neck (`sam2.modeling.backbones`), image mode. */
export interface HieraConfig extends HieraFacts {
  readonly kind: 'hiera';
  /** Input side in pixels (square, stretched: no padding). */
  readonly imgSize: number;
  readonly inChans: number;
  /** Channels of the first stage (`patch_embed.proj` out channels). */
  readonly embedDim: number;
  /** Blocks per stage. */
  readonly stages: readonly number[];
  /** MLP hidden = `mlpRatio * dim_out`. */
  readonly mlpRatio: number;
  /** `pos_embed` `[1,C,h,w]` grid (h,w), bicubically resized to the token grid. */
  readonly windowPosEmbedBkgSpatialSize: readonly [number, number];
  /** Neck input channels, deepest first (`neck.convs.0` takes the deepest level). */
  readonly backboneChannelList: readonly number[];
  /** Neck output channels (256). */
  readonly dModel: number;
  /** Levels (0 = finest) that receive the nearest-x2 top-down sum. */
  readonly fpnTopDownLevels: readonly number[];
  /** Coarsest levels dropped after the neck (1: the 32x32 level). */
  readonly scalp: number;
}

/** The SAM 2 mask decoder: SAM 1's sizes plus the SAM 2 heads. */
export interface Sam2MaskDecoderConfig extends MaskDecoderConfig {
  /** Object-score token and head (3-layer MLP). */
  readonly predObjScores: true;
  readonly predObjScoresMlp: true;
  /** The upscaling fuses `high_res_feats` (conv_s0 / conv_s1 outputs). */
  readonly useHighResFeatures: true;
  /** The IoU head ends in a sigmoid. */
  readonly iouPredictionUseSigmoid: true;
  /** Single-mask calls fall back to the best multimask token when token 0 is unstable (eval only). */
  readonly dynamicMultimaskViaStability: true;
  readonly dynamicMultimaskStabilityDelta: number;
  readonly dynamicMultimaskStabilityThresh: number;
}

export interface Sam2Config {
  readonly family: 'sam2';
  /** `sam2.1_hiera_tiny` … for an official layout, else `custom`. */
  readonly name: string;
  readonly imageEncoder: HieraConfig;
  readonly promptEncoder: PromptEncoderConfig;
  readonly maskDecoder: Sam2MaskDecoderConfig;
  /** RGB mean/std on the 0-255 scale (applied as mean/255, std/255 on [0,1] values). */
  readonly pixelMean: readonly [number, number, number];
  readonly pixelStd: readonly [number, number, number];
  readonly maskThreshold: number;
}

/** The published mask decoder of every SAM 2.1 model. */
export const SAM2_MASK_DECODER: Sam2MaskDecoderConfig = {
  ...DEFAULT_MASK_DECODER,
  predObjScores: true,
  predObjScoresMlp: true,
  useHighResFeatures: true,
  iouPredictionUseSigmoid: true,
  dynamicMultimaskViaStability: true,
  dynamicMultimaskStabilityDelta: 0.05,
  dynamicMultimaskStabilityThresh: 0.98,
};

/** The published prompt encoder of every SAM 2.1 model (SAM 1's sizes). */
export const SAM2_PROMPT_ENCODER: PromptEncoderConfig = DEFAULT_PROMPT_ENCODER;

/** Thrown when the shapes do not determine a SAM 2.1 config (missing key, unknown layout). */
export class Sam2ConfigError extends SamtuneError {
  readonly code: string = 'sam2-config';
  readonly kind: ErrorKind = 'input';
}

/** Thrown for a Hiera trunk whose shapes match no official layout and no facts were given. */
export class UnknownHieraLayoutError extends Sam2ConfigError {
  override readonly code: string = 'unknown-hiera-layout';
  override readonly kind: ErrorKind = 'unsupported';
}

/** Tensor shapes by checkpoint key. */
export type ShapeMap = ReadonlyMap<string, readonly number[]>;

const TRUNK = 'image_encoder.trunk.';
const NECK = 'image_encoder.neck.';

function shapeOf(shapes: ShapeMap, key: string, rank: number): readonly number[] {
  const s = shapes.get(key);
  if (!s)
    throw new Sam2ConfigError(
      `inferSam2Config(shapes): key '${key}' is missing (have ${shapes.size} keys); not a SAM 2.1 checkpoint?`,
    );
  if (s.length !== rank)
    throw new Sam2ConfigError(`inferSam2Config(shapes): '${key}' has shape [${s.join(',')}], expected ${rank} dims`);
  return s;
}

function countIndexed(shapes: ShapeMap, prefix: string): number {
  const seen = new Set<number>();
  for (const k of shapes.keys()) {
    if (!k.startsWith(prefix)) continue;
    const i = Number(k.slice(prefix.length).split('.', 1)[0]);
    if (Number.isInteger(i) && i >= 0) seen.add(i);
  }
  let n = 0;
  while (seen.has(n)) n++;
  return n;
}

/** Blocks per stage from the blocks that carry a `proj` (the stage starts after the first). */
function stagesFromShapes(shapes: ShapeMap, depth: number): number[] {
  const starts = [0];
  for (let i = 1; i < depth; i++) if (shapes.has(`${TRUNK}blocks.${i}.proj.weight`)) starts.push(i);
  return starts.map((s, j) => (starts[j + 1] ?? depth) - s);
}

/**
 * The SAM 2.1 config of a checkpoint from its tensor shapes (keys of the official state dict).
 * @param facts the non-shape facts of a trunk that is not one of `SAM2_HIERA_LAYOUTS` (e.g. the
 *   reduced fixture's, from its manifest); ignored for an official layout.
 * @throws Sam2ConfigError for a missing key, or an unrecognised layout without `facts`.
 */
export function inferSam2Config(shapes: ShapeMap, facts?: HieraFacts): Sam2Config {
  const [embedDim, inChans] = shapeOf(shapes, `${TRUNK}patch_embed.proj.weight`, 4) as [number, number];
  const [, , ph, pw] = shapeOf(shapes, `${TRUNK}pos_embed`, 4) as [number, number, number, number];
  const win = shapeOf(shapes, `${TRUNK}pos_embed_window`, 4)[2] as number;
  const depth = countIndexed(shapes, `${TRUNK}blocks.`);
  if (depth === 0)
    throw new Sam2ConfigError(`inferSam2Config(shapes): no '${TRUNK}blocks.<i>.' keys; not a Hiera checkpoint`);
  const stages = stagesFromShapes(shapes, depth);
  if (stages.length !== 4)
    throw new Sam2ConfigError(
      `inferSam2Config(shapes): the trunk has ${stages.length} stages (blocks per stage [${stages.join(',')}]), expected 4 (the FPN neck reads 4 levels)`,
    );
  const mlpHidden = shapeOf(shapes, `${TRUNK}blocks.0.mlp.layers.0.weight`, 2)[0] as number;
  const nConvs = countIndexed(shapes, `${NECK}convs.`);
  const backboneChannelList = Array.from(
    { length: nConvs },
    (_, i) => shapeOf(shapes, `${NECK}convs.${i}.conv.weight`, 4)[1] as number,
  );
  const dModel = shapeOf(shapes, `${NECK}convs.0.conv.weight`, 4)[0] as number;
  if (nConvs !== stages.length)
    throw new Sam2ConfigError(
      `inferSam2Config(shapes): the neck has ${nConvs} convs, expected one per trunk stage (${stages.length})`,
    );

  const layout = officialHieraLayout(embedDim, stages);
  const chosen = layout?.facts ?? facts;
  if (!chosen) {
    const known = SAM2_HIERA_LAYOUTS.map((l) => `${l.name} (embed ${l.embedDim}, stages [${l.stages.join(',')}])`);
    throw new UnknownHieraLayoutError(
      `inferSam2Config(shapes): Hiera embed ${embedDim}, stages [${stages.join(',')}] is not an official layout ` +
        `(expected one of ${known.join(', ')}); pass its heads, global-attention blocks, window spec and q_pool as facts`,
    );
  }
  if (chosen.windowSpec.length !== 4 || chosen.qPool > 3 || chosen.numHeads < 1)
    throw new Sam2ConfigError(
      `inferSam2Config(shapes, facts): expected 4 window sizes, q_pool <= 3 and heads >= 1, got window_spec [${chosen.windowSpec.join(',')}], q_pool ${chosen.qPool}, heads ${chosen.numHeads}`,
    );
  if (chosen.windowSpec[0] !== win)
    throw new Sam2ConfigError(
      `inferSam2Config(shapes): pos_embed_window is ${win}x${win}, expected window_spec[0] = ${chosen.windowSpec[0]}`,
    );
  const shape = { inChans, embedDim, stages, mlpRatio: mlpHidden / embedDim, posEmbed: [ph, pw] as const };
  return sam2Config(layout?.name ?? 'custom', hieraConfig({ ...shape, backboneChannelList, dModel }, chosen));
}

/** What the shapes give of a Hiera config. */
type HieraShapeFacts = Pick<
  HieraConfig,
  'inChans' | 'embedDim' | 'stages' | 'mlpRatio' | 'backboneChannelList' | 'dModel'
> & {
  readonly posEmbed: readonly [number, number];
};

/** The one place a `HieraConfig` is assembled (so equal models give equal JSON, e.g. for cache keys). */
function hieraConfig(s: HieraShapeFacts, facts: HieraFacts): HieraConfig {
  return {
    kind: 'hiera',
    imgSize: IMAGE_SIZE,
    inChans: s.inChans,
    embedDim: s.embedDim,
    stages: [...s.stages],
    mlpRatio: s.mlpRatio,
    windowPosEmbedBkgSpatialSize: [...s.posEmbed],
    backboneChannelList: [...s.backboneChannelList],
    dModel: s.dModel,
    fpnTopDownLevels: [2, 3],
    scalp: 1,
    numHeads: facts.numHeads,
    globalAttBlocks: [...facts.globalAttBlocks],
    windowSpec: [...facts.windowSpec],
    qPool: facts.qPool,
  };
}

/** The config of a published SAM 2.1 model (what `inferSam2Config` gives for its checkpoint). */
export function sam2Preset(name: Sam2PresetName): Sam2Config {
  const l = SAM2_HIERA_LAYOUTS.find((x) => x.name === name);
  if (!l)
    throw new UnknownHieraLayoutError(
      `sam2Preset(name): unknown '${String(name)}', expected one of ${SAM2_HIERA_LAYOUTS.map((x) => x.name).join(', ')}`,
    );
  const channels = [8, 4, 2, 1].map((m) => m * l.embedDim);
  return sam2Config(
    l.name,
    hieraConfig({ inChans: 3, ...l, mlpRatio: 4, backboneChannelList: channels, dModel: 256 }, l.facts),
  );
}

/** A full SAM 2.1 config around a Hiera encoder config (the published decoder sizes). */
export function sam2Config(name: string, imageEncoder: HieraConfig): Sam2Config {
  return {
    family: 'sam2',
    name,
    imageEncoder,
    promptEncoder: SAM2_PROMPT_ENCODER,
    maskDecoder: SAM2_MASK_DECODER,
    pixelMean: [...PIXEL_MEAN],
    pixelStd: [...PIXEL_STD],
    maskThreshold: 0,
  };
}

/** Image embedding side (64) of every SAM 2.1 model. */
export const SAM2_EMBED_SIZE = EMBED_SIZE;

/** Whether `config` is a SAM 2.1 config (SAM 1's `SamConfig` has no `family`). */
export function isSam2Config(config: object): config is Sam2Config {
  return 'family' in config && (config as { family: unknown }).family === 'sam2';
}
