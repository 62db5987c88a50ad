/**
 * The epoch phases of a training run (`trainer.ts`'s loop) and what they share (`Fit`): the state of
 * record (`TrainState`), the engine that trains it, the run state's metadata. A phase is one
 * function here; what happens around it (checkpoints, early stopping, reports, interrupts) is a
 * `TrainCallback` (`fit-callbacks.ts`).
 */
import { writeFileSync } from 'node:fs';
import {
  evaluate,
  evaluateClicks,
  ortEvalDecoder,
  sam2OrtEvalDecoder,
  type ClicksResult,
  type EvalDecoder,
  type EvalResult,
  type ModelContext,
  type Sam2ModelContext,
} from '@samtune/evaluation';
import { type TargetStore } from '@samtune/training-data';
import { checkFiniteWeights, isSam2Config, sam2PredictorWeights, type WeightMap } from '@samtune/sam-model';
import {
  RUN_STATE_VERSION,
  saveRunState,
  writeModelCheckpoint,
  writeSam2ModelCheckpoint,
  type CheckpointInfo,
  type EpochRecord,
  type RunStateMeta,
} from './checkpoints.js';
import type { TrainEngine } from './engine/contract.js';
import { createTrainEngine, ortArenaBatches } from './engine/registry.js';
import { TrainState } from './engine/train-state.js';
import type { TrainEvent, TrainResult } from './events.js';
import { TrainingInterruptedError, type StopRequested } from './interrupt.js';
import { writeRunReport } from './report.js';
import { writeResultsCsv } from './run-files.js';
import { type Run, type RunData } from './run-setup.js';
import { RunDirectoryError, storedConfig } from './run-folder.js';
import { trainEpoch } from './train-epoch.js';
import { earlyStopper } from './fit-callbacks.js';

/** A step event (what `TrainCallback.onStep` receives). */
export type StepEvent = Extract<TrainEvent, { type: 'step' }>;

/** Hooks around the phases; `fit-callbacks.ts` has the built-in ones. */
export interface TrainCallback {
  /** After each optimizer step; may throw to end the run (a non-finite loss, an interrupt). */
  onStep?(fit: Fit, e: StepEvent): void;
  /** After an epoch's training and validation, in order; may set `fit.stop`. */
  onEpochEnd?(fit: Fit, record: EpochRecord): void;
}

/** What the phases and callbacks of a run share. */
export class Fit {
  /** The state of record: the decoder's weights and Adam's moments in plain buffers. */
  readonly state: TrainState;
  /** The engine that trains `state` (built by `startEngine`, after the embedding pass). */
  engine: TrainEngine | undefined;
  meta: RunStateMeta | undefined;
  targets: TargetStore | undefined;
  /** Set by a callback: the run ends after this epoch, for this reason (`early`: early stopping). */
  stop: { readonly reason: string; readonly early: boolean } | null = null;
  /** The decoder side under samtune's names (SAM 2.1: `sam2PredictorWeights` of the checkpoint). */
  readonly decoderSide: WeightMap;

  constructor(
    readonly run: Run,
    readonly model: ModelContext | Sam2ModelContext,
    readonly data: RunData,
  ) {
    const { checkpoint } = model;
    const resumed = run.resumed;
    if (resumed && resumed.meta.baseCheckpoint.sha256 !== checkpoint.sha256)
      throw new RunDirectoryError(
        `runTraining(--resume): ${run.out} was started from checkpoint sha256 ${resumed.meta.baseCheckpoint.sha256}, '${run.config.checkpoint}' now has ${checkpoint.sha256}`,
      );
    this.decoderSide = isSam2Config(checkpoint.config) ? sam2PredictorWeights(checkpoint.weights) : checkpoint.weights;
    this.state = TrainState.fromCheckpoint(this.decoderSide);
    if (resumed) {
      this.state.setWeights(resumed.decoder);
      this.state.loadAdamState(resumed.adam);
    }
  }

  /** The metadata (after `startEngine`). */
  get m(): RunStateMeta {
    if (!this.meta) throw new Error('Fit.m: the run has not started its epochs');
    return this.meta;
  }

  /** Finished epochs (for messages). */
  get epochsDone(): number {
    return this.meta?.epochsDone ?? this.run.resumed?.meta.epochsDone ?? 0;
  }

