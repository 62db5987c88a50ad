/**
 * Exporting a model version (ONNX: samtune's export folder; transformers.js: its SAM folder) in a
 * worker thread of its own: recording and verifying the graphs takes 10-45 s of synchronous work,
 * which on the HTTP thread would stall every request (health, static files, clicks) meanwhile. One
 * worker per export (`export-entry.ts`), started by `spawnWorker` (`@samtune/worker-thread`); it
 * loads the checkpoint itself, so nothing but paths crosses the thread boundary, and ends with it.
 */
import { spawnWorker } from '@samtune/worker-thread';
import { RemoteError } from '../errors.js';
import type { WorkerErrorPayload } from '../worker-protocol.js';

/** Export formats of `POST /api/versions/<id>/export`. */
export type ExportFormat = 'onnx' | 'transformers.js';

/** What the export worker is given (`workerData`). */
export interface ExportJob {
  /** A checkpoint `SamModel.load` reads: a name, a `.pth`, or a version's `best.safetensors`. */
  readonly checkpoint: string;
  /** The export folder to write. */
  readonly dir: string;
  readonly format: ExportFormat;
}

/** The export worker's one message: done, or the error as `errorReply` gives it. */
export type ExportMessage = { readonly type: 'done' } | { readonly type: 'failed'; readonly error: WorkerErrorPayload };

/** The worker entry module next to this one (`export-entry.js`; its `.ts` from sources). */
const EXPORT_ENTRY = new URL('./export-entry.js', import.meta.url);

/**
 * Runs `job` in a new worker thread; resolves when the folder is written.
 * @throws RemoteError with the worker's error (name, code, status), or `ExportWorkerExit` when the
 *   worker ended without an answer
 */
export async function exportInWorker(job: ExportJob): Promise<void> {
  const worker = spawnWorker(EXPORT_ENTRY, job);
  worker.unref(); // an export in flight does not keep a closing server's process alive
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (m: ExportMessage) =>
        m.type === 'done'
          ? resolve()
          : reject(new RemoteError(m.error.status, m.error.name, m.error.code, m.error.message)),
      );
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(
          new RemoteError(
            500,
            'ExportWorkerExit',
            'export-worker-exit',
            `exportInWorker(): expected the export worker to answer for ${job.dir}, got an exit with code ${code}`,
          ),
        ),
      );
    });
  } finally {
    await worker.terminate();
  }
}
