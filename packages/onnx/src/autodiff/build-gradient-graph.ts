/**
 * `buildGradientGraph`: reverse-mode differentiation of a recorded ONNX graph. The backward nodes
 * are appended to the same `OnnxGraphBuilder`, so the forward activations are reused as they are.
 */
import type { OnnxGraphBuilder } from '../graph.js';
import type { NodeProto } from '../proto.js';
import { numel } from '@samtune/tensor';
import { GradContext } from './context.js';
import { GradientGraphError, NoGradientRuleError } from './errors.js';
import { getGradientRule } from './registry.js';

/** Options of `buildGradientGraph`. */
export interface GradientGraphOptions {
  /** Name of the loss: a float32 value with one element (shape `[]` or `[1]`). */
  readonly loss: string;
  /**
   * Values to differentiate: initializers (e.g. the `mask_decoder.*` weights), graph inputs, or any
   * other float32 value of the graph. Each gets a gradient of its own static shape.
   */
  readonly wrt: readonly string[];
  /**
   * The gradient of the loss to start from (`dL/dL`): a number (default 1), or the name of a
   * float32 value with one element, e.g. a graph input `grad_scale [1]` that scales each
   * micro-batch for gradient accumulation.
   */
  readonly seed?: number | string;
  /** Declare every gradient as a graph output with its static shape. Default false. */
  readonly addOutputs?: boolean;
  /** Name of the gradient of `name`. Default `grad.<name>`. */
  readonly gradName?: (name: string) => string;
}

/** What `buildGradientGraph` appended. */
export interface GradientGraph {
  /** Wanted value -> its gradient's value name (`grad.<name>`), in `wrt` order. */
  readonly gradients: ReadonlyMap<string, string>;
  /** Wanted values that do not reach the loss: their gradient is zeros (`ConstantOfShape`). */
  readonly unreached: readonly string[];
  /** Forward nodes that were differentiated (on a path from a wanted value to the loss). */
  readonly differentiatedNodes: number;
  /** Nodes appended to the graph. */
  readonly addedNodes: number;
}

/** Values reachable forward from `wrt` through nodes a gradient can flow through. */
function dependents(nodes: readonly NodeProto[], wrt: ReadonlySet<string>): Set<string> {
  const dep = new Set(wrt);
  for (const n of nodes) {
    if (!n.input.some((i) => dep.has(i))) continue;
    if (!n.domain && getGradientRule(n.opType)?.zeroGradient) continue; // no gradient flows through
    for (const o of n.output) if (o) dep.add(o);
  }
  return dep;
}

/** Values from which the loss is reachable. */
function ancestors(nodes: readonly NodeProto[], loss: string): Set<string> {
  const anc = new Set([loss]);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k] as NodeProto;
    if (n.output.some((o) => anc.has(o))) for (const i of n.input) if (i) anc.add(i);
  }
  return anc;
}

/**
 * Appends to `builder` the backward pass of `opts.loss` with respect to `opts.wrt` and returns the
 * gradient names. Nodes are visited once, in reverse recording order; only those on a path from a
 * wanted value to the loss are differentiated (subgraphs that do not reach the loss, or do not depend
 * on a wanted value, add nothing). Gradients of values used several times are summed (`Sum`).
 * Every value on the path needs a static shape (`OnnxGraphOps` records them; see
 * `OnnxGraphBuilder.setValueShape`).
 *
 * @throws NoGradientRuleError (`no-gradient-rule`) naming the op type and node of an op without a rule.
 * @throws UnsupportedGradientError for a use of an op its rule does not cover (e.g. Slice with steps != 1).
 * @throws GradientGraphError for an unknown or non-scalar loss, unknown wanted values, missing shapes.
 */
