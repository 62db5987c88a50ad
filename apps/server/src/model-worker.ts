/**
 * The model off the event loop: a `node:worker_threads` worker owns the model (sessions, decoder,
 * embedding cache; `worker-entry.ts`) and the main thread sends it one job at a time through a
 * bounded `JobQueue`. The HTTP thread therefore answers health, static files and errors at once while
 * the model works, refuses work beyond the queue's capacity (503), and drops work whose client left.
 *
 * The worker is started by `spawnWorker` (`@samtune/worker-thread`): a build runs `worker-entry.js`,
 * sources run `worker-entry.ts` through tsx with `--conditions=@samtune/source`.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '@samtune/worker-thread';
import { RemoteError, ServerConfigError } from './errors.js';
import { JobQueue, type QueueStats } from './job-queue.js';
import type { EmbeddingPayload, EngineOptions, ModelInfo, ModelSpec } from './model-engine.js';
import type { DecoderFile, DecoderForm } from './page-decoder.js';
import type { EmbedReply, PredictReply } from './schemas.js';
import type { PredictRequest } from './validate.js';
import type { WorkerErrorPayload, WorkerInit, WorkerJob, WorkerMessage } from './worker-protocol.js';

type JobBody = WorkerJob extends infer J ? (J extends WorkerJob ? Omit<J, 'jobId'> : never) : never;

const toError = (e: WorkerErrorPayload): RemoteError => {
  const err = new RemoteError(e.status, e.name, e.code, e.message);
  if (e.stack) err.stack = e.stack;
  return err;
};

/** The worker entry module next to this one (`worker-entry.js`; its `.ts` from sources). */
const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url);
const spawn = (init: WorkerInit): Worker => spawnWorker(WORKER_ENTRY, init);

export class ModelWorker {
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private cacheSize = 0;
  private exited: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    /** What the worker reported when it loaded the model. */
    readonly info: ModelInfo,
    readonly queue: JobQueue,
    readonly cacheCapacity: number,
  ) {
    worker.on('message', (m: WorkerMessage) => {
      if (m.type !== 'done' && m.type !== 'failed') return;
      this.cacheSize = m.cacheSize;
      const p = this.pending.get(m.jobId);
      this.pending.delete(m.jobId);
      if (m.type === 'done') p?.resolve(m.result);
      else p?.reject(toError(m.error));
    });
    worker.on('exit', (code) => {
      this.exited = new RemoteError(500, 'ModelWorkerExit', 'model-worker-exit', `model worker exited (code ${code})`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  /**
   * Starts the worker and waits until it has loaded the model.
   * @param queueCapacity most model jobs waiting or running; more get 503
   * @throws the worker's load error (e.g. an unknown checkpoint), re-created with its name and message
   */
  static async start(spec: ModelSpec, engine: EngineOptions, queueCapacity: number): Promise<ModelWorker> {
    const worker = spawn({ spec, engine });
    const info = await new Promise<ModelInfo>((resolve, reject) => {
      const onMessage = (m: WorkerMessage): void => {
        if (m.type === 'ready') resolve(m.info);
        else if (m.type === 'fatal') reject(toError(m.error));
        else return;
        worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new ServerConfigError(`ModelWorker: exited with code ${code} while loading`)),
      );
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    worker.on('error', () => undefined); // reported through 'exit' to every pending job
    return new ModelWorker(worker, info, new JobQueue(queueCapacity), engine.cacheSize);
  }

  get cache(): { size: number; capacity: number } {
    return { size: this.cacheSize, capacity: this.cacheCapacity };
  }

  stats(): QueueStats {
    return this.queue.stats();
  }

  /** Embeds an image file inside `--images` (`path` already resolved), in the queue. */
  embedFile(path: string, name: string, signal?: AbortSignal): Promise<EmbedReply> {
    return this.submit('embed', { op: 'embed-file', path, name }, signal) as Promise<EmbedReply>;
  }

  /** Embeds uploaded image bytes (copied, then moved to the worker), in the queue. */
  embedBytes(bytes: Uint8Array, signal?: AbortSignal): Promise<EmbedReply> {
    return this.submit('embed', { op: 'embed-bytes', bytes }, signal) as Promise<EmbedReply>;
  }

  /** Masks for a validated predict request, in the queue. */
  predict(request: PredictRequest, signal?: AbortSignal): Promise<PredictReply> {
    return this.submit('predict', { op: 'predict', request }, signal) as Promise<PredictReply>;
  }

  /** A cached embedding for the page (float16 or float32), in the queue. */
  embedding(id: string, dtype: 'float16' | 'float32', signal?: AbortSignal): Promise<EmbeddingPayload> {
    return this.submit('embedding', { op: 'embedding', id, dtype }, signal) as Promise<EmbeddingPayload>;
  }

  /**
   * The decoder the page runs in `form` (`page-decoder.ts`; made by the worker once per version), in
   * the queue, with the version it was made from.
   */
  decoderOnnx(form: DecoderForm, signal?: AbortSignal): Promise<DecoderFile & { version: string }> {
    return this.queue.run(
      'decoder',
      async () => {
        const version = this.version; // the queue runs one job at a time: no swap until this is done
        return { ...((await this.send({ op: 'decoder', form })) as DecoderFile), version };
      },
      signal,
    );
  }

  /**
   * Serves the decoder of fine-tuned checkpoint `file` (undefined: the loaded one) as `version`: a job
   * in the same queue as the clicks, so each request runs wholly on one version. Never refused as
   * busy (queued beyond the capacity); `version` changes when the worker has swapped.
   */
  setDecoder(file: string | undefined, version: string): Promise<void> {
    const body: JobBody = file === undefined ? { op: 'set-decoder' } : { op: 'set-decoder', file };
    return this.queue.run(
      'set-decoder',
      async () => {
        await this.send(body);
        this.version = version;
      },
      undefined,
      true,
    );
  }

  /** The version whose decoder is served (`v0`: the loaded checkpoint's). */
  version = 'v0';

  /** Stops the worker after releasing the model (waits at most 5 s, then terminates it). */
  async close(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ op: 'close' });
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await exit;
    clearTimeout(timer);
  }

  private submit(what: string, body: JobBody, signal?: AbortSignal): Promise<unknown> {
    return this.queue.run(what, () => this.send(body), signal);
  }

  /** Posts one job to the worker; resolves with its result. */
  private send(body: JobBody): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (this.exited) return reject(this.exited);
      const jobId = this.nextId++;
      this.pending.set(jobId, { resolve, reject });
      if (body.op === 'embed-bytes') {
        const copy = new Uint8Array(body.bytes); // never transfer (detach) a pooled Buffer's memory
        this.worker.postMessage({ ...body, jobId, bytes: copy }, [copy.buffer]);
      } else this.worker.postMessage({ ...body, jobId });
    });
  }
}