  /** The base checkpoint's reference and the training arguments written into checkpoints. */
  get base() {
    const { checkpoint } = this.model;
    const baseCheckpoint = { path: checkpoint.path, sha256: checkpoint.sha256 };
    return {
      // The complete checkpoint the trained decoder completes: a fine-tuned --checkpoint's own base (a
      // base is followed one level only, see @samtune/sam-model fine-tuned.ts).
      ref: ('base' in checkpoint ? checkpoint.base : undefined) ?? {
        ...baseCheckpoint,
        source: this.run.config.checkpoint,
      },
      trainingArgs: { ...storedConfig(this.run.config), baseCheckpoint },
    };
  }

  /** Phase "start": the run state's metadata (fresh or resumed) and the engine, loaded with the state. */
  startEngine(targets: TargetStore, fill: { seconds: number; computed: number; hits: number }, backend: string): void {
    const earlyStopping = earlyStopper(this.run.config).state();
    const { config, resumed } = this.run;
    const { checkpoint } = this.model;
    const embeddingPass = fill.computed > 0 ? { ...fill } : null;
    this.targets = targets;
    this.meta = resumed
      ? { ...resumed.meta, config, embeddingPass: resumed.meta.embeddingPass ?? embeddingPass }
      : {
          version: RUN_STATE_VERSION,
          config,
          epochsDone: 0,
          history: [],
          zeroShot: null,
          bestEpoch: null,
          earlyStopping,
          adamStep: 0,
          adamSteps: {},
          finished: false,
          stopReason: null,
          baseCheckpoint: { path: checkpoint.path, sha256: checkpoint.sha256 },
          embeddingPass,
          backend,
        };
    this.engine = createTrainEngine(config.runtime.engine, {
      config: checkpoint.config,
      weights: this.decoderSide,
      adam: config.optimizer,
      ...(config.runtime.ortArena ? { arenaBatches: ortArenaBatches(config.training.microBatch) } : {}),
    });
    this.engine.load(this.state);
  }

  /**
   * Writes a best/last model checkpoint of `decoder`: SAM 1 the decoder and its base's reference,
   * SAM 2.1 the complete checkpoint (`writeSam2ModelCheckpoint`).
   */
  writeCheckpoint(path: string, decoder: WeightMap, info: CheckpointInfo): void {
    const { checkpoint } = this.model;
    if (isSam2Config(checkpoint.config))
      writeSam2ModelCheckpoint(path, checkpoint.weights, checkpoint.sha256, checkpoint.config, decoder, info);
    else writeModelCheckpoint(path, this.base.ref, decoder, checkpoint.config, info);
  }

  /** Writes the run state (state.safetensors) and results.csv. */
  save(): void {
    const meta = { ...this.m, config: storedConfig(this.m.config) }; // a state file never names code
    saveRunState(this.run.files.state, meta, this.state.weights(), this.state.adamState());
    writeResultsCsv(this.run.files.results, this.m.history, this.run.config.optimizer.lr);
  }
}

/**
 * Phase "validate": the val subset on the training engine (`evalDecoder`), loss included, then
 * clicks-to-quality on the same decoder (`data.val.clicks`); emits `eval-done`.
 */
export async function validatePhase(
  fit: Fit,
  phase: 'zero-shot' | 'val',
  epoch: number,
): Promise<{ metrics: EvalResult; seconds: number }> {
  const { run, model, data } = fit;
  const { config } = run;
  const t0 = performance.now();
  const { predictor } = model;
  // On the engine that trains (its executor, its current weights), loss included (SAM 2.1: NaN).
  const decoder = (fit.engine as TrainEngine).evalDecoder();
  try {
    const pixels = await evaluate({
      predictor,
      decoder,
      cache: model.cache,
      targets: fit.targets as TargetStore,
      items: data.val.items,
      prompt: config.prompt,
      maxInstances: config.data.val.maxInstances,
      microBatch: config.training.microBatch,
      onProgress: (done, total) => {
        run.emit({ type: 'eval-progress', phase, epoch, done, total });
        run.stopAt(`${phase} validation after epoch ${epoch} (${done}/${total} images)`);
      },
    });
    const clicks = config.data.val.clicks > 0 ? await clicksPhase(fit, decoder, phase, epoch) : undefined;
    const metrics: EvalResult = clicks ? { ...pixels, clicks } : pixels;
    const seconds = (performance.now() - t0) / 1000;
    run.emit({ type: 'eval-done', phase, epoch, metrics, seconds });
    return { metrics, seconds };
  } finally {
    await decoder.release();
  }
}

/**
 * Clicks-to-quality (`data.val.clicks` clicks at most) of the state's decoder on the val subset, on
 * `decoder` (the ort engine's) or, where it decodes no clicks (the tfjs engine), an ORT one of the
 * model's family.
 */
