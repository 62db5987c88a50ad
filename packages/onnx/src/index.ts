/**
 * @samtune/onnx: everything ONNX in samtune, and the only importer of onnxruntime-node.
 * - the model codec (`encodeModel`/`decodeModel`, one protobuf implementation);
 * - the graph recorder `OnnxGraphOps` (an executor of @samtune/tensor's `Ops<T>`) over
 *   `OnnxGraphBuilder`, with static shape inference;
 * - onnxruntime-node sessions: async `createSession`, and `SyncOrtSession` for synchronous kernels.
 */
export { OnnxGraphOps, type OnnxValue } from './onnx-ops.js';
export { ONNX_OP_TYPES, type OnnxOpType } from './op-types.js';
export {
  OnnxGraphBuilder,
  OnnxGraphError,
  ModelTooLargeError,
  DEFAULT_OPSET,
  EXTERNAL_DATA_THRESHOLD_BYTES,
  SAMTUNE_PRODUCER_VERSION,
  type AttrValue,
  type OnnxElemType,
  type GraphBuilderOptions,
  type SaveOptions,
  type SavedModel,
} from './graph.js';
export { OnnxShapeError } from './shape-infer.js';
export {
  encodeModel,
  encodedModelSize,
  OnnxProtoError,
  DataType,
  AttributeType,
  DATA_LOCATION_EXTERNAL,
  PROTOBUF_MAX_BYTES,
  type ModelProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type AttributeProto,
  type ValueInfoProto,
  type StringEntry,
  type OperatorSetId,
} from './proto.js';
export { decodeModel, tensorFloats, tensorInt64s } from './proto-reader.js';
export {
  createSession,
  SessionError,
  SessionInputError,
  type Session,
  type SessionOptions,
  type ValueSignature,
} from './session.js';
export {
  encodeSmallModel,
  smallModelProto,
  ONNX_FLOAT,
  ONNX_INT64,
  type SmallAttr,
  type SmallNode,
  type SmallValue,
  type SmallModelSpec,
} from './small-model.js';
export {
  loadBinding,
  ortVersion,
  OrtBindingError,
  SyncOrtSession,
  SessionCache,
  type OrtFeed,
  type OrtSessionOptions,
} from './sync-session.js';
export { BoundOrtSession, boundTensor, type BoundSessionOptions, type BoundTensor } from './bound-session.js';
export type { OnnxGraphOpsOptions } from './onnx-ops.js';
/**
 * Reverse-mode autodiff of recorded graphs: `buildGradientGraph(builder, { loss, wrt, seed })`
 * appends the backward nodes to the same graph and returns `grad.<name>` for each wanted value.
 * @example
 * ```ts
 * const ops = new OnnxGraphOps(weights, new OnnxGraphBuilder(), { transposeWeightsAtBuild: false });
 * const x = ops.input('x', [4, 8]);
 * const y = ops.linear(x, ops.param('fc.weight'), ops.param('fc.bias'));      // [4,16]
 * const loss = ops.emit('ReduceMean', [ops.mul(y, y)], [], { keepdims: 0 });  // scalar
 * ops.input('grad_scale', [1]); // e.g. micro-batch size / batch size
 * const { gradients } = buildGradientGraph(ops.builder, {
 *   loss: loss.name,
 *   wrt: ['fc.weight', 'fc.bias'],
 *   seed: 'grad_scale',
 *   addOutputs: true, // outputs 'grad.fc.weight' [16,8] and 'grad.fc.bias' [16]
 * });
 * const session = await createSession(ops.builder.toModelBytes());
 * ```
 */
export {
  buildGradientGraph,
  registerGradient,
  getGradientRule,
  gradientRuleOps,
  GradContext,
  GradientGraphError,
  NoGradientRuleError,
  UnsupportedGradientError,
  type GradientGraph,
  type GradientGraphOptions,
  type GradientRule,
  type GradArgs,
} from './autodiff/index.js';
