/** @samtune/server: HTTP API and labelling page for samtune models: composes the samtune packages. */
export { startServer, type SamServer, type SamServerOptions } from './server.js';
export { ModelWorker } from './model-worker.js';
export { Finetuner, type FinetuneOptions, type FinetuneProgress, type FinetuneEvent } from './finetune/finetuner.js';
export { VersionStore, VERSIONS_FILE, type VersionInfo, type VersionMetrics } from './finetune/versions.js';
export { gate, versionMetrics, type GateDecision, type GateTolerance } from './finetune/gate.js';
export {
  FinetuneRunningError,
  TooFewLabelsError,
  FinetuneUnsupportedError,
  UnknownVersionError,
  VersionNotServableError,
} from './finetune/errors.js';
export { ModelEngine, contentId, type ModelSpec, type ModelInfo, type EngineOptions } from './model-engine.js';
export { JobQueue, QueueFullError, ClientGoneError, type QueueStats } from './job-queue.js';
export { RequestGuard, allowedHostNames, isLoopback, originFormPath, type GuardOptions } from './security.js';
export { EmbeddingCache, type CachedEmbedding } from './embedding-cache.js';
export { SerialQueue } from './serial-queue.js';
export {
  LabelStore,
  LabelsFileError,
  LabelsLockedError,
  canonicalImageName,
  uncompressedRle,
  type CompressedRle,
  type LabelStoreOptions,
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
  type PredictRequest,
  type LabelsRequest,
  type LabelInput,
  type BoxXYXY,
} from './validate.js';
export {
  MAX_POINTS,
  MAX_ANNOTATIONS,
  PredictBody,
  LabelsBody,
  HealthReply,
  EmbedReply,
  PredictReply,
  ErrorReply,
} from './schemas.js';
export {
  listImages,
  resolveImage,
  resolveImageName,
  storeUpload,
  placeUpload,
  imageContentType,
  IMAGE_TYPES,
} from './images.js';
export { spoolToFile, IMAGE_BODY_TYPES } from './upload-spool.js';
export { RASTER_FORMATS } from './routes.js';
export {
  HttpError,
  InvalidJsonError,
  InvalidTargetError,
  ForbiddenKeyError,
  ServerBusyError,
  InsufficientStorageError,
  namedFsError,
  InvalidFieldError,
  UnknownEmbeddingError,
  NotFoundError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UnauthorizedError,
  ForbiddenOriginError,
  MisdirectedRequestError,
  RemoteError,
  ServerConfigError,
  errorReply,
  show,
} from './errors.js';
