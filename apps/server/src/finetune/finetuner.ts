/**
 * Fine-tuning from the labelling server: one run at a time, in the trainer's own worker thread (so the
 * model worker keeps answering clicks), on the accepted masks of the labels store.
 *
 * A run: the labels file is copied into the new version's run folder (`labels.json`, the training data
 * of record; the page may keep saving), the trainer reads it with the `--images` folder through
 * `@samtune/datasets`, split by `seed` into training and held-out images (`valFraction`; with `--val`,
 * all of it trains and the held-out data is the user's own labels file, `val-set.ts`), starting from
 * the ACTIVE version's weights. Its zero-shot validation is therefore the serving version on the
 * held-out data, its best epoch the candidate on the same data, both with clicks-to-quality; the gate
 * (`gate.ts`) decides. An accepted candidate is swapped into the model worker (between two requests)
 * and becomes active; a worse one stays `rejected` with its numbers and reason; a run whose loss
 * diverges (non-finite) is rejected too. Cancelling terminates the training worker: the serving
 * version never changes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSam2Config } from '@samtune/sam-model';
import { writeFileAtomicAsync } from '@samtune/tensor-files';
import { defaultTrainConfig, validateTrainConfig } from '@samtune/trainer/config';
import { startTrainingWorker, type TrainingJob } from '@samtune/trainer/worker';
import type { TrainEvent, TrainResult } from '@samtune/trainer';
import { labelsFileChunks } from '../labels-file.js';
import type { LabelStore } from '../labels-store.js';
import type { ModelWorker } from '../model-worker.js';
import { FinetuneRunningError, FinetuneUnsupportedError, TooFewLabelsError } from './errors.js';
import { gate, versionMetrics, type GateTolerance } from './gate.js';
import type { ValSet, ValSetOptions } from './val-set.js';
import type { HeldOut, VersionInfo, VersionStore } from './versions.js';

/**
 * Nice value of the fine-tune's training thread and its onnxruntime threads (Linux): training yields
 * the CPU to clicks (the model worker's `/api/predict`, and the page's own decoder in the browser on
 * the same machine). Measured by `pnpm bench:label-loop --training-only`.
 */
export const FINETUNE_NICENESS = 10;

/** Defaults of a run (each `POST /api/finetune` may set `epochs` and `lr`). */
export interface FinetuneOptions {
  /** Most epochs of a run. Default 10. */
  readonly epochs?: number;
  /** Adam learning rate. Default 1e-4. */
  readonly lr?: number;
  /** Share of the labelled images held out for the gate (seeded split). Default 0.25. */
  readonly valFraction?: number;
  /** Seed of the split, shuffling and clicks. Default 0. */
  readonly seed?: number;
  /** Clicks-to-quality clicks at most (0: the gate compares F1 only). Default 20. */
  readonly clicks?: number;
  /** Accepted instances needed before a run starts. Default 4 (on at least 2 images). */
  readonly minInstances?: number;
  /** Start a run after this many new accepted instances (`--auto-train`); 0/absent: off. */
  readonly autoTrain?: number;
  /** How much worse a candidate may be and still be activated (default not at all). */
  readonly tolerance?: GateTolerance;
  /** Embedding cache folder of the training runs. Default `<data>/embeddings`. */
  readonly cacheDir?: string;
  /**
   * The gate's own validation set (`--val`, `--val-images`): a COCO labels file, checked at start
   * (`checkValSet`); every accepted label then trains and the gate measures on this set instead of
   * a seeded split.
   */
  readonly val?: ValSetOptions;
}

/** What `GET /api/finetune/status` and the `progress` events carry. */
export interface FinetuneProgress {
  readonly version: string;
  readonly phase: string;
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number | null;
  readonly etaSeconds: number | null;
}

/** An event of `GET /api/finetune/events`. */
export type FinetuneEvent =
  | { readonly type: 'progress'; readonly data: FinetuneProgress }
  | { readonly type: 'done'; readonly data: VersionInfo };

