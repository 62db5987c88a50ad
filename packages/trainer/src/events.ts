/**
 * Progress events of a training run, plain JSON-safe objects (they cross the worker-thread boundary
 * and go to the JSONL log). The CLI renders them as progress bars.
 */
import type { EpochRecord } from './checkpoints.js';
import type { EvalEvent, EvalResult } from '@samtune/evaluation';

/** The run's result (also written to `<out>/metrics.json`). */
export interface TrainResult {
  readonly out: string;
  readonly epochs: number;
  readonly bestEpoch: number | null;
  readonly stopReason: string;
  readonly zeroShot: EvalResult | null;
  /** Validation metrics of best.safetensors. */
  readonly best: EvalResult | null;
  readonly history: readonly EpochRecord[];
  /** Paths written. */
  readonly files: {
    readonly best: string;
    readonly last: string;
    readonly state: string;
    readonly log: string;
    /** The resolved config (`run-files.ts`). */
    readonly config: string;
    /** One row per epoch (`run-files.ts`). */
    readonly results: string;
    /** The result as JSON. */
    readonly metrics: string;
    readonly report: string;
    readonly curves: string;
  };
}

export type TrainEvent =
  | EvalEvent
  | { readonly type: 'targets-progress'; readonly done: number; readonly total: number }
  | { readonly type: 'resume'; readonly epochsDone: number }
  | { readonly type: 'epoch-start'; readonly epoch: number; readonly epochs: number; readonly steps: number }
  | {
      readonly type: 'step';
      readonly epoch: number;
      readonly step: number;
      readonly steps: number;
      readonly loss: number;
      readonly prompts: number;
    }
  | { readonly type: 'epoch-end'; readonly record: EpochRecord; readonly stop: boolean; readonly reason: string | null }
  | { readonly type: 'done'; readonly result: TrainResult };

/** Receives events; must not throw. */
export type TrainEventHandler = (event: TrainEvent) => void;
