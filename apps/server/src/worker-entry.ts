/**
 * Entry of the model worker thread: it owns the model (encoder session, decoder) and the embedding
 * cache, and runs one job at a time as the main thread sends them (the main thread's `JobQueue`
 * decides what runs and when). Errors go back as `errorReply` payloads.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorReply } from './errors.js';
import { ModelEngine } from './model-engine.js';
import type { WorkerErrorPayload, WorkerInit, WorkerJob, WorkerMessage } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-entry: expected to run in a worker thread (no parentPort)');
const post = (m: WorkerMessage): void => port.postMessage(m);

function payload(err: unknown): WorkerErrorPayload {
  const { status, body } = errorReply(err);
  const stack = status >= 500 && err instanceof Error ? err.stack : undefined;
  return { status, ...body.error, ...(stack === undefined ? {} : { stack }) };
}

const init = workerData as WorkerInit;
let engine: ModelEngine;
try {
  engine = await ModelEngine.open(init.spec, init.engine);
  post({ type: 'ready', info: engine.info });
} catch (err) {
  post({ type: 'fatal', error: payload(err) });
  process.exit(1);
}

async function run(job: WorkerJob): Promise<unknown> {
  if (job.op === 'predict') return engine.predict(job.request);
  if (job.op === 'embed-file') return engine.embedFile(job.path, job.name);
  if (job.op === 'embedding') return engine.embedding(job.id, job.dtype);
  if (job.op === 'decoder') {
    const d = await engine.decoderOnnx(job.form);
    return { bytes: d.bytes.slice(), parts: d.parts }; // a copy: the engine keeps its own
  }
  if (job.op === 'set-decoder') return engine.setDecoder(job.file).then(() => null);
  return engine.embedBytes(job.bytes);
}

port.on('message', (job: WorkerJob | { op: 'close' }) => {
  if (job.op === 'close') {
    void engine.release().finally(() => port.close());
    return;
  }
  run(job).then(
    (result) => {
      // large binary results move to the main thread instead of being copied
      const bytes = result instanceof Uint8Array ? result : (result as { bytes?: unknown } | null)?.bytes;
      const transfer = ArrayBuffer.isView(bytes) ? [bytes.buffer as ArrayBuffer] : [];
      port.postMessage(
        {
          type: 'done',
          jobId: job.jobId,
          result: result as never,
          cacheSize: engine.cache.size,
        } satisfies WorkerMessage,
        transfer,
      );
    },
    (err: unknown) => post({ type: 'failed', jobId: job.jobId, error: payload(err), cacheSize: engine.cache.size }),
  );
});
