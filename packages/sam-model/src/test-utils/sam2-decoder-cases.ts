/**
 * Test-only: the SAM 2.1 reference (`../shared/fixtures/sam2-reference/`): its manifest cases, its
 * outputs, the seeded checkpoint's decoder-side weights, and one decoder program (prompt encoder ->
 * mask decoder -> original-size resize of all four tokens) run on TfjsOps or recorded by
 * OnnxGraphOps and run on onnxruntime.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sharedPath } from '@samtune/test-fixtures';
import type { FloatTensor, HostTensor, Ops, WeightMap } from '@samtune/tensor';
import { createSession, OnnxGraphBuilder, OnnxGraphOps } from '@samtune/onnx';
import { toFloat32 } from '@samtune/tensor';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { TfjsOps } from '../ops/tfjs-ops.js';
import { densePe, preparePromptEncoderWeights } from '../prompt-encoder.js';
import { SAM2_DECODER_CONFIG as CFG } from '../sam2/mask-decoder-config.js';
import { sam2PredictMasks } from '../sam2/mask-decoder.js';
import { sam2OriginalSizeMasks } from '../sam2/predictor-postprocess.js';
import { sam2PromptEncoder } from '../sam2/prompt-encoder.js';
import { sam2PredictorWeights } from '../sam2/predictor-weights.js';
import type { BatchCase, PromptCase } from './decoder-cases.js';

export type { BatchCase, PromptCase } from './decoder-cases.js';

/** Absolute path of `../shared/fixtures/sam2-reference/<name>`. */
export function sam2ReferencePath(name: string): string {
  return sharedPath(join('fixtures', 'sam2-reference', name));
}

export interface Sam2Manifest {
  readonly images: Record<string, { readonly original_size: [number, number] }>;
  readonly cases: Record<string, (PromptCase | BatchCase)[]>;
  readonly models: Record<
    string,
    { readonly decode: Record<string, { case: number | 'batch'; output_token: unknown }[]> }
  >;
}

export function readSam2Manifest(): Sam2Manifest {
  return JSON.parse(readFileSync(sam2ReferencePath('manifest.json'), 'utf8')) as Sam2Manifest;
}

/** Float32 tensors of a fixture file by name. */
export function readSam2Tensors(file: string): WeightMap {
  return readSafetensors(sam2ReferencePath(file)).tensors;
}

/** A float32 tensor of `file`'s map; throws naming the key when absent. */
export function sam2Ref(map: WeightMap, file: string, key: string): FloatTensor {
  const t = map.get(key);
  if (!t || t.dtype !== 'float32') throw new Error(`${file}: no float32 tensor '${key}'`);
  return t as FloatTensor;
}

/** The seeded checkpoint's decoder-side weights under samtune's names, with the derived dense PE. */
export function sam2DecoderWeights(): Map<string, HostTensor> {
  const weights = sam2PredictorWeights(readTorchCheckpoint(sam2ReferencePath('sam2.1_hiera_mini_seeded.pt')));
  for (const [k, t] of preparePromptEncoderWeights(CFG.promptEncoder, weights)) weights.set(k, t);
  return weights;
}

/** Host inputs of one decoder call (prompts in the 1024 frame). */
export interface Sam2DecodeInputs {
  readonly embedding: FloatTensor;
  readonly highRes: readonly [FloatTensor, FloatTensor];
  readonly coords?: FloatTensor;
  readonly labels?: FloatTensor;
  readonly boxes?: FloatTensor;
  readonly mask?: FloatTensor;
  /** Also resize all four tokens' logits to this (H,W). */
  readonly originalSize?: readonly [number, number];
}

/** Host outputs of one decoder call. */
export interface Sam2DecodeOutputs {
  readonly sparse: FloatTensor;
  readonly masks: FloatTensor;
  readonly iou: FloatTensor;
  readonly objectScore: FloatTensor;
  readonly full?: FloatTensor;
}

const INPUT_NAMES = ['embedding', 'high_res_0', 'high_res_1', 'coords', 'labels', 'boxes', 'mask'] as const;

function inputList(x: Sam2DecodeInputs): (FloatTensor | undefined)[] {
  return [x.embedding, x.highRes[0], x.highRes[1], x.coords, x.labels, x.boxes, x.mask];
}

/** The decoder program on any executor: `xs` in `INPUT_NAMES` order (absent prompts undefined). */
function program<T>(ops: Ops<T>, xs: (T | undefined)[], originalSize?: readonly [number, number]): Record<string, T> {
  const [embedding, s0, s1, coords, labels, boxes, mask] = xs;
  if (!embedding || !s0 || !s1) throw new Error('program(xs): embedding and high-res features are required');
  const { sparse, dense } = sam2PromptEncoder(ops, CFG.promptEncoder, { coords, labels, boxes, masks: mask });
  const out = sam2PredictMasks(ops, CFG.maskDecoder, {
    imageEmbeddings: embedding,
    imagePe: densePe(ops),
    sparse,
    dense,
    highResFeatures: [s0, s1],
  });
  const y: Record<string, T> = { sparse, masks: out.masks, iou: out.iou, objectScore: out.objectScore };
  if (originalSize) y.full = sam2OriginalSizeMasks(ops, out.masks, originalSize);
  return y;
}

function asOutputs(r: Record<string, FloatTensor>): Sam2DecodeOutputs {
  const need = (k: string): FloatTensor => {
    const t = r[k];
    if (!t) throw new Error(`decoder program: no output '${k}'`);
    return t;
  };
  return {
    sparse: need('sparse'),
    masks: need('masks'),
    iou: need('iou'),
    objectScore: need('objectScore'),
    ...(r.full ? { full: r.full } : {}),
  };
}

/** Runs the program eagerly on TfjsOps over `weights` (the current tfjs backend). */
export function decodeOnTfjs(weights: ReadonlyMap<string, HostTensor>, x: Sam2DecodeInputs): Sam2DecodeOutputs {
  const tensors = new Map([...weights].map(([k, t]) => [k, tf.tensor(toFloat32(t).data, [...t.shape])] as const));
  const host: Record<string, FloatTensor> = {};
  try {
    tf.tidy(() => {
      const ops = new TfjsOps(tensors);
      const xs = inputList(x).map((t) => (t ? tf.tensor(t.data, [...t.shape]) : undefined));
      for (const [k, t] of Object.entries(program(ops, xs, x.originalSize))) {
        host[k] = { dtype: 'float32', shape: [...t.shape], data: t.dataSync() as Float32Array };
      }
    });
    return asOutputs(host);
  } finally {
    tensors.forEach((t) => t.dispose());
  }
}

/** Records the program with OnnxGraphOps and runs it once on onnxruntime-node. */
export async function decodeOnOrt(
  weights: ReadonlyMap<string, HostTensor>,
  x: Sam2DecodeInputs,
): Promise<Sam2DecodeOutputs> {
  const ops = new OnnxGraphOps(weights, new OnnxGraphBuilder({ name: 'sam2_decoder_parity' }));
  const feeds: Record<string, FloatTensor> = {};
  const xs = inputList(x).map((t, i) => {
    if (!t) return undefined;
    const name = INPUT_NAMES[i] as string;
    feeds[name] = t;
    return ops.input(name, t.shape);
  });
  const y = program(ops, xs, x.originalSize);
  for (const [k, v] of Object.entries(y)) ops.output(k, v);
  const session = await createSession(ops.builder.toModelBytes(), { intraOpNumThreads: 1 });
  try {
    return asOutputs(await session.run(feeds));
  } finally {
    await session.release();
  }
}
