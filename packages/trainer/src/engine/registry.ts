/**
 * Training engines by name (`runtime.engine`), like onnxruntime-common's `registerBackend`: `ort`
 * (default) and `tfjs` are registered here; `registerTrainEngine` adds another (e.g. from a plugin).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { OrtTrainEngine } from '../ort-engine/engine.js';
import type { TrainEngine, TrainEngineContext, TrainEngineFactory } from './contract.js';
import { createTfjsEngine } from './tfjs-engine.js';

/** Thrown for an engine name that nothing registered. */
export class UnknownTrainEngineError extends SamtuneError {
  readonly code: string = 'unknown-train-engine';
  readonly kind: ErrorKind = 'input';
}

const factories = new Map<string, TrainEngineFactory>([
  [
    'ort',
    (c) =>
      new OrtTrainEngine({
        config: c.config,
        weights: c.weights,
        adam: c.adam,
        ...(c.loss ? { loss: c.loss } : {}),
        intraOpThreads: 2,
        ...(c.arenaBatches ? { memArenaBatches: c.arenaBatches } : {}),
      }),
  ],
  ['tfjs', createTfjsEngine],
]);

/** Registers (or replaces) the engine `name`. */
export function registerTrainEngine(name: string, factory: TrainEngineFactory): void {
  factories.set(name, factory);
}

/** The registered engine names. */
export function trainEngineNames(): string[] {
  return [...factories.keys()];
}

/** Builds the engine registered as `name`. */
export function createTrainEngine(name: string, context: TrainEngineContext): TrainEngine {
  const factory = factories.get(name);
  if (!factory)
    throw new UnknownTrainEngineError(
      `createTrainEngine(name): expected one of ${trainEngineNames().join(', ')}, got '${name}'`,
    );
  return factory(context);
}

/**
 * The micro-batch sizes whose ort sessions keep a memory arena under `runtime.ortArena`: full
 * micro-batches, and single prompts (images with one instance, one-prompt steps). ~90 MB a prompt.
 */
export function ortArenaBatches(microBatch: number): number[] {
  return [...new Set([1, microBatch])];
}
