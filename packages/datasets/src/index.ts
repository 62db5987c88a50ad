/** @samtune/datasets: Readers for COCO, Pascal VOC, Common Semantic Segmentation, Datumaro, LabelMe, YOLO segmentation and SA-1B datasets, with lazy masks and a pluggable adapter registry. */
export type {
  Dataset,
  DatasetItem,
  DatasetInstance,
  DatasetLabel,
  BoxXYXY,
  MaskSource,
  InstanceAttributes,
  SkippedEntry,
  LoadOptions,
  ImageCheck,
} from './model.js';
export {
  DatasetError,
  MissingImageError,
  ImageOutsideRootError,
  UnreadableImageError,
  ImageSizeMismatchError,
  InvalidPolygonError,
  InvalidBoxError,
  RleSizeMismatchError,
  InvalidRleError,
  UnknownCategoryError,
  MalformedAnnotationError,
  MaskSizeMismatchError,
  UnreadableMaskError,
  DuplicateIdError,
  DatasetFormatError,
  AdapterRegistrationError,
  MaskDecodeError,
  PluginAdapterError,
  type SkipScope,
  type DatasetErrorLocation,
} from './errors.js';
export { type DatasetAdapter, type AdapterResult } from './adapter.js';
export type { CocoAnnotation, CocoCategory, CocoCompressedRle, CocoDocument, CocoImage } from './coco-document.js';
export { type DatasetLoadContext, type ImageSizeHW } from './context.js';
export { resolveContained, type Containment } from './containment.js';
export {
  loadDataset,
  registerDatasetAdapter,
  unregisterDatasetAdapter,
  listDatasetAdapters,
  detectDatasetFormats,
  BUILTIN_FORMATS,
} from './registry.js';
export { splitDataset, SplitOptionsError, type SplitOptions } from './split.js';
export { summarizeDataset, type DatasetSummary, type SubsetSummary } from './inspect.js';
export {
  rasterizePolygon,
  rasterizePolygonCenters,
  polygonBounds,
  clipPolygonToRect,
  PolygonFormatError,
} from './polygon.js';
export { parseJsonText, JsonTextError, MAX_JSON_DEPTH } from './json-text.js';
export {
  decodeRleString,
  encodeRleString,
  rleToMask,
  maskToRle,
  rleBounds,
  checkRleCounts,
  RleFormatError,
} from './rle.js';
export {
  decodePng,
  readPng,
  readPngHeader,
  PngDecodeError,
  type DecodedPng,
  type PngHeader,
  type PngColorType,
} from './png.js';
export { vocColormap } from './label-map.js';
export {
  parsePolygon,
  parseRle,
  checkBox,
  xywhToXyxy,
  partsMask,
  boxMask,
  toNumber,
  ellipsePolygon,
  ELLIPSE_POINTS,
  BOX_TOLERANCE_PX,
  type MaskPart,
} from './shapes.js';
export { VOC_CLASSES } from './voc-labels.js';
export {
  loadDatasetPlugins,
  resolvePluginSpecifier,
  findConfigFile,
  PluginLoadError,
  pluginTimeoutMs,
  PLUGIN_API,
  CONFIG_FILE_NAME,
  type PluginApi,
} from './plugins.js';
