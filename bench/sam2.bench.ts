/**
 * `pnpm bench:sam2`: SAM 2.1 against SAM 1 TinyViT in ONE run, variants interleaved rep by rep (so
 * a change of the shared machine's load hits all alike; compare the ratios, not the absolute times):
 *
 * 1. one box -> mask (decoder only, on a cached embedding of dog.jpg, 800x534, box of fixture case 1):
 *    - `sam1-ort`: `SamModel.predict` on the ort engine (`OrtDecoder`: decoder + post-processing graphs,
 *      original-size logits, single mask) = what `samtune predict` runs for a SAM 1 checkpoint;
 *    - `sam1-tfjs`: the same on the tfjs engine (`SamPredictor`, the reference);
 *    - `sam2-ort`: `Sam2OrtDecoder.predict` (decoder + post-processing graphs, original-size logits,
 *      single mask with the stability fallback) = what `samtune predict` runs for a SAM 2.1
 *      checkpoint (`Sam2Model`, engine `ort`);
 *    - `sam2-tfjs`: `Sam2Predictor.predict` (the same outputs on tfjs, `Sam2Model`'s `tfjs` engine);
 *    - `sam2-ort-export`: the exported SAM 2.1 decoder (`recordSam2DecoderGraph`, samexporter I/O) on
 *      onnxruntime-node, 2 threads: low-res logits of tokens 1..3 only (that graph has no original-size
 *      post-processing);
 * 2. the decoder training step's ms/prompt (forward + loss + backward over micro-batches of
 *    `training.microBatch` prompts, accumulation, Adam) with 1 and 8 box prompts of one image, through
 *    `createTrainEngine` as `samtune train` builds it: SAM 1 on `ort` (arena, as bench:train) and
 *    `tfjs`; SAM 2.1 on `ort` (`recordSam2TrainGraph`'s graphs, arena) and `tfjs`
 *    (`sam2MicroBatchGradients`), targets/boxes of the fixtures' train steps (cycled).
 *
 * Weights: ../shared/fixtures/sam-reference/tinyvit.pth and sam2-reference/sam2.1_hiera_mini_seeded.pt.
 * The mini Hiera trunk only changes the ENCODER: the SAM 2.1 prompt encoder and mask decoder of the
 * fixture have the published sizes (those of every sam2.1_hiera_* checkpoint), so these rows hold for
 * tiny/small/base_plus/large alike. Embeddings come from the fixtures' outputs (not timed).
 *
 *   pnpm bench:sam2 [--reps 10] [--train-reps 3]
 *
 * Writes bench/results/sam2.{json,md} with the machine and the load average at start and end. The
 * encoder's s/image is `pnpm bench:sam2-encoder` (bench/results/sam2-encoder.md).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { createSession, ortVersion } from '@samtune/onnx';
import { floatTensor } from '@samtune/tensor';
import {
  SAM_PRESETS,
  SamModel,
  Sam2OrtDecoder,
  Sam2Predictor,
  loadSam2Checkpoint,
  sam2PredictorWeights,
  type Box,
  type FloatTensor,
  type WeightMap,
} from '@samtune/sam-model';
import { readSafetensors, readTorchCheckpoint } from '@samtune/tensor-files';
import { recordSam2DecoderGraph } from '@samtune/export';
import { setupRuntime } from '@samtune/evaluation';
import { createTrainEngine, defaultTrainConfig, ortArenaBatches, TrainState, type TrainEngine } from '@samtune/trainer';
import { machineInfo, median, writeResult } from './machine.js';
import { cycledMicroBatches } from './prompt-batches.js';

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '10' }, 'train-reps': { type: 'string', default: '3' } },
});
const REPS = Math.max(3, Number(values.reps));
const TRAIN_REPS = Math.max(1, Number(values['train-reps']));
const SHARED = resolve(import.meta.dirname, '../../shared/fixtures');
const REF1 = join(SHARED, 'sam-reference');
const REF2 = join(SHARED, 'sam2-reference');
const SIZES = [1, 8] as const;
const MICRO = defaultTrainConfig().training.microBatch;
const round = (x: number, d = 1): number => Number(x.toFixed(d));

const tensor = (map: WeightMap, key: string, file: string): FloatTensor => {
  const t = map.get(key);
  if (!t || t.dtype !== 'float32') throw new Error(`bench:sam2: no float32 tensor '${key}' in ${file}`);
  return t as FloatTensor;
};

const loadStart = loadavg()[0] ?? 0;
const runtime = await setupRuntime('', true);

// ---- models and cached embeddings (not timed) ----
const sam1Weights = readTorchCheckpoint(join(REF1, 'tinyvit.pth'));
const sam1Out = readSafetensors(join(REF1, 'tinyvit_outputs.safetensors')).tensors;
const sam1Step = readSafetensors(join(REF1, 'tinyvit_train_step.safetensors')).tensors;
const sam2Ckpt = await loadSam2Checkpoint(join(REF2, 'sam2.1_hiera_mini_seeded.pt'), {
  facts: { numHeads: 1, globalAttBlocks: [3], windowSpec: [8, 4, 14, 7], qPool: 3 },
});
const sam2Weights = sam2PredictorWeights(sam2Ckpt.weights);
const sam2Out = readSafetensors(join(REF2, 'hiera_mini_outputs.safetensors')).tensors;
const sam2Step = readSafetensors(join(REF2, 'hiera_mini_train_step.safetensors')).tensors;
const size: [number, number] = [534, 800];
const box: Box = [160.0, 133.5, 560.0, 480.6000061035156]; // sam2-reference manifest, dog case 1
const emb1 = tensor(sam1Out, 'dog.image_embeddings', 'tinyvit_outputs.safetensors');
const emb2 = tensor(sam2Out, 'dog.image_embeddings', 'hiera_mini_outputs.safetensors');
const high2: [FloatTensor, FloatTensor] = [
  tensor(sam2Out, 'dog.high_res_feats.0', 'hiera_mini_outputs.safetensors'),
  tensor(sam2Out, 'dog.high_res_feats.1', 'hiera_mini_outputs.safetensors'),
];

// ---- 1. one box -> mask ----
async function decodeBench(): Promise<Record<string, { ms: number; cpuMs: number; runs: number[] }>> {
  const sam1Ort = await SamModel.load(join(REF1, 'tinyvit.pth'));
  const sam1Tf = await SamModel.load(join(REF1, 'tinyvit.pth'), { engine: 'tfjs' });
  const sam2Tf = new Sam2Predictor({ config: sam2Ckpt.config, weights: sam2Weights, trainable: false });
  const sam2Ort = new Sam2OrtDecoder(sam2Weights, sam2Ckpt.config);
  const features2 = { imageEmbedding: emb2, highResFeatures: high2 };
  const session = await createSession(recordSam2DecoderGraph(sam2Weights).builder.toModelBytes(), {
    intraOpNumThreads: 2,
  });
  const e1 = { embedding: emb1, originalSize: size, inputSize: [683, 1024] as const };
  const xy = (x: number, y: number): number[] => [(x / size[1]) * 1024, (y / size[0]) * 1024];
  const feeds = {
    image_embed: emb2,
    high_res_feats_0: high2[0],
    high_res_feats_1: high2[1],
    point_coords: floatTensor(Float32Array.from([...xy(box[0], box[1]), ...xy(box[2], box[3])]), [1, 2, 2]),
    point_labels: floatTensor(Float32Array.of(2, 3), [1, 2]),
    mask_input: floatTensor(new Float32Array(256 * 256), [1, 1, 256, 256]),
    has_mask_input: floatTensor(Float32Array.of(0), [1]),
  };
  const variants: Record<string, () => Promise<unknown>> = {
    'sam1-ort': () => sam1Ort.predict(e1, { box }, { multimask: false, maskOutput: 'logits' }),
    'sam1-tfjs': () => sam1Tf.predict(e1, { box }, { multimask: false, maskOutput: 'logits' }),
    'sam2-ort': () => sam2Ort.predict(features2, { box }, size, { multimask: false, maskOutput: 'logits' }),
    'sam2-tfjs': async () =>
      sam2Tf.predict(features2, { box }, size, {
        multimask: false,
        returnMasks: true,
      }),
    'sam2-ort-export': () => session.run(feeds),
  };
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let i = -2; i < REPS; i++) {
    for (const [name, f] of Object.entries(variants)) {
      const c = process.cpuUsage();
      const t0 = performance.now();
      await f();
      const ms = performance.now() - t0;
      const u = process.cpuUsage(c);
      if (i < 0) continue;
      wall.set(name, [...(wall.get(name) ?? []), ms]);
      cpu.set(name, [...(cpu.get(name) ?? []), (u.user + u.system) / 1000]);
    }
    process.stderr.write(`\rdecode rep ${i + 1}/${REPS}   `);
  }
  process.stderr.write('\n');
  await session.release();
  await sam2Ort.release();
  sam2Tf.dispose();
  await sam1Tf.release();
  await sam1Ort.release();
  return Object.fromEntries(
    Object.keys(variants).map((n) => [
      n,
      { ms: round(median(wall.get(n) ?? []), 2), cpuMs: round(median(cpu.get(n) ?? []), 2), runs: wall.get(n) ?? [] },
    ]),
  );
}

// ---- 2. training step ----
interface StepSetup {
  readonly name: string;
  readonly engine: TrainEngine;
  readonly embedding: FloatTensor;
  readonly highRes?: readonly [FloatTensor, FloatTensor];
  readonly boxes: Float32Array;
  readonly masks: Float32Array;
  readonly ms: number[];
}

function stepSetup(name: string, family: 'sam1' | 'sam2', engineName: 'ort' | 'tfjs'): StepSetup {
  const weights = family === 'sam1' ? sam1Weights : sam2Weights;
  const config = family === 'sam1' ? SAM_PRESETS.tiny_vit : sam2Ckpt.config;
  const arena = engineName === 'ort' ? { arenaBatches: ortArenaBatches(MICRO) } : {};
  const engine = createTrainEngine(engineName, { config, weights, adam: { lr: 1e-5 }, ...arena });
  engine.load(TrainState.fromCheckpoint(weights));
  const step = family === 'sam1' ? sam1Step : sam2Step;
  const file = family === 'sam1' ? 'tinyvit_train_step.safetensors' : 'hiera_mini_train_step.safetensors';
  return {
    name,
    engine,
    embedding: family === 'sam1' ? emb1 : emb2,
    ...(family === 'sam2' ? { highRes: high2 } : {}),
    boxes: tensor(step, 'boxes_1024', file).data,
    masks: tensor(step, 'gt_masks', file).data,
    ms: [],
  };
}

/** One optimizer step over `n` prompts (the fixture's 3 boxes cycled) in micro-batches; ms/prompt. */
function stepOnce(s: StepSetup, n: number): number {
  const mbs = cycledMicroBatches(s.boxes, s.masks, n, MICRO);
  const t0 = performance.now();
  for (const { batch, targets } of mbs)
    s.engine.accumulate(s.embedding, batch, targets, batch.size / n, undefined, s.highRes);
  s.engine.step(1e-5);
  return (performance.now() - t0) / n;
}

