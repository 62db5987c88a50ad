/** @samtune/trainer: Fine-tunes the SAM mask decoder: embedding cache, batching, Adam, early stopping, metrics, atomic checkpoints, resume, report. */
export { Adam, OptimizerError, type AdamOptions, type AdamState } from './optimizer.js';
export {
  EarlyStopping,
  EarlyStoppingError,
  type EarlyStoppingOptions,
  type EarlyStoppingState,
  type EarlyStoppingDecision,
} from './early-stopping.js';
export { useMultimask, selectMaskIndex, type PromptShape, type TrainPromptKind } from './prompt-policy.js';
export {
  decoderLoss,
  microBatchGradients,
  GradientAccumulator,
  TrainStepError,
  type DecoderPromptBatch,
  type DecoderLossResult,
  type LossParts,
  type MicroBatchGradients,
} from './train-step.js';
export {
  defaultTrainConfig,
  applyOverride,
  mergeConfig,
  validateTrainConfig,
  TrainConfigError,
  type TrainConfig,
  type PartialTrainConfig,
  type PromptModeOption,
} from './config.js';
export {
  writeModelCheckpoint,
  saveRunState,
  loadRunState,
  RunStateError,
  CHECKPOINT_META,
  RUN_STATE_KEY,
  RUN_STATE_VERSION,
  type EpochRecord,
  type RunStateMeta,
} from './checkpoints.js';
export { type TrainEvent, type TrainEventHandler, type TrainResult } from './events.js';
export { trainEpoch, stepsPerEpoch, type EpochTotals, type TrainEpochOptions } from './train-epoch.js';
export { runTraining, runFiles, RunDirectoryError, type RunTrainingOptions } from './trainer.js';
export { curvesSvg, reportMarkdown, writeRunReport } from './report.js';
export { RunLog, readRunLog } from './run-log.js';
export {
  startTrainingWorker,
  runTrainingInWorker,
  trainWorkerPath,
  TrainWorkerError,
  type TrainingJob,
  type WorkerTrainingOptions,
  type WorkerMessage,
} from './worker.js';
export { resolveDemoCheckpoint, demoTrainConfig, type DemoCheckpoint, type DemoCheckpointOptions } from './demo.js';
export { WorkerLoaderError } from './worker.js';
export { autolabel, type AutolabelOptions, type AutolabelResult, type CocoInstances } from './autolabel.js';