interface Running {
  readonly version: string;
  readonly job: TrainingJob;
  progress: FinetuneProgress;
  cancelled: boolean;
  readonly t0: number;
  /** Steps done and per epoch, for the ETA. */
  steps: { done: number; perEpoch: number; firstStepAt: number | null };
  /** Held-out images, from the trainer's dataset event. */
  heldOutImages: number;
}

/** Where the base checkpoint of v0 is (a file the trainer can load). */
export interface FinetuneContext {
  readonly store: VersionStore;
  readonly worker: ModelWorker;
  readonly labels: LabelStore | undefined;
  readonly imagesDir: string | undefined;
  /** Absolute data folder. */
  readonly dataDir: string;
  /** The checked `--val` set (`FinetuneOptions.val`), when there is one. */
  readonly valSet?: ValSet;
  readonly log?: (line: string) => void;
}

export class Finetuner {
  private running: Running | undefined;
  private starting = false;
  private last: VersionInfo | undefined;
  private readonly listeners = new Set<(e: FinetuneEvent) => void>();
  /** The run in flight (its promise), for tests and `close`. */
  current: Promise<VersionInfo> | undefined;

  constructor(
    private readonly ctx: FinetuneContext,
    private readonly opts: FinetuneOptions = {},
  ) {}

  /** `GET /api/finetune/status`. */
  status(): { running: boolean; last?: VersionInfo } & Partial<FinetuneProgress> {
    const r = this.running;
    return { running: r !== undefined, ...(r ? r.progress : {}), ...(this.last ? { last: this.last } : {}) };
  }

