/**
 * @samtune/jobs: embedding and auto-labelling scaled out over many machines on BullMQ + Redis. A
 * producer enqueues one job per image (keyed by image and encoder hashes), workers anywhere that see
 * the shared output folder run them (heartbeats, stalled-job recovery, retries with backoff, input
 * errors failed at once), `queueStatus` reports progress and `collectLabels` merges labels into COCO.
 */
export { QueueNotFoundError, QueueInputError, JobInputError } from './errors.js';
export {
  BULL_PREFIX,
  connectRedis,
  queueIdFor,
  registerQueue,
  readQueueMeta,
  listQueueIds,
  readImageRecords,
  type QueueKind,
  type QueueMeta,
  type ImageRecord,
} from './queue-store.js';
export {
  type EmbedJobData,
  type AutolabelJobData,
  type JobPrompt,
  type JobResult,
  type LabelAnnotation,
  type LabelFile,
} from './job-data.js';
export { listSourceImages, listImageFiles, IMAGE_EXTENSIONS, type SourceImage, type SourceListing } from './images.js';
export { enqueue, type EnqueueOptions, type EnqueueResult } from './producer.js';
export { labelImage, type ImageLabels } from './label-image.js';
export { isPermanent, type QueueRuntime } from './tasks.js';
export { startWorker, type WorkerOptions, type WorkerEvent, type RunningWorker } from './worker.js';
export { queueStatus, formatQueueStatus, formatDuration, type QueueStatus } from './status.js';
export { collectLabels, type CollectResult, type CollectedCoco } from './collect.js';
export {
  checkJobData,
  checkQueueMeta,
  EmbedJobDataSchema,
  AutolabelJobDataSchema,
  JobPromptSchema,
  QueueMetaSchema,
} from './job-schema.js';
