/**
 * @samtune/tensor: what the executors share, and nothing executor-specific.
 * - host tensors: plain typed arrays with a shape, row-major (`HostTensor`, `FloatTensor`,
 *   `WeightMap`, `numel`, `floatTensor`, `toFloat32`);
 * - `Ops<T>` / `TrainOps<T>`: the op interface the SAM layers, the loss and the optimizer update are
 *   written against once (`TfjsOps` in @samtune/sam-model evaluates them, `OnnxGraphOps` in
 *   @samtune/onnx records them).
 */
export {
  floatTensor,
  numel,
  TensorShapeError,
  toFloat32,
  type DType,
  type DTypeArray,
  type FloatTensor,
  type HostTensor,
  type WeightMap,
} from './tensor.js';
export { MissingWeightError, type Conv2dOptions, type Ops, type TrainOps } from './ops.js';
