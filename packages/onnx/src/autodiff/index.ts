/**
 * Reverse-mode automatic differentiation of recorded ONNX graphs (`buildGradientGraph`).
 *
 * Design
 * - The forward graph is recorded with `OnnxGraphOps`/`OnnxGraphBuilder` (static shapes: every
 *   recorded node's output shape is kept by `OnnxGraphBuilder.setValueShape`). `buildGradientGraph`
 *   appends the backward nodes to the SAME builder, so forward activations are reused, nothing is
 *   recomputed (LayerNormalization's rule re-runs one fused normalisation for x̂ and 1/σ).
 * - One pass over the nodes in reverse recording order (a topological order). A node is
 *   differentiated when one of its outputs reaches the loss, one of its inputs depends on a wanted
 *   value, and a gradient actually arrived at an output; so subgraphs off the path add nothing.
 *   Gradients of a value used several times are summed with one `Sum` node. Values computed
 *   behind a zero-gradient op (Shape, Equal, GreaterOrEqual, …) do not count as depending on the
 *   wanted values, so such branches (an IoU target from a thresholded prediction) add nothing.
 * - One rule per op type (`gradients/*.ts`, like tfjs-core's `gradients/`), in a small registry
 *   (`registerGradient`, `getGradientRule`, `gradientRuleOps`). A rule gets the node, the output
 *   gradients and which inputs need one; it emits nodes through `GradContext` and returns one
 *   gradient per input, each of that input's exact static shape (checked).
 * - Broadcasting (numpy) is undone statically with `sumTo`: ReduceSum over the broadcast axes
 *   (axes as an input, opset 13+) and Reshape.
 * - Opset 17 ops only in emitted nodes (ReduceSum with an axes input; no ReduceMean is emitted).
 * - Weights: record with `new OnnxGraphOps(weights, builder, { transposeWeightsAtBuild: false })`
 *   (else `linear` reads a build-time `<key>.T` copy and the weight itself gets no gradient; this
 *   is detected and reported); `paramsAsInputs` makes weights graph inputs instead of initializers.
 *
 * Rules: Add, Sub, Mul, Div, Pow (constant exponent folded; a computed exponent too, for a > 0),
 * Sum, Max/Min (two inputs), MatMul (batched, broadcast; rank-2 weights by one Gemm), Gemm (alpha/beta/trans), Softmax,
 * LogSoftmax, LayerNormalization (direct rule, not a decomposition), Erf (GELU), Relu, Sigmoid,
 * Tanh, Softplus, Sqrt, Reciprocal, Neg, Exp, Log, Abs, Sin, Cos, Clip, Where (branches), Identity,
 * Cast (to float), Reshape/Squeeze/Unsqueeze/Flatten, Transpose, Concat (one Split), Slice (steps
 * 1), Pad (constant), Gather (constant indices, one-hot matmul), Expand, Tile, ReduceSum, ReduceMean,
 * ConvTranspose (stride == kernel, SAM's upscaling: Conv for dx, the matmul rewrite for dW), Conv
 * (2-D; dW for group 1), and zero-gradient ops (Shape, Size, Equal/Less/Greater…, Not/And/Or,
 * ConstantOfShape, Constant, Range, Floor/Ceil/Round/Sign, ArgMax/ArgMin, NonZero, Random*).
 *
 * Not supported: Resize (not on the decoder's training path: the loss reads the 256x256 low-res
 * logits), MatMul with 1-D operands, Slice with steps != 1, ConvTranspose with overlapping windows
 * or padding, grouped Conv weights, dynamic (`-1`) shapes on the differentiated path, ops in
 * non-default domains, control flow (If/Loop), higher-order gradients (untested).
 *
 * Verified on the real graph: packages/trainer/src/decoder-autodiff.test.ts (MobileSAM's
 * mask decoder + the fixture loss: every `grad.mask_decoder.*` of the official step; multimask
 * tokens against tfjs).
 */
export { buildGradientGraph, type GradientGraph, type GradientGraphOptions } from './build-gradient-graph.js';
export { GradContext } from './context.js';
export { GradientGraphError, NoGradientRuleError, UnsupportedGradientError } from './errors.js';
export { getGradientRule, gradientRuleOps, registerGradient } from './registry.js';
export type { GradArgs, GradientRule } from './rule.js';
