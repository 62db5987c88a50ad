/**
 * @samtune/onnx: everything ONNX in samtune, and the only importer of onnxruntime-node.
 * - the model codec (`encodeModel`/`decodeModel`, one protobuf implementation);
 * - the graph recorder `OnnxGraphOps` (the `Ops` interface every SAM layer is written against) over
 *   `OnnxGraphBuilder`, with static shape inference;
 * - onnxruntime-node sessions: async `createSession`, and `SyncOrtSession` for synchronous kernels.
 */
export * from './tensor.js';
export { MissingWeightError, type Conv2dOptions, type Ops } from './ops.js';
export { OnnxGraphOps, type OnnxValue } from './onnx-ops.js';
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
