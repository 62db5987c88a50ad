/**
 * Adam over named tfjs variables, matching `torch.optim.Adam` (amsgrad off, maximize off): the
 * update of each parameter is `engine/adam-update.ts`' `adamUpdate` (the definition the ort
 * engine's Adam graph records), evaluated eagerly on tfjs.
 *
 * The step count is kept per parameter, as torch does: a parameter without a gradient in a step is
 * left alone (torch skips parameters whose `.grad` is None) and its count does not advance.
 * The state (counts, first and second moments) is plain data, so a killed run resumes exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { TfjsOps } from '@samtune/sam-model/modeling';
import { adamScalars, adamUpdate } from './engine/adam-update.js';
import { adamHyper, type AdamOptions, type AdamState } from './engine/types.js';
export type { AdamOptions, AdamState } from './engine/types.js';

/** Thrown on unknown parameter names, shape mismatches and states that do not fit the parameters. */
export class OptimizerError extends SamtuneError {
  readonly code: string = 'optimizer';
  readonly kind: ErrorKind = 'input';
}

/** The executor of the update (`engine/adam-update.ts`): no weights, plain tfjs ops. */
const TFJS = new TfjsOps(new Map());

const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`;

interface Slot {
  readonly param: tf.Variable;
  readonly m: tf.Variable;
  readonly v: tf.Variable;
  steps: number;
}

/** Adam optimizer over a fixed set of named float32 variables. Call `dispose()` when done. */
export class Adam {
  /** Current learning rate (may be changed between steps, e.g. by a schedule). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly slots = new Map<string, Slot>();
  private stepCount = 0;

  /**
   * @param params the trainable variables by name (e.g. checkpoint keys `mask_decoder.…`)
   * @param options hyper-parameters, torch defaults
   */
  constructor(params: Readonly<Record<string, tf.Variable>>, options: AdamOptions = {}) {
    ({
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
    } = adamHyper(options));
    const checks: [string, number, boolean][] = [
      ['lr', this.lr, this.lr >= 0],
      ['betas[0]', this.beta1, this.beta1 >= 0 && this.beta1 < 1],
      ['betas[1]', this.beta2, this.beta2 >= 0 && this.beta2 < 1],
      ['eps', this.eps, this.eps >= 0],
      ['weightDecay', this.weightDecay, this.weightDecay >= 0],
    ];
    for (const [name, value, ok] of checks) {
      if (!ok || !Number.isFinite(value))
        throw new OptimizerError(
          `new Adam(params, options): options.${name} must be finite and in range (lr, eps, weightDecay >= 0; 0 <= beta < 1), got ${value}`,
        );
    }
    for (const [name, param] of Object.entries(params)) {
      if (param.dtype !== 'float32')
        throw new OptimizerError(`new Adam(params): parameter '${name}' must be float32, got ${param.dtype}`);
      const zeros = (): tf.Variable => tf.tidy(() => tf.variable(tf.zerosLike(param), false, undefined, 'float32'));
      this.slots.set(name, { param, m: zeros(), v: zeros(), steps: 0 });
    }
  }

  /** Parameter names, in insertion order. */
  get names(): string[] {
    return [...this.slots.keys()];
  }

  /** Number of `step()` calls so far. */
  get iterations(): number {
    return this.stepCount;
  }

  /**
   * One update. `grads` maps parameter names to gradients of the parameters' shapes; a parameter
   * without an entry is skipped (like a torch parameter whose `.grad` is None).
   * @throws OptimizerError on an unknown name or a shape mismatch (before anything is updated).
   */
  step(grads: Readonly<Record<string, tf.Tensor>>): void {
    for (const [name, g] of Object.entries(grads)) {
      const slot = this.slots.get(name);
      if (!slot)
        throw new OptimizerError(
          `Adam.step(grads): gradient for unknown parameter '${name}' (known: ${this.slots.size} parameters)`,
        );
      if (!tf.util.arraysEqual(g.shape, slot.param.shape)) {
        throw new OptimizerError(
          `Adam.step(grads): gradient of '${name}' has shape ${fmt(g.shape)}, the parameter ${fmt(slot.param.shape)}`,
        );
      }
    }
    this.stepCount += 1;
    for (const [name, g] of Object.entries(grads)) {
      this.update(this.slots.get(name) as Slot, g);
    }
  }

  private update(slot: Slot, grad: tf.Tensor): void {
    slot.steps += 1;
    const t = slot.steps;
    const h = { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
    const { stepSize, bc2Sqrt } = adamScalars(h, t);
    tf.tidy(() => {
      const x = { p: slot.param, m: slot.m, v: slot.v, g: grad };
      const out = adamUpdate(TFJS, x, tf.scalar(stepSize), tf.scalar(bc2Sqrt), h);
      slot.param.assign(out.p);
      slot.m.assign(out.m);
      slot.v.assign(out.v);
    });
  }

  /** A copy of the state, safe to serialise (see `AdamState`). */
  state(): AdamState {
    const steps: Record<string, number> = {};
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, slot] of this.slots) {
      steps[name] = slot.steps;
      m[name] = Float32Array.from(slot.m.dataSync());
      v[name] = Float32Array.from(slot.v.dataSync());
    }
    return { step: this.stepCount, steps, m, v };
  }

  /**
   * Restores a state from `state()` (of an optimizer over the same parameter names and sizes).
   * The parameters' values are not part of it: restore them separately.
   * @throws OptimizerError naming the parameter that is missing, unknown or of another size.
   */
  load(state: AdamState): void {
    for (const name of Object.keys(state.m)) {
      if (!this.slots.has(name)) throw new OptimizerError(`Adam.load(state): state has unknown parameter '${name}'`);
    }
    for (const [name, slot] of this.slots) {
      const m = state.m[name];
      const v = state.v[name];
      const steps = state.steps[name];
      if (!m || !v || steps === undefined)
        throw new OptimizerError(`Adam.load(state): state has no m/v/steps for parameter '${name}'`);
      if (m.length !== slot.param.size || v.length !== slot.param.size) {
        throw new OptimizerError(
          `Adam.load(state): parameter '${name}' ${fmt(slot.param.shape)} has ${slot.param.size} elements, state m ${m.length} / v ${v.length}`,
        );
      }
    }
    for (const [name, slot] of this.slots) {
      slot.m.assign(tf.tensor(state.m[name] as Float32Array, slot.param.shape, 'float32'));
      slot.v.assign(tf.tensor(state.v[name] as Float32Array, slot.param.shape, 'float32'));
      slot.steps = state.steps[name] as number;
    }
    this.stepCount = state.step;
  }

  /** Frees the moment variables (not the parameters). */
  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.slots.clear();
  }
}