function trainBench(): { prompts: number; variant: string; msPerPrompt: number[]; medianMsPerPrompt: number }[] {
  const out: { prompts: number; variant: string; msPerPrompt: number[]; medianMsPerPrompt: number }[] = [];
  for (const n of SIZES) {
    const setups = [
      stepSetup('sam1-ort', 'sam1', 'ort'),
      stepSetup('sam1-tfjs', 'sam1', 'tfjs'),
      stepSetup('sam2-ort', 'sam2', 'ort'),
      stepSetup('sam2-tfjs', 'sam2', 'tfjs'),
    ];
    for (const s of setups) stepOnce(s, n); // warm-up: builds the ort sessions, tfjs kernels
    for (let r = 0; r < TRAIN_REPS; r++)
      for (const s of setups) {
        s.ms.push(stepOnce(s, n));
        process.stderr.write(
          `\r${n} prompt(s), rep ${r + 1}/${TRAIN_REPS}, ${s.name}: ${s.ms.at(-1)?.toFixed(0)} ms/prompt   `,
        );
      }
    process.stderr.write('\n');
    for (const s of setups) {
      s.engine.dispose();
      out.push({
        prompts: n,
        variant: s.name,
        msPerPrompt: s.ms.map((x) => round(x)),
        medianMsPerPrompt: round(median(s.ms)),
      });
    }
  }
  return out;
}

