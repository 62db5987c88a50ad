/** @samtune/server: HTTP API and labelling page for samtune models: composes the samtune packages. */
export { startServer, type SamServer, type SamServerOptions } from './server.js';
export { ModelService, type EmbedReply, type PredictReply, type MaskReply } from './model-service.js';
export { EmbeddingCache, type CachedEmbedding } from './embedding-cache.js';
export { SerialQueue } from './serial-queue.js';
export {
  LabelStore,
  LabelsFileError,
  LABELS_FILE,
  type CocoDocument,
  type CocoImage,
  type CocoAnnotation,
  type CocoCategory,
  type SaveResult,
} from './labels-store.js';
export { maskToCocoRle, cocoRleToMask, rleArea, rleBbox, rleProblem, RleError, type CocoRle } from './rle.js';
export {
  parsePredictRequest,
  parseLabelsRequest,
  checkPromptRange,
  MAX_POINTS,
  type PredictRequest,
  type LabelsRequest,
  type LabelInput,
  type BoxXYXY,
} from './validate.js';
export { listImages, resolveImage, imageContentType, IMAGE_TYPES } from './images.js';
export { parseServerArgs, UsageError, USAGE, type ServerArgs } from './args.js';
export {
  HttpError,
  InvalidJsonError,
  InvalidFieldError,
  UnknownEmbeddingError,
  NotFoundError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  errorReply,
} from './errors.js';
