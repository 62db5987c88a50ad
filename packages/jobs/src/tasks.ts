/**
 * What a worker does with one job, given the queue's runtime (model loaded once per process):
 * `embed` writes the image's embedding-cache file; `autolabel` writes the image's label file. Both
 * write atomically (temp file + rename), so a worker killed mid-write leaves no partial output, and
 * an output left by an earlier attempt that died after writing is reused, not recomputed.
 * A SAM 2.1 checkpoint (`checkpointFamily`) runs as a `Sam2Model`: its cache files (family `sam2`)
 * also carry `high_res_feats.0/.1`, and its labels follow `SAM2ImagePredictor`'s rules.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { EmbeddingCache, type CachedEmbedding } from '@samtune/evaluation';
import { SamtuneError } from '@samtune/errors';
import {
  checkpointFamily,
  floatTensor,
  initBackend,
  Sam2Model,
  SamModel,
  sha256File,
  type ImageEmbedding,
} from '@samtune/sam-model';
import { writeFileAtomic } from '@samtune/tensor-files';
import { readImage } from '@samtune/transforms';
import { JobInputError } from './errors.js';
import type { AutolabelJobData, EmbedJobData, JobResult, LabelFile } from './job-data.js';
import { labelImage } from './label-image.js';
import type { QueueMeta } from './queue-store.js';

/** A queue's model: SAM 1 (`SamModel`) or SAM 2.1 (`Sam2Model`), told by the checkpoint's keys or registry name. */
export type QueueModel = SamModel | Sam2Model;

/** A queue's model and cache in this process. */
export interface QueueRuntime {
  readonly meta: QueueMeta;
  readonly model: QueueModel;
  /** The embedding cache (embed: the output; autolabel: optional). */
  readonly cache: EmbeddingCache | undefined;
}

const models = new Map<string, Promise<QueueModel>>();

/** SAM 2.1's decoder is a tfjs predictor: the backend is selected first (SAMTUNE_BACKEND overrides). */
async function loadQueueModel(checkpoint: string): Promise<QueueModel> {
  if (checkpointFamily(checkpoint) !== 'sam2') return SamModel.load(checkpoint);
  await initBackend();
  return Sam2Model.load(checkpoint);
}

/** Loads the queue's checkpoint once per process (shared by every queue that uses the same file). */
export async function openQueueRuntime(meta: QueueMeta): Promise<QueueRuntime> {
  let p = models.get(meta.checkpointSha256);
  if (!p) {
    p = loadQueueModel(meta.checkpoint);
    models.set(meta.checkpointSha256, p);
    p.catch(() => models.delete(meta.checkpointSha256));
  }
  const model = await p;
  mkdirSync(meta.outDir, { recursive: true }); // job outputs are confined to it (job-schema.ts)
  if (model.source.sha256 !== meta.checkpointSha256)
    throw new JobInputError(
      `openQueueRuntime(meta.checkpoint): ${meta.checkpoint} on this worker has sha256 ${model.source.sha256}, queue ${meta.id} expects ${meta.checkpointSha256}`,
    );
  const sam2 = model instanceof Sam2Model;
  const cache = meta.cacheDir
    ? new EmbeddingCache({
        dir: meta.cacheDir,
        encoderKey: meta.encoderKey,
        family: sam2 ? 'sam2' : 'sam',
        embedder: async () => (sam2 ? model.encoderSession() : model.encoder()),
      })
    : undefined;
  // build the sessions now (synchronous graph building), not inside the first job (Sam2Model.load built its own)
  if (!sam2) await model.encoder();
  if (meta.kind === 'autolabel') await warmDecoder(model);
  return { meta, model, cache };
}

const warmed = new WeakSet<QueueModel>();

const zeros = (shape: number[]): ReturnType<typeof floatTensor> =>
  floatTensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

/** One box on a zero embedding (SAM 2.1: and zero high-res levels): builds the decoder and post-processing. */
async function warmDecoder(model: QueueModel): Promise<void> {
  if (warmed.has(model)) return;
  const emb: ImageEmbedding = {
    embedding: zeros([1, 256, 64, 64]),
    ...(model instanceof Sam2Model ? { highResFeats: [zeros([1, 32, 256, 256]), zeros([1, 64, 128, 128])] } : {}),
    originalSize: [64, 64],
    inputSize: [1024, 1024],
  };
  await model.predict(emb, { box: [8, 8, 32, 32] }, { multimask: 'auto', maskOutput: 'binary' });
  warmed.add(model);
}

/** Releases every model this process loaded. */
export async function releaseModels(): Promise<void> {
  const all = [...models.values()];
  models.clear();
  for (const p of all) await (await p.catch(() => undefined))?.release();
}

/** Hashes the image and checks it is the file that was enqueued. */
async function checkImage(
  cache: EmbeddingCache | undefined,
  data: { imagePath: string; imageSha256: string },
): Promise<void> {
  let sha;
  try {
    sha = cache ? await cache.imageSha256(data.imagePath) : await sha256File(data.imagePath);
  } catch (err) {
    throw new JobInputError(`runJob(data.imagePath): cannot read ${data.imagePath}: ${(err as Error).message}`);
  }
  // The hash found is never published (a failure reason is readable by everyone with Redis access).
  if (sha !== data.imageSha256)
    throw new JobInputError(
      `runJob(data.imagePath): ${data.imagePath} has another sha256 than the ${data.imageSha256} the job was enqueued for (the file changed, or this worker sees another file)`,
    );
}

/** `embed`: the image's cache file (reused when a valid one is already there). */
export async function runEmbedJob(rt: QueueRuntime, data: EmbedJobData, worker: string): Promise<JobResult> {
  const cache = rt.cache as EmbeddingCache;
  await checkImage(cache, data);
  const got: CachedEmbedding = await cache.get(data.imagePath);
  return { worker, outputPath: got.path, reused: got.hit };
}

/** `autolabel`: the image's label file (`LabelFile`), one mask per prompt that gives one. */
export async function runAutolabelJob(rt: QueueRuntime, data: AutolabelJobData, worker: string): Promise<JobResult> {
  if (existsSync(data.outputPath)) {
    try {
      const prev = JSON.parse(readFileSync(data.outputPath, 'utf8')) as LabelFile;
      if (prev.image.sha256 === data.imageSha256)
        return {
          worker,
          outputPath: data.outputPath,
          reused: true,
          labels: prev.annotations.length,
          skipped: prev.skipped,
        };
    } catch {
      /* unreadable: label again */
    }
  }
  await checkImage(rt.cache, data);
  const img = await readImage(data.imagePath);
  const emb: ImageEmbedding = rt.cache ? await rt.cache.get(data.imagePath) : await rt.model.embedImage(img);
  const { annotations, skipped } = await labelImage(rt.model, emb, data.prompts, data.prompt);
  const file: LabelFile = {
    image: { path: data.imagePath, sha256: data.imageSha256, width: img.width, height: img.height },
    annotations,
    skipped,
  };
  writeFileAtomic(data.outputPath, `${JSON.stringify(file)}\n`);
  return { worker, outputPath: data.outputPath, reused: false, labels: annotations.length, skipped };
}

/**
 * True when `err` is about the job's input (a bad image, a bad prompt, an image that changed): it
 * would fail the same way on every attempt, so the job goes to `failed` at once with the message.
 */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof SamtuneError && (err.kind === 'input' || err.kind === 'not-found' || err.kind === 'unsupported')
  );
}