const decode = await decodeBench();
const train = trainBench();
const loadEnd = loadavg()[0] ?? 0;
const machine = { ...machineInfo(), loadAverage1mStart: round(loadStart, 2), loadAverage1mEnd: round(loadEnd, 2) };
const result = {
  benchmark: 'SAM 2.1 vs SAM 1 TinyViT: one box -> mask (decoder only) and the decoder training step, interleaved',
  machine,
  onnxruntimeNode: ortVersion(),
  tfjsBackend: runtime.detail,
  decodeReps: REPS,
  trainReps: TRAIN_REPS,
  microBatch: MICRO,
  decode,
  train,
};
writeResult(resolve(import.meta.dirname, 'results/sam2.json'), JSON.stringify(result, null, 2));

const d = (n: string): number => decode[n]?.ms ?? Number.NaN;
const ms = (v: string, n: number): number =>
  train.find((t) => t.variant === v && t.prompts === n)?.medianMsPerPrompt ?? Number.NaN;
const DECODE_ROWS: [string, string][] = [
  [
    'sam1-ort',
    'SAM 1 TinyViT, ort engine (`OrtDecoder`; `samtune predict` on a SAM 1 checkpoint), original-size logits',
  ],
  ['sam1-tfjs', 'SAM 1 TinyViT, tfjs engine (`SamPredictor`), original-size logits'],
  [
    'sam2-ort',
    'SAM 2.1, ort engine (`Sam2OrtDecoder`; `samtune predict` on a SAM 2.1 checkpoint), original-size logits',
  ],
  ['sam2-tfjs', 'SAM 2.1, tfjs engine (`Sam2Predictor`), original-size logits'],
  ['sam2-ort-export', 'SAM 2.1, exported decoder (`recordSam2DecoderGraph`) on onnxruntime, low-res logits only'],
];
const md = [
  '# SAM 2.1 vs SAM 1 TinyViT: one box -> mask, and the decoder training step',
  '',
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, onnxruntime-node ${result.onnxruntimeNode}, tfjs: ${result.tfjsBackend}, ${machine.date}.`,
  `Load average (1 min): ${machine.loadAverage1mStart} at the start, ${machine.loadAverage1mEnd} at the end, on ${machine.cores} cores: the machine is SHARED with other jobs, so absolute times are noisy; the ratios (variants interleaved rep by rep in this one run) are what to compare.`,
  "Weights: seeded fixtures (tinyvit.pth; sam2.1_hiera_mini_seeded.pt). The mini Hiera trunk only changes the encoder: the SAM 2.1 decoder here has the published sizes, the same in every sam2.1_hiera_* checkpoint. Embeddings: the fixtures' dog.jpg (800x534) outputs, not timed. Encoder s/image: [sam2-encoder.md](sam2-encoder.md).",
  '',
  `## One box -> mask on a cached embedding, ms (median of ${REPS}, 2 warm-ups)`,
  '',
  '| path | wall ms | cpu ms | × SAM 1 ort (wall) |',
  '| --- | ---: | ---: | ---: |',
  ...DECODE_ROWS.map(
    ([k, label]) =>
      `| ${label} | ${d(k).toFixed(1)} | ${(decode[k]?.cpuMs ?? Number.NaN).toFixed(1)} | ${(d(k) / d('sam1-ort')).toFixed(2)} |`,
  ),
  '',
  `## Decoder training step (box prompts, one image, micro-batches of ${MICRO}, Adam), ms per prompt (median of ${TRAIN_REPS})`,
  '',
  '| prompts | SAM 1 ort | SAM 1 tfjs | SAM 2.1 ort | SAM 2.1 tfjs | SAM 2.1 / SAM 1 (ort) | SAM 2.1 / SAM 1 (tfjs) |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...SIZES.map(
    (n) =>
      `| ${n} | ${ms('sam1-ort', n).toFixed(0)} | ${ms('sam1-tfjs', n).toFixed(0)} | ${ms('sam2-ort', n).toFixed(0)} | ${ms('sam2-tfjs', n).toFixed(0)} | ${(ms('sam2-ort', n) / ms('sam1-ort', n)).toFixed(2)} | ${(ms('sam2-tfjs', n) / ms('sam1-tfjs', n)).toFixed(2)} |`,
  ),
  '',
  ...train.map((t) => `- ${t.variant}, ${t.prompts} prompt(s): ${t.msPerPrompt.join(', ')} ms/prompt`),
  '',
  'Reproduce: `pnpm bench:sam2 [--reps N] [--train-reps N]` (writes bench/results/sam2.json and this file).',
];
writeResult(resolve(import.meta.dirname, 'results/sam2.md'), md.join('\n'));
console.log(md.join('\n'));