  /** Receives every progress and done event; returns the unsubscribe function. */
  subscribe(listener: (e: FinetuneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Starts a run on the accepted labels (see the module comment); resolves once it is under way.
   * @throws FinetuneRunningError (409), TooFewLabelsError (422), FinetuneUnsupportedError (422)
   */
  async start(req: { epochs?: number; lr?: number } = {}): Promise<{ version: string; state: 'training' }> {
    if (this.running || this.starting)
      throw new FinetuneRunningError(
        `finetune: expected no run in progress, got ${this.running ? `${this.running.version} (${this.running.progress.phase})` : 'one starting'}; cancel it first`,
      );
    this.starting = true; // until `running` is set: two requests at once never start two runs
    try {
      return await this.launch(req);
    } finally {
      this.starting = false;
    }
  }

  private async launch(req: { epochs?: number; lr?: number }): Promise<{ version: string; state: 'training' }> {
    const { labels, imagesDir, store, worker } = this.ctx;
    if (!labels || !imagesDir)
      throw new FinetuneUnsupportedError('finetune: the server was started without --images, so there are no labels');
    const base = worker.info.checkpoint;
    if (worker.info.engine !== 'checkpoint' || base.path.startsWith('seeded:'))
      throw new FinetuneUnsupportedError(
        `finetune: expected a server started with --checkpoint <file or name>, got ${worker.info.engine === 'onnx' ? `an export directory (${base.path})` : `a seeded model (${base.path})`}`,
      );
    if (isSam2Config(worker.info.config))
      throw new FinetuneUnsupportedError(
        `finetune: expected a SAM 1 checkpoint (fine-tuning from the page swaps SAM 1 decoders only), got the SAM 2.1 checkpoint ${base.path}; run 'samtune train --checkpoint ${base.path} --data-root ${labels.file} --images ${imagesDir}' and serve the run's best.safetensors`,
      );
    const doc = await labels.read();
    const minInstances = this.opts.minInstances ?? 4;
    const imagesWith = new Set(doc.annotations.map((a) => a.image_id)).size;
    const valSet = this.ctx.valSet;
    const minImages = valSet ? 1 : 2; // without --val some images are held out to gate the new version
    if (doc.annotations.length < minInstances || imagesWith < minImages)
      throw new TooFewLabelsError(
        `finetune: expected at least ${minInstances} accepted instances on at least ${valSet ? '1 image' : '2 images (some are held out to gate the new version)'}, got ${doc.annotations.length} on ${imagesWith} image(s)`,
      );
    const parent = store.active;
    const version = await store.create(doc.annotations.length);
    const runDir = store.runDir(version.id);
    const snapshot = join(runDir, 'labels.json');
    await writeFileAtomicAsync(snapshot, labelsFileChunks(doc));
    const config = defaultTrainConfig();
    config.checkpoint = store.checkpoint(parent) ?? base.path;
    config.data.root = snapshot;
    config.data.images = imagesDir;
    config.data.valFraction = this.opts.valFraction ?? 0.25;
    config.data.val.clicks = this.opts.clicks ?? 20;
    if (valSet) {
      config.data.val.root = valSet.labels;
      config.data.val.images = valSet.imagesDir ?? '';
    }
    config.training.epochs = req.epochs ?? this.opts.epochs ?? 10;
    config.training.seed = this.opts.seed ?? 0;
    config.optimizer.lr = req.lr ?? this.opts.lr ?? 1e-4;
    config.runtime.cacheDir = this.opts.cacheDir ?? join(this.ctx.dataDir, 'embeddings');
    config.out = runDir;
    validateTrainConfig(config);
    const epochs = config.training.epochs;
    const progress: FinetuneProgress = {
      version: version.id,
      phase: 'preparing',
      epoch: 0,
      epochs,
      loss: null,
      etaSeconds: null,
    };
    const job = startTrainingWorker(config, {
      existOk: true,
      onEvent: (e) => this.onEvent(e),
      niceness: FINETUNE_NICENESS,
    });
    const t0 = performance.now();
    this.running = {
      version: version.id,
      job,
      progress,
      cancelled: false,
      t0,
      steps: { done: 0, perEpoch: 0, firstStepAt: null },
      heldOutImages: 0,
    };
    this.emit({ type: 'progress', data: progress });
    this.ctx.log?.(
      `finetune: ${version.id} from ${parent}: ${doc.annotations.length} instances, ${epochs} epochs, lr ${config.optimizer.lr}`,
    );
    this.current = this.finish(version.id, parent, job);
    return { version: version.id, state: 'training' };
  }

  /** Cancels the run in progress (the serving version stays); false when none runs. */
  async cancel(): Promise<{ cancelled: boolean }> {
    const r = this.running;
    if (!r) return { cancelled: false };
    r.cancelled = true;
    await r.job.cancel();
    await this.current?.catch(() => undefined);
    return { cancelled: true };
  }

  /** After a labels save: starts a run when `autoTrain` new instances were accepted since the last one. */
  onLabelsSaved(totalInstances: number): void {
    const n = this.opts.autoTrain ?? 0;
    if (n <= 0 || this.running || this.starting || totalInstances - this.ctx.store.instancesAtLastRun < n) return;
    this.start().catch((err: unknown) => this.ctx.log?.(`auto-train: not started: ${(err as Error).message}`));
  }

  /** Cancels a run in progress (server shutdown). */
  async close(): Promise<void> {
    await this.cancel();
  }

  private emit(e: FinetuneEvent): void {
    for (const l of this.listeners) l(e);
  }

  private setProgress(patch: Partial<FinetuneProgress>): void {
    const r = this.running;
    if (!r) return;
    r.progress = { ...r.progress, ...patch };
    this.emit({ type: 'progress', data: r.progress });
  }

  private onEvent(e: TrainEvent): void {
    const r = this.running;
    if (!r) return;
    if (e.type === 'dataset') r.heldOutImages = e.val;
    else if (e.type === 'embed-progress')
      this.setProgress({ phase: 'embedding', etaSeconds: Math.round(e.etaSeconds) });
    else if (e.type === 'eval-progress' && e.phase === 'zero-shot') this.setProgress({ phase: 'baseline' });
    else if (e.type === 'eval-progress') this.setProgress({ phase: 'validating', epoch: e.epoch });
    else if (e.type === 'epoch-start') {
      r.steps.perEpoch = e.steps;
      this.setProgress({ phase: 'training', epoch: e.epoch, epochs: e.epochs });
    } else if (e.type === 'step') {
      const now = performance.now();
      r.steps.firstStepAt ??= now;
      r.steps.done++;
      const perStep = r.steps.done > 1 ? (now - r.steps.firstStepAt) / (r.steps.done - 1) : null;
      const left = (r.progress.epochs - e.epoch) * r.steps.perEpoch + (e.steps - e.step);
      this.setProgress({
        phase: 'training',
        epoch: e.epoch,
        loss: Number.isFinite(e.loss) ? e.loss : null,
        etaSeconds: perStep === null ? null : Math.round((left * perStep) / 1000),
      });
    } else if (e.type === 'epoch-end' && e.stop) this.setProgress({ phase: 'gating', etaSeconds: 0 });
  }

  /** Waits for the run, gates it, swaps an accepted candidate in, records the outcome. */
  private async finish(id: string, parent: string, job: TrainingJob): Promise<VersionInfo> {
    const { store, worker } = this.ctx;
    let info: VersionInfo;
    try {
      let result: TrainResult | undefined;
      let error: Error | undefined;
      try {
        result = await job.result;
      } catch (err) {
        error = err as Error;
      }
      if (this.running?.cancelled)
        info = await store.finish(id, { state: 'cancelled', reason: 'cancelled; the serving version stays' });
      else if (error?.name === 'NonFiniteLossError')
        info = await store.finish(id, {
          state: 'rejected',
          reason: `rejected: the training diverged (${error.message})`,
        });
      else if (error || !result)
        info = await store.finish(id, { state: 'failed', reason: `failed: ${error?.message ?? 'no result'}` });
      else info = await this.gateRun(id, parent, result);
      if (info.state === 'candidate' && store.active === parent) {
        this.setProgress({ phase: 'activating' });
        await worker.setDecoder(store.checkpoint(id), id);
        await store.activate(id);
        info = store.get(id);
      }
    } catch (err) {
      info = await store.finish(id, { state: 'failed', reason: `failed: ${(err as Error).message}` });
    } finally {
      this.running = undefined;
    }
    this.ctx.log?.(`finetune: ${id} ${info.state}: ${info.reason ?? ''}`);
    this.last = info;
    this.emit({ type: 'done', data: info });
    return info;
  }

  private async gateRun(id: string, parent: string, result: TrainResult): Promise<VersionInfo> {
    const { store } = this.ctx;
    if (!result.best || !result.zeroShot)
      return store.finish(id, { state: 'rejected', reason: 'rejected: the run has no validated epoch to compare' });
    const metrics = versionMetrics(result.best);
    const baseline = versionMetrics(result.zeroShot);
    const valSet = this.ctx.valSet;
    const heldOut: HeldOut = {
      source: valSet ? 'val' : 'split',
      ...(valSet ? { labels: valSet.labels } : {}),
      images: this.running?.heldOutImages ?? 0,
      instances: result.best.instances,
    };
    const decision = gate(metrics, baseline, parent, this.opts.tolerance, heldOut);
    const checkpoint = store.checkpoint(id) as string;
    const decoderSha256 = createHash('sha256')
      .update(await readFile(checkpoint))
      .digest('hex');
    const state = decision.accept ? 'candidate' : 'rejected';
    const info = await store.finish(id, {
      state,
      metrics,
      baseline,
      heldOut,
      decoderSha256,
      reason: decision.reason,
    });
    await writeFileAtomicAsync(join(store.runDir(id), 'version.json'), `${JSON.stringify(info, null, 2)}\n`);
    return info;
  }
}
