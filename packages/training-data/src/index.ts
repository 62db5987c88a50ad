/**
 * @samtune/training-data: the prompt data of training and evaluation. Per image, each instance's
 * target (its low-res mask `[256,256]`, tight box, interior point and point pool; `TargetStore`), the
 * prompts made from them (`buildPrompts`: seeded and jittered for training, deterministic for
 * evaluation), and the decoder's prompt batches in the 1024 frame (`toDecoderBatch`,
 * `slicePromptBatch`).
 */
export {
  DEFAULT_MICRO_BATCH,
  PromptBatchError,
  slicePromptBatch,
  type DecoderPromptBatch,
  type PromptModeOption,
} from './prompt-batch.js';
export {
  computeImageTargets,
  TargetStore,
  buildPrompts,
  toDecoderBatch,
  derivedRng,
  hashString,
  shuffled,
  chunks,
  SampleError,
  POINT_POOL_SIZE,
  CROWD_POLICIES,
  type CrowdPolicy,
  type TrainItem,
  type TrainInstance,
  type InstanceTarget,
  type ImageTargets,
  type ImagePrompts,
  type SampleOptions,
  type PromptSpec,
} from './samples.js';
