/**
 * Entry of the export worker thread (`export-worker.ts`): loads the job's checkpoint, writes its
 * export folder, posts `done` or the error (as `errorReply` gives it), and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { exportSamOnnx, exportTransformersJs } from '@samtune/export';
import { initBackend, SamModel } from '@samtune/sam-model';
import { errorReply } from '../errors.js';
import type { ExportJob, ExportMessage } from './export-worker.js';

const port = parentPort;
if (!port) throw new Error('export-entry: expected to run in a worker thread (no parentPort)');
const post = (m: ExportMessage): void => port.postMessage(m);
const job = workerData as ExportJob;
try {
  await initBackend(); // the export verifies against the tfjs reference
  const model = await SamModel.load(job.checkpoint);
  try {
    if (job.format === 'onnx') await exportSamOnnx(model, job.dir);
    else await exportTransformersJs(model, job.dir);
  } finally {
    await model.release();
  }
  post({ type: 'done' });
} catch (err) {
  const { status, body } = errorReply(err);
  post({ type: 'failed', error: { status, ...body.error } });
}
