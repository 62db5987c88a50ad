/**
 * Progress events of evaluation and of what training shares with it (backend, dataset, embedding
 * pass, validation): plain JSON-safe objects (they cross the worker-thread boundary and go to the
 * JSONL log). The trainer's `TrainEvent` extends this union.
 */
import type { EvalResult } from './evaluate.js';

export type EvalEvent =
  | { readonly type: 'info'; readonly message: string }
  | {
      readonly type: 'backend';
      readonly backend: string;
      readonly ortKernels: boolean;
      readonly detail: string;
      /** Backends tried first that could not start, with the reason (printed with `--verbose`). */
      readonly skipped?: readonly { readonly name: string; readonly reason: string }[];
    }
  | {
      readonly type: 'dataset';
      readonly format: string;
      readonly train: number;
      readonly val: number;
      readonly trainSubset: string;
      readonly valSubset: string;
      readonly skipped: number;
      readonly problems: readonly string[];
      /** Set when a one-subset dataset was split (`splitDataset`): what was done, in one sentence. */
      readonly split?: string;
      /** Set when validation reads a dataset of its own (`data.val.root`): its folder or file. */
      readonly valRoot?: string;
      /** Crowd instances (`iscrowd`) of the training and validation images, and what they are (`data.crowd`). */
      readonly crowd?: { readonly train: number; readonly val: number; readonly policy: 'keep' | 'ignore' };
    }
  | {
      readonly type: 'embed-progress';
      readonly done: number;
      readonly total: number;
      readonly hits: number;
      readonly computed: number;
      readonly etaSeconds: number;
    }
  | {
      readonly type: 'embed-done';
      readonly seconds: number;
      readonly computed: number;
      readonly hits: number;
      readonly total: number;
    }
  | {
      readonly type: 'eval-progress';
      readonly phase: 'zero-shot' | 'val';
      readonly epoch: number;
      readonly done: number;
      readonly total: number;
    }
  | {
      readonly type: 'eval-done';
      readonly phase: 'zero-shot' | 'val';
      readonly epoch: number;
      readonly metrics: EvalResult;
      readonly seconds: number;
    };

export type EvalEventHandler = (event: EvalEvent) => void;