export function buildGradientGraph(builder: OnnxGraphBuilder, opts: GradientGraphOptions): GradientGraph {
  const nodes = [...builder.listNodes()];
  const ctx = new GradContext(builder);
  const gradName = opts.gradName ?? ((n: string): string => `grad.${n}`);
  const lossShape = builder.valueShape(opts.loss);
  if (!lossShape)
    throw new GradientGraphError(
      `buildGradientGraph(opts.loss): no value '${opts.loss}' with a recorded shape in graph '${builder.name}'`,
    );
  if (numel(lossShape) !== 1 || lossShape.some((d) => d < 0))
    throw new GradientGraphError(
      `buildGradientGraph(opts.loss): '${opts.loss}' must have one element (shape [] or [1]), got [${lossShape.join(',')}]`,
    );
  const wrt = new Set(opts.wrt);
  if (wrt.size !== opts.wrt.length)
    throw new GradientGraphError(`buildGradientGraph(opts.wrt): names repeat: ${opts.wrt.join(', ')}`);
  for (const w of opts.wrt) {
    if (!builder.valueShape(w) && !ctx.producer(w))
      throw new GradientGraphError(`buildGradientGraph(opts.wrt): no value '${w}' in graph '${builder.name}'`);
    if (builder.hasName(gradName(w)))
      throw new GradientGraphError(
        `buildGradientGraph(opts.gradName): name '${gradName(w)}' is already used in graph '${builder.name}'`,
      );
  }

  const dep = dependents(nodes, wrt);
  const anc = ancestors(nodes, opts.loss);
  const contributions = new Map<string, string[]>();
  const push = (v: string, g: string): void => {
    const list = contributions.get(v);
    if (list) list.push(g);
    else contributions.set(v, [g]);
  };
  /** The summed gradient of `v` (undefined if none flowed in). */
  const total = (v: string, outName?: string): string | undefined => {
    const list = contributions.get(v);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1 && !outName) return list[0];
    const shape = ctx.shape(v);
    const [g] = builder.addNode(
      list.length === 1 ? 'Identity' : 'Sum',
      list,
      {},
      {
        name: `grad/${v}/${list.length === 1 ? 'Identity' : 'Sum'}`,
        ...(outName ? { outputs: [outName] } : {}),
      },
    );
    builder.setValueShape(g as string, shape);
    contributions.set(v, [g as string]);
    return g;
  };

  const before = builder.listNodes().length;
  ctx.current = opts.loss;
  const seed = opts.seed ?? 1;
  if (typeof seed === 'number')
    push(opts.loss, builder.addFloatConstant(new Float32Array([seed]), lossShape, 'grad_seed'));
  else {
    const s = builder.valueShape(seed) ?? ctx.tryShape(seed);
    if (!s || numel(s) !== 1)
      throw new GradientGraphError(
        `buildGradientGraph(opts.seed): '${seed}' must be a value with one element, got ${s ? `[${s.join(',')}]` : 'no such value'}`,
      );
    push(opts.loss, ctx.reshape(seed, lossShape));
  }

  let differentiated = 0;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k] as NodeProto;
    if (!node.output.some((o) => anc.has(o)) || !node.input.some((i) => i !== '' && dep.has(i))) continue;
    const dy = node.output.map((o) => (o ? total(o) : undefined));
    if (dy.every((g) => g === undefined)) continue;
    const needs = node.input.map((i) => i !== '' && dep.has(i));
    const name = node.name ?? node.opType;
    ctx.current = name;
    const rule = getGradientRule(node.domain ? `${node.domain}.${node.opType}` : node.opType);
    if (!rule) throw new NoGradientRuleError(node.opType, name, node.domain ? ` (domain '${node.domain}')` : '');
    const grads = rule.backward({ node, dy, needs, ctx });
    differentiated++;
    node.input.forEach((input, i) => {
      const g = grads[i];
      if (!needs[i] || g === undefined) return;
      const want = ctx.shape(input);
      const got = ctx.tryShape(g);
      if (!got || got.join(',') !== want.join(','))
        throw new GradientGraphError(
          `buildGradientGraph(): the '${node.opType}' rule gave input ${i} ('${input}') of node '${name}' a gradient of shape [${got?.join(',') ?? '?'}], expected [${want.join(',')}] (a rule bug)`,
        );
      push(input, g);
    });
  }

  const gradients = new Map<string, string>();
  const unreached: string[] = [];
  for (const w of opts.wrt) {
    const name = gradName(w);
    ctx.current = w;
    if (!contributions.get(w)?.length) {
      if (anc.has(`${w}.T`))
        throw new GradientGraphError(
          `buildGradientGraph(opts.wrt): '${w}' reaches the loss only through its build-time transpose '${w}.T'; record the graph with new OnnxGraphOps(weights, builder, { transposeWeightsAtBuild: false })`,
        );
      unreached.push(w);
      push(w, ctx.zeros(ctx.shape(w)));
    }
    total(w, name);
    gradients.set(w, name);
    if (opts.addOutputs) builder.addOutput(name, ctx.shape(w));
  }
  return { gradients, unreached, differentiatedNodes: differentiated, addedNodes: builder.listNodes().length - before };
}
