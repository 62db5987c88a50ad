/** @samtune/export: Exports SAM encoders and decoders to ONNX with the official SAM export I/O contract, verified after writing. */
export const PACKAGE_NAME = '@samtune/export';
