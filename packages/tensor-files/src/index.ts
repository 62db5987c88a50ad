/**
 * @samtune/tensor-files: tensor files, read and written without any model in mind.
 * - PyTorch checkpoints (`torch.save` zip: `readTorchCheckpoint`) through a restricted unpickler
 *   (`unpickle`, only the globals a state dict needs) and a zip reader with positioned reads
 *   (`ZipArchive`), bounded before allocation (pickle size, deflate ratio, view expansion);
 * - safetensors (`readSafetensors`, `encodeSafetensors`, `writeSafetensors`) and numpy `.npy`
 *   (`encodeNpy`, `decodeNpy`);
 * - atomic file writes (`writeFileAtomic`, `writeFileAtomicAsync`: a temporary file beside the target,
 *   fsync, rename).
 */
export { writeFileAtomic, writeFileAtomicAsync } from './fs-atomic.js';
export { encodeNpy, decodeNpy, NpyFormatError } from './npy.js';
export {
  readSafetensors,
  encodeSafetensors,
  writeSafetensors,
  SafetensorsError,
  type SafetensorsContent,
} from './safetensors.js';
export {
  readTorchCheckpoint,
  readTorchCheckpointShapes,
  TorchCheckpointError,
  MAX_PICKLE_BYTES,
  MAX_VIEW_EXPANSION,
  STATE_DICT_GLOBALS,
} from './torch.js';
export {
  unpickle,
  UnsafePickleError,
  PickleFormatError,
  PyGlobal,
  PyTuple,
  type GlobalHandler,
  type PyValue,
  type UnpickleOptions,
} from './pickle.js';
export { ZipArchive, ZipFormatError, withZip, MAX_DEFLATE_RATIO, type ZipEntry, type ZipReadOptions } from './zip.js';
