/** @samtune/transforms: image I/O, SAM pre-processing with reversible geometry, prompts from masks. */
export { readImage, ImageReadError, type RgbImage } from './image-io.js';
export { normalizeAndPad, PadSizeError } from './normalize.js';
