/**
 * Early stopping on a validation metric, with the semantics of Lightning's `EarlyStopping` behind a
 * warm-up (the reference recipe's `EarlyStoppingWithWarmup`):
 *
 * - epochs are counted from 0; the first `warmupEpochs` epochs (0 .. warmupEpochs-1) are not
 *   monitored at all (no best value, no patience);
 * - a monitored value improves when `value - minDelta > best` (mode max) or `value + minDelta < best`
 *   (mode min), strictly: a change of exactly `minDelta` is not an improvement; the first monitored
 *   value always improves on the initial `-inf`/`+inf`;
 * - an improvement resets the wait counter; otherwise it grows and training stops once it reaches
 *   `patience`;
 * - a non-finite value (NaN, ±Infinity) stops at once.
 *
 * Defaults (mode max, minDelta 0.001, patience 3, warm-up 3 epochs) are the reference recipe's.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Options; all optional. */
export interface EarlyStoppingOptions {
  /** `max` for scores (F1, IoU), `min` for losses. Default `max`. */
  readonly mode?: 'max' | 'min';
  /** Smallest change that counts as an improvement (exclusive), >= 0. Default 0.001. */
  readonly minDelta?: number;
  /** Monitored epochs without improvement before stopping, >= 1. Default 3. */
  readonly patience?: number;
  /** Leading epochs that are not monitored, >= 0. Default 3. */
  readonly warmupEpochs?: number;
}

/** Serialisable state (JSON-safe: the absent best is `null`). */
export interface EarlyStoppingState {
  /** Epochs reported so far (the next `update` is epoch `epochs`, 0-based). */
  readonly epochs: number;
  /** Best monitored value, or null before the first monitored epoch. */
  readonly best: number | null;
  /** 0-based epoch of `best`, or null. */
  readonly bestEpoch: number | null;
  /** Monitored epochs since the last improvement. */
  readonly wait: number;
  /** 0-based epoch at which stopping was decided, or null. */
  readonly stoppedEpoch: number | null;
}

/** What `update` decided for one epoch. */
export interface EarlyStoppingDecision {
  /** The 0-based epoch this value belonged to. */
  readonly epoch: number;
  /** False during the warm-up epochs. */
  readonly monitored: boolean;
  /** The value is the new best. */
  readonly improved: boolean;
  /** Training should stop after this epoch. */
  readonly shouldStop: boolean;
  /** Why it stops (`patience` or `non-finite`), when it does. */
  readonly reason?: 'patience' | 'non-finite';
  readonly best: number | null;
  readonly wait: number;
}

/** Thrown on invalid options or a state that does not fit them. */
export class EarlyStoppingError extends SamtuneError {
  readonly code: string = 'early-stopping';
  readonly kind: ErrorKind = 'input';
}

/** Early stopping with warm-up; feed one validation value per epoch to `update`. */
export class EarlyStopping {
  readonly mode: 'max' | 'min';
  readonly minDelta: number;
  readonly patience: number;
  readonly warmupEpochs: number;
  private epochs = 0;
  private best: number | null = null;
  private bestEpoch: number | null = null;
  private wait = 0;
  private stoppedEpoch: number | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    this.mode = options.mode ?? 'max';
    this.minDelta = options.minDelta ?? 0.001;
    this.patience = options.patience ?? 3;
    this.warmupEpochs = options.warmupEpochs ?? 3;
    if (this.mode !== 'max' && this.mode !== 'min')
      throw new EarlyStoppingError(
        `new EarlyStopping(options): mode must be 'max' or 'min', got '${String(this.mode)}'`,
      );
    if (!(this.minDelta >= 0) || !Number.isFinite(this.minDelta))
      throw new EarlyStoppingError(
        `new EarlyStopping(options): minDelta must be a finite number >= 0, got ${this.minDelta}`,
      );
    if (!Number.isInteger(this.patience) || this.patience < 1)
      throw new EarlyStoppingError(
        `new EarlyStopping(options): patience must be an integer >= 1, got ${this.patience}`,
      );
    if (!Number.isInteger(this.warmupEpochs) || this.warmupEpochs < 0)
      throw new EarlyStoppingError(
        `new EarlyStopping(options): warmupEpochs must be an integer >= 0, got ${this.warmupEpochs}`,
      );
  }

  /** True once a stop was decided. */
  get stopped(): boolean {
    return this.stoppedEpoch !== null;
  }

  /** Whether `value` improves on `best` by more than `minDelta`. */
  isImprovement(value: number, best: number | null): boolean {
    if (best === null) return true;
    return this.mode === 'max' ? value - this.minDelta > best : value + this.minDelta < best;
  }

  /** Reports the metric of the next epoch and returns the decision. */
  update(value: number): EarlyStoppingDecision {
    const epoch = this.epochs;
    this.epochs += 1;
    if (epoch < this.warmupEpochs) {
      return { epoch, monitored: false, improved: false, shouldStop: false, best: this.best, wait: this.wait };
    }
    if (!Number.isFinite(value)) {
      this.stoppedEpoch ??= epoch;
      return {
        epoch,
        monitored: true,
        improved: false,
        shouldStop: true,
        reason: 'non-finite',
        best: this.best,
        wait: this.wait,
      };
    }
    const improved = this.isImprovement(value, this.best);
    if (improved) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
    } else {
      this.wait += 1;
    }
    const shouldStop = this.wait >= this.patience;
    if (shouldStop) this.stoppedEpoch ??= epoch;
    return {
      epoch,
      monitored: true,
      improved,
      shouldStop,
      ...(shouldStop ? { reason: 'patience' as const } : {}),
      best: this.best,
      wait: this.wait,
    };
  }

  /** A copy of the state. */
  state(): EarlyStoppingState {
    return {
      epochs: this.epochs,
      best: this.best,
      bestEpoch: this.bestEpoch,
      wait: this.wait,
      stoppedEpoch: this.stoppedEpoch,
    };
  }

  /**
   * Restores a state from `state()`.
   * @throws EarlyStoppingError when a field is missing or out of range.
   */
  load(state: EarlyStoppingState): void {
    const intOk = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0;
    if (
      !intOk(state.epochs) ||
      !intOk(state.wait) ||
      (state.best !== null && typeof state.best !== 'number') ||
      (state.bestEpoch !== null && !intOk(state.bestEpoch)) ||
      (state.stoppedEpoch !== null && !intOk(state.stoppedEpoch))
    ) {
      throw new EarlyStoppingError(
        `EarlyStopping.load(state): expected { epochs, wait: integers >= 0, best: number|null, bestEpoch, stoppedEpoch: integer|null }, got ${JSON.stringify(state)}`,
      );
    }
    this.epochs = state.epochs;
    this.best = state.best;
    this.bestEpoch = state.bestEpoch;
    this.wait = state.wait;
    this.stoppedEpoch = state.stoppedEpoch;
  }
}
