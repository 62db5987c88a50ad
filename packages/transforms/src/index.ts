/** @samtune/transforms: image I/O, SAM pre-processing with reversible geometry, prompts from masks. */
export {
  readImage,
  readImageInfo,
  ImageReadError,
  ImageNotFoundError,
  ImageDecodeError,
  ImageTooLargeError,
  type RgbImage,
  type ImageInfo,
  type ImageSource,
  type ReadImageOptions,
} from './image-io.js';
export { normalizeAndPad, PadSizeError } from './normalize.js';
export { getPreprocessShape, resizeLongestSide, SAM_IMAGE_SIZE, ImageSizeError } from './resize.js';
export { resizePil, resizePlanes, ResampleInputError, type Image8 } from './resample.js';
export { axisWeights, ResampleSizeError, type AxisKind, type AxisWeights } from './weights.js';
export { preprocessImage, SAM_PIXEL_MEAN, SAM_PIXEL_STD, type PreprocessedImage } from './preprocess.js';
export { preprocessImageSam2, SAM2_MEAN, SAM2_STD } from './sam2-preprocess.js';
export {
  ResizeGeometry,
  CoordsShapeError,
  type Point,
  type Box,
  type CoordinateScale,
  type FrameResize,
  type ResizeGeometryOptions,
  type ResizeGeometryJSON,
} from './geometry.js';
export {
  createMask,
  assertMask,
  maskArea,
  hasForeground,
  thresholdMask,
  logitsToMask,
  resizeMask,
  resizeMaskSoft,
  cropPadPlane,
  MaskShapeError,
  type BinaryMask,
  type ImageSize,
  type MaskResizeMethod,
} from './mask.js';
export { maskToLowRes, lowResToOriginal, lowResToModel, LOW_RES_SIZE, type LowResTargetOptions } from './lowres.js';
export { distanceToBackground } from './distance.js';
export { largestComponent, type LargestComponent } from './components.js';
export { createRng, RngArgumentError, type Rng } from './rng.js';
export {
  maskBox,
  jitterBox,
  samplePositivePoints,
  interiorPoint,
  sampleNegativePoints,
  selectPrompt,
  PromptError,
  validatePrompt,
  PromptRangeError,
  type PromptToValidate,
  type JitterOptions,
  type NegativePointOptions,
  type PromptMode,
  type PromptCandidates,
  type SelectedPrompt,
} from './prompts.js';
export { writeMaskPng, writeOverlayPng, OVERLAY_COLORS, type OverlayPrompts } from './image-write.js';
