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
  defaultsOf,
  applyOverride,
  mergeConfig,
  validateTrainConfig,
  configKeys,
  configHelp,
  placeholderOf,
  TrainConfigSchema,
  TrainConfigError,
  type ConfigKey,
  type KeyOptions,
  type KeySchema,
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
export { runTraining, runFiles, RunDirectoryError, type RunTrainingOptions, type FitOptions } from './trainer.js';
export { NoUsableInstancesError } from './usable-data.js';
export { RUN_MARKER, isRunFolder, prepareRunFolder, resumedConfig, storedConfig } from './run-folder.js';
export { Fit, epochPhase, validatePhase, finishRun, type TrainCallback, type StepEvent } from './fit.js';
export {
  defaultCallbacks,
  earlyStopping,
  epochLimit,
  checkpoints,
  runStateAndReport,
  finiteLossGuard,
  interruptPolling,
} from './fit-callbacks.js';
export {
  TrainingInterruptedError,
  NonFiniteLossError,
  StopFlag,
  exitCodeForSignal,
  SIGNAL_NUMBERS,
  type StopSignal,
} from './interrupt.js';
export { curvesSvg, reportMarkdown, writeRunReport } from './report.js';
export { RunLog, readRunLog } from './run-log.js';
export { configYaml, resultsCsv, writeResultsCsv, writeRunConfig, RESULTS_COLUMNS } from './run-files.js';
export {
  startTrainingWorker,
  runTrainingInWorker,
  trainWorkerPath,
  TrainWorkerError,
  TrainWorkerOptionError,
  type TrainingJob,
  type WorkerTrainingOptions,
  type WorkerMessage,
} from './worker.js';
export {
  resolveDemoCheckpoint,
  demoTrainConfig,
  prepareDemo,
  findDemoRoot,
  DemoDataError,
  DEMO_RECIPE,
  type DemoCheckpoint,
  type DemoCheckpointOptions,
  type PrepareDemoOptions,
  type PreparedDemo,
} from './demo.js';
export {
  autolabel,
  type AutolabelModel,
  type AutolabelOptions,
  type AutolabelResult,
  type CocoInstances,
} from './autolabel.js';
export { OrtTrainEngine, type OrtTrainEngineOptions, type EngineTimings } from './ort-engine/engine.js';
export { TrainState } from './engine/train-state.js';
export { FlatLayout, type FlatSlot } from './engine/flat-layout.js';
export type { TrainEngine, TrainEngineContext, TrainEngineFactory } from './engine/contract.js';
export {
  createTrainEngine,
  registerTrainEngine,
  trainEngineNames,
  ortArenaBatches,
  UnknownTrainEngineError,
} from './engine/registry.js';
export { createTfjsEngine } from './engine/tfjs-engine.js';
export { type TrainEngineName } from './config.js';
export {
  checkRecipeEngine,
  isDefaultRecipe,
  RecipeUnsupportedError,
  LOSS_RESOLUTIONS,
  type LossResolution,
  type TrainRecipe,
} from './recipe/options.js';
export {
  lowResToOriginalTf,
  originalLossFrame,
  postprocessAxisMatrix,
  LossResolutionError,
} from './recipe/loss-resolution.js';
export {
  iterativeDecoderLoss,
  sampleErrorClick,
  clickToModel,
  appendClicks,
  SimulatedClickError,
  type ErrorClick,
  type IterativeLossOptions,
} from './recipe/simulated-clicks.js';
export {
  microBatchRecipe,
  recipeGradients,
  recipeLoss,
  RecipeInputError,
  type MicroBatchRecipe,
} from './recipe/recipe.js';
// SAM 2.1 decoder training step (issue 25): one forward + loss, on tfjs and recorded for onnxruntime.
export { sam2DecoderLoss, type Sam2TrainInputs, type Sam2TrainForward } from './sam2-decoder-loss.js';
export { sam2MicroBatchGradients, type Sam2LossParts } from './sam2-train-step.js';
export {
  recordSam2TrainGraph,
  SAM2_PARTS_OUTPUT,
  type Sam2TrainGraph,
  type Sam2TrainGraphShape,
} from './ort-engine/sam2-training-graph.js';
