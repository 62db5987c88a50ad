/**
 * Loads a SAM 2.1 checkpoint for image mode: the official `torch.save({"model": state_dict})` file
 * (read by the restricted unpickler, no checkpoint code runs) or a samtune safetensors file, from a
 * path or a registry name (`sam2.1_hiera_tiny` …, downloaded and cached like SAM 1's). Keeps only the
 * image-mode tensors (`image_encoder.*`, `sam_prompt_encoder.*`, `sam_mask_decoder.*`,
 * `no_mem_embed`); the video-only modules (memory attention/encoder, object pointers, …) are dropped
 * whatever their shapes. The config comes from the tensor shapes (`inferSam2Config`).
 */
import type { HostTensor, WeightMap } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { resolveCheckpointDetailed, sha256File, type ResolveCheckpointOptions } from '../checkpoint/download.js';
import { checkFiniteWeights } from '../checkpoint/finite.js';
import { sniff, SAMTUNE_CONFIG_KEY } from '../checkpoint/load.js';
import { readSafetensors, writeSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { inferSam2Config, type HieraFacts, type Sam2Config, type ShapeMap } from './config.js';
import { hieraBlocks } from './hiera-layout.js';

/** Key prefixes (and exact keys) of the tensors image mode uses. */
export const SAM2_IMAGE_MODE_PREFIXES = ['image_encoder.', 'sam_prompt_encoder.', 'sam_mask_decoder.'] as const;
export const SAM2_IMAGE_MODE_KEYS = ['no_mem_embed'] as const;

/** Thrown when an image-mode tensor the config needs is missing or mis-shaped (all of them listed). */
export class Sam2CheckpointKeysError extends SamtuneError {
  readonly code: string = 'sam2-checkpoint-keys';
  readonly kind: ErrorKind = 'input';
}

export interface LoadSam2CheckpointOptions extends ResolveCheckpointOptions {
  /** The non-shape Hiera facts of a trunk that is not an official layout (see `inferSam2Config`). */
  facts?: HieraFacts;
  /** Refuse NaN/±Infinity in any kept tensor (default true). */
  checkFinite?: boolean;
}

export interface LoadedSam2Checkpoint {
  config: Sam2Config;
  /** The image-mode tensors, keyed as the official state dict. */
  weights: WeightMap;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  /** Absolute local path read. */
  path: string;
  /** How many video-only tensors were dropped. */
  droppedKeys: number;
}

/** Whether `key` is used in image mode. */
export function isSam2ImageModeKey(key: string): boolean {
  return (
    SAM2_IMAGE_MODE_PREFIXES.some((p) => key.startsWith(p)) || (SAM2_IMAGE_MODE_KEYS as readonly string[]).includes(key)
  );
}

/** The shapes of a weight map (for `inferSam2Config`). */
export function shapesOf(weights: ReadonlyMap<string, HostTensor>): ShapeMap {
  return new Map([...weights].map(([k, t]) => [k, t.shape]));
}

/**
 * The encoder tensors `config` reads, with their shapes: patch embedding, position embeddings, trunk
 * blocks, neck, `conv_s0`/`conv_s1`, `no_mem_embed`.
 */
export function expectedSam2EncoderShapes(config: Sam2Config): Map<string, number[]> {
  const e = config.imageEncoder;
  const out = new Map<string, number[]>();
  const linear = (key: string, o: number, i: number): void => {
    out.set(`${key}.weight`, [o, i]);
    out.set(`${key}.bias`, [o]);
  };
  const t = 'image_encoder.trunk.';
  out.set(`${t}patch_embed.proj.weight`, [e.embedDim, e.inChans, 7, 7]).set(`${t}patch_embed.proj.bias`, [e.embedDim]);
  out.set(`${t}pos_embed`, [1, e.embedDim, ...e.windowPosEmbedBkgSpatialSize]);
  out.set(`${t}pos_embed_window`, [1, e.embedDim, e.windowSpec[0]!, e.windowSpec[0]!]);
  hieraBlocks(e).forEach((b, i) => {
    const p = `image_encoder.trunk.blocks.${i}.`;
    out.set(`${p}norm1.weight`, [b.dim]).set(`${p}norm1.bias`, [b.dim]);
    out.set(`${p}norm2.weight`, [b.dimOut]).set(`${p}norm2.bias`, [b.dimOut]);
    linear(`${p}attn.qkv`, 3 * b.dimOut, b.dim);
    linear(`${p}attn.proj`, b.dimOut, b.dimOut);
    linear(`${p}mlp.layers.0`, e.mlpRatio * b.dimOut, b.dimOut);
    linear(`${p}mlp.layers.1`, b.dimOut, e.mlpRatio * b.dimOut);
    if (b.dim !== b.dimOut) linear(`${p}proj`, b.dimOut, b.dim);
  });
  e.backboneChannelList.forEach((c, i) => {
    out.set(`image_encoder.neck.convs.${i}.conv.weight`, [e.dModel, c, 1, 1]);
    out.set(`image_encoder.neck.convs.${i}.conv.bias`, [e.dModel]);
  });
  for (const [n, c] of [
    ['conv_s0', e.dModel / 8],
    ['conv_s1', e.dModel / 4],
  ] as const) {
    out.set(`sam_mask_decoder.${n}.weight`, [c, e.dModel, 1, 1]);
    out.set(`sam_mask_decoder.${n}.bias`, [c]);
  }
  out.set('no_mem_embed', [1, 1, e.dModel]);
  return out;
}

function validateEncoderWeights(weights: WeightMap, config: Sam2Config, path: string): void {
  const problems: string[] = [];
  for (const [key, shape] of expectedSam2EncoderShapes(config)) {
    const t = weights.get(key);
    if (!t) problems.push(`missing '${key}' (expected [${shape.join(',')}])`);
    else if (t.shape.join(',') !== shape.join(','))
      problems.push(`'${key}' has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
  }
  if (problems.length > 0)
    throw new Sam2CheckpointKeysError(
      `loadSam2Checkpoint(${path}): ${problems.length} encoder tensor(s) do not fit the inferred config ${config.name}: ${problems.join('; ')}`,
    );
}

/** The Hiera facts of a stored `Sam2Config` (samtune safetensors metadata). */
function storedFacts(json: string, path: string): HieraFacts {
  let c: Partial<Sam2Config> | undefined;
  try {
    c = JSON.parse(json) as Partial<Sam2Config>;
  } catch (e) {
    throw new Sam2CheckpointKeysError(
      `loadSam2Checkpoint(${path}): metadata '${SAMTUNE_CONFIG_KEY}' is not JSON (${(e as Error).message})`,
    );
  }
  if (c?.family !== 'sam2' || !c.imageEncoder)
    throw new Sam2CheckpointKeysError(
      `loadSam2Checkpoint(${path}): metadata '${SAMTUNE_CONFIG_KEY}' is not a SAM 2.1 config (expected family 'sam2' and an imageEncoder, got family '${String(c?.family)}')`,
    );
  return c.imageEncoder;
}

/**
 * Writes SAM 2.1 weights as safetensors (atomic) with the config in `samtune.config`, so that
 * `loadSam2Checkpoint` reads a non-official trunk back without `facts`.
 */
export function writeSam2Safetensors(
  path: string,
  weights: WeightMap,
  config: Sam2Config,
  extra: Record<string, string> = {},
): void {
  writeSafetensors(path, weights, { ...extra, [SAMTUNE_CONFIG_KEY]: JSON.stringify(config) });
}

/**
 * Loads a SAM 2.1 checkpoint (path or registry name) for image mode. A samtune safetensors file
 * carries its config (`writeSam2Safetensors`): its Hiera facts are used instead of `opts.facts`.
 * @throws Sam2ConfigError / UnknownHieraLayoutError when the shapes give no config,
 *   Sam2CheckpointKeysError for missing or mis-shaped encoder tensors, NonFiniteWeightsError.
 */
export async function loadSam2Checkpoint(
  nameOrPath: string,
  opts: LoadSam2CheckpointOptions = {},
): Promise<LoadedSam2Checkpoint> {
  const resolved = await resolveCheckpointDetailed(nameOrPath, opts);
  const path = resolved.path;
  const st = sniff(path) === 'torch' ? undefined : readSafetensors(path);
  const all = st ? st.tensors : readTorchCheckpoint(path);
  const weights: WeightMap = new Map();
  for (const [k, t] of all) if (isSam2ImageModeKey(k)) weights.set(k, t);
  const stored = st?.metadata[SAMTUNE_CONFIG_KEY];
  const facts = stored !== undefined ? storedFacts(stored, path) : opts.facts;
  const config = inferSam2Config(shapesOf(weights), facts);
  validateEncoderWeights(weights, config, path);
  if (opts.checkFinite !== false) checkFiniteWeights(weights, path);
  const sha256 = resolved.sha256 ?? (await sha256File(path));
  return { config, weights, sha256, path, droppedKeys: all.size - weights.size };
}
