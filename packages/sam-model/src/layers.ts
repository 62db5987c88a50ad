/**
 * Building blocks shared by SAM's components, written once against `Ops<T>`.
 * Parameter names follow the official checkpoints: a `ParamScope` walks the key prefix
 * (`mask_decoder.transformer.layers.0.` …) the way torch module nesting does.
 */
import type { Ops } from '@samtune/tensor';

/** A key prefix into the executor's weight map, mirroring torch module nesting. */
export class ParamScope<T> {
  constructor(
    readonly ops: Ops<T>,
    readonly prefix: string,
  ) {}

  /** Scope of a sub-module: `scope.child('layers').child(0)` -> `prefix + 'layers.0.'`. */
  child(name: string | number): ParamScope<T> {
    return new ParamScope(this.ops, `${this.prefix}${name}.`);
  }

  get(name: string): T {
    return this.ops.param(this.prefix + name);
  }

  has(name: string): boolean {
    return this.ops.hasParam(this.prefix + name);
  }

  /** Full key of a parameter in this scope. */
  key(name: string): string {
    return this.prefix + name;
  }
}

/** torch `nn.Linear` at `p` (`weight [out,in]`, optional `bias [out]`) on `x [...,in]`. */
export function linear<T>(p: ParamScope<T>, x: T): T {
  return p.ops.linear(x, p.get('weight'), p.has('bias') ? p.get('bias') : undefined);
}

/** torch `nn.LayerNorm` over the last axis. */
export function layerNorm<T>(p: ParamScope<T>, x: T, eps = 1e-5): T {
  return p.ops.layerNorm(x, p.get('weight'), p.get('bias'), eps);
}

/** SAM's `LayerNorm2d`: LayerNorm over the channel axis of `x [B,C,H,W]` (eps 1e-6). */
export function layerNorm2d<T>(p: ParamScope<T>, x: T, eps = 1e-6): T {
  const { ops } = p;
  const nhwc = ops.transpose(x, [0, 2, 3, 1]);
  return ops.transpose(ops.layerNorm(nhwc, p.get('weight'), p.get('bias'), eps), [0, 3, 1, 2]);
}

/** torch `nn.Conv2d` at `p` (bias if the checkpoint has one). */
export function conv2d<T>(p: ParamScope<T>, x: T, opts?: { stride?: number; pad?: number; groups?: number }): T {
  return p.ops.conv2d(x, p.get('weight'), p.has('bias') ? p.get('bias') : undefined, opts);
}

export type Activation = 'relu' | 'gelu';

export function activate<T>(ops: Ops<T>, x: T, act: Activation): T {
  return act === 'relu' ? ops.relu(x) : ops.gelu(x);
}

/** SAM's `MLPBlock`: `lin2(act(lin1(x)))`. */
export function mlpBlock<T>(p: ParamScope<T>, x: T, act: Activation): T {
  return linear(p.child('lin2'), activate(p.ops, linear(p.child('lin1'), x), act));
}

/**
 * The mask decoder's `MLP`: `layers.{0..n-1}` linears with ReLU between them (not after the last),
 * optionally a sigmoid on the output.
 */
export function mlp<T>(p: ParamScope<T>, x: T, numLayers: number, sigmoidOutput = false): T {
  let h = x;
  for (let i = 0; i < numLayers; i++) {
    h = linear(p.child('layers').child(i), h);
    if (i < numLayers - 1) h = p.ops.relu(h);
  }
  return sigmoidOutput ? p.ops.sigmoid(h) : h;
}
