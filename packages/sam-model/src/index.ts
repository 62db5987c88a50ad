/** @samtune/sam-model: Segment Anything in TypeScript. */
export * from './tensor.js';
export * from './config.js';
export * from './ops/ops.js';
export { TfjsOps, type TfjsWeights } from './ops/tfjs-ops.js';
export { initBackend, BACKEND_ORDER, BackendUnavailableError, type BackendInfo, type BackendName } from './ops/backend.js';
export { ParamScope, linear, layerNorm, layerNorm2d, conv2d, mlp, mlpBlock, activate, type Activation } from './layers.js';
export { compareArrays, compareTensors, DEFAULT_ATOL, DEFAULT_RTOL, ShapeMismatchError, type Agreement } from './compare.js';