async function clicksPhase(
  fit: Fit,
  decoder: EvalDecoder,
  phase: 'zero-shot' | 'val',
  epoch: number,
): Promise<ClicksResult> {
  const { run, model, data } = fit;
  const { config } = model.checkpoint;
  const weights = (): WeightMap => new Map([...fit.decoderSide, ...fit.state.weights()]);
  const own = decoder.decodeClicks
    ? undefined
    : isSam2Config(config)
      ? sam2OrtEvalDecoder(config, weights())
      : ortEvalDecoder(config, weights());
  try {
    return await evaluateClicks({
      decoder: own ?? decoder,
      cache: model.cache,
      targets: fit.targets as TargetStore,
      items: data.val.items,
      maxInstances: run.config.data.val.maxInstances,
      maxClicks: run.config.data.val.clicks,
      onProgress: () => run.stopAt(`${phase} clicks-to-quality after epoch ${epoch}`),
    });
  } finally {
    await own?.release();
  }
}

/** Phase "train epoch" then "validate": the epoch's record (`best` against the history). */
export async function epochPhase(fit: Fit, epoch: number, callbacks: readonly TrainCallback[]): Promise<EpochRecord> {
  const { run, model, data } = fit;
  const engine = fit.engine as TrainEngine;
  const t0 = performance.now();
  const totals = await trainEpoch({
    config: run.config,
    engine,
    cache: model.cache,
    targets: fit.targets as TargetStore,
    items: data.train.items,
    epoch,
    onEvent: (e) => {
      run.emit(e);
      if (e.type === 'step') for (const cb of callbacks) cb.onStep?.(fit, e);
    },
  });
  engine.read(fit.state);
  const trainSeconds = (performance.now() - t0) / 1000;
  const { metrics, seconds: valSeconds } = await validatePhase(fit, 'val', epoch);
  const best = fit.m.history.find((h) => h.epoch === fit.m.bestEpoch)?.val.f1 ?? Number.NEGATIVE_INFINITY;
  return {
    epoch,
    trainLoss: totals.loss,
    trainFocal: totals.focal,
    trainDice: totals.dice,
    trainIou: totals.iou,
    steps: totals.steps,
    prompts: totals.prompts,
    val: metrics,
    trainSeconds,
    valSeconds,
    best: metrics.f1 > best,
  };
}

/** Phase "finish": the final state, report.md, curves.svg, metrics.json; emits `done`. */
export function finishRun(fit: Fit): TrainResult {
  const { run } = fit;
  const epochs = run.config.training.epochs;
  if (!fit.m.finished) {
    fit.meta = { ...fit.m, finished: true, stopReason: fit.m.stopReason ?? `reached ${epochs} epochs` };
    fit.save();
  }
  const meta = fit.m;
  const result: TrainResult = {
    out: run.out,
    epochs: meta.epochsDone,
    bestEpoch: meta.bestEpoch,
    stopReason: meta.stopReason ?? '',
    zeroShot: meta.zeroShot,
    best: meta.history.find((h) => h.epoch === meta.bestEpoch)?.val ?? null,
    history: meta.history,
    files: run.files,
  };
  writeRunReport(run.files, meta);
  const { zeroShot, best, bestEpoch } = result;
  const summary = { zeroShot, best, bestEpoch, epochs: meta.epochsDone, stopReason: meta.stopReason };
  const more = { embeddingPass: meta.embeddingPass, backend: meta.backend, history: meta.history };
  writeFileSync(run.files.metrics, `${JSON.stringify({ ...summary, ...more }, null, 2)}\n`);
  run.emit({ type: 'done', result });
  return result;
}

/** An interrupt: `last.safetensors` from the current weights; returns the error to throw. */
export function interruptedRun(fit: Fit, err: StopRequested): TrainingInterruptedError {
  const { run } = fit;
  const epochsDone = fit.epochsDone;
  fit.engine?.read(fit.state);
  const decoder = fit.state.weights();
  checkFiniteWeights(decoder, `runTraining(${err.signal}): the mask decoder at ${err.where}, not saved`);
  fit.writeCheckpoint(run.files.last, decoder, {
    kind: 'last',
    epoch: epochsDone,
    trainingArgs: fit.base.trainingArgs,
    metrics: { epoch: epochsDone, interrupted: { signal: err.signal, at: err.where } },
  });
  const message = `runTraining: stopped by ${err.signal} at ${err.where}; wrote ${run.files.last} (current weights); ${run.files.state} holds ${epochsDone} finished epoch(s): --resume continues with epoch ${epochsDone + 1}`;
  run.emit({ type: 'info', message });
  return new TrainingInterruptedError(message, err.signal);
}
