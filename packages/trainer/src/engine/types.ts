/**
 * The engine-neutral vocabulary of training (no executor imports): loss parts, Adam's
 * hyper-parameters and serialisable state, and the error of malformed steps. Both engines and the
 * trainer use these; `train-step.ts` (tfjs) and `optimizer.ts` (tfjs) re-export them.
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
export type { DecoderPromptBatch } from '@samtune/training-data';

/** Thrown when a prompt batch, its targets or a training state have inconsistent sizes. */
export class TrainStepError extends SamtuneError {
  readonly code: string = 'train-step';
  readonly kind: ErrorKind = 'input';
}

/** Loss values of a micro-batch (unweighted parts, means over its prompts). */
export interface LossParts {
  readonly loss: number;
  readonly focal: number;
  readonly dice: number;
  readonly iou: number;
  /** SAM 2.1: the object-score BCE (`loss_class`); absent for SAM 1. */
  readonly class?: number;
}

/** Adam hyper-parameters; defaults are `torch.optim.Adam`'s. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  readonly lr?: number;
  /** `[beta1, beta2]`. Default `[0.9, 0.999]`. */
  readonly betas?: readonly [number, number];
  /** Added to the bias-corrected `sqrt(v)`. Default 1e-8. */
  readonly eps?: number;
  /** L2 penalty added to the gradient (torch's Adam, not AdamW). Default 0. */
  readonly weightDecay?: number;
}

/** Serialisable optimizer state; typed arrays are row-major copies of the moments. */
export interface AdamState {
  /** Number of `step()` calls. */
  readonly step: number;
  /** Per-parameter step counts (`t` of the bias correction). */
  readonly steps: Record<string, number>;
  /** First moments by parameter name. */
  readonly m: Record<string, Float32Array>;
  /** Second moments by parameter name. */
  readonly v: Record<string, Float32Array>;
}

/** Adam's hyper-parameters with torch's defaults filled in. */
export interface AdamHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** `options` with torch's defaults. */
export function adamHyper(options: AdamOptions = {}): AdamHyper {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999];
  return { lr: options.lr ?? 1e-3, beta1, beta2, eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? 0 };
}
