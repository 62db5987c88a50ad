/**
 * Stopping a run cleanly. SIGTERM (what `docker stop` and CI cancels send) and SIGINT (Ctrl-C) set a
 * flag that the run checks at step boundaries (after an optimizer step, between validation and
 * embedding items); it then writes `last.safetensors` with the current weights and throws
 * `TrainingInterruptedError`. The run state stays at the last finished epoch, so `--resume`
 * repeats the interrupted epoch from its start: the same run as one never interrupted.
 * A non-finite training loss stops the run with `NonFiniteLossError` before anything is saved.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Signals that stop a run at the next step boundary. */
export type StopSignal = 'SIGTERM' | 'SIGINT';

/** Signal numbers (POSIX): the conventional exit code of a process stopped by one is 128 + n. */
export const SIGNAL_NUMBERS: Readonly<Record<StopSignal, number>> = { SIGINT: 2, SIGTERM: 15 };

/** Exit code for a run stopped by `signal`: 130 (SIGINT), 143 (SIGTERM). */
export function exitCodeForSignal(signal: StopSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

/** Thrown by `runTraining` after it stopped at a step boundary and wrote `last`. */
export class TrainingInterruptedError extends SamtuneError {
  readonly code: string = 'training-interrupted';
  readonly kind: ErrorKind = 'conflict';
  constructor(
    message: string,
    readonly signal: StopSignal,
  ) {
    super(message);
  }
}

/** Thrown when a training step's loss is NaN or ±Infinity; no checkpoint is written after it. */
export class NonFiniteLossError extends SamtuneError {
  readonly code: string = 'non-finite-loss';
  readonly kind: ErrorKind = 'input';
}

/** Thrown inside the run to unwind to the point that writes `last` (never escapes `runTraining`). */
export class StopRequested extends Error {
  override readonly name = 'StopRequested';
  constructor(
    readonly signal: StopSignal,
    readonly where: string,
  ) {
    super(`stop requested by ${signal} at ${where}`);
  }
}

const CODES: readonly (StopSignal | undefined)[] = [undefined, 'SIGTERM', 'SIGINT'];

/**
 * A stop request shared between threads: an `Int32Array` over a `SharedArrayBuffer`, so a worker
 * busy in synchronous compute reads it without waiting for its event loop.
 */
export class StopFlag {
  readonly cells: Int32Array;
  constructor(shared?: SharedArrayBuffer) {
    this.cells = new Int32Array(shared ?? new SharedArrayBuffer(4));
  }
  get buffer(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }
  /** Requests a stop (the first signal wins). */
  request(signal: StopSignal): void {
    Atomics.compareExchange(this.cells, 0, 0, CODES.indexOf(signal));
  }
  /** The requested signal, if any. */
  requested(): StopSignal | undefined {
    return CODES[Atomics.load(this.cells, 0)];
  }
}
