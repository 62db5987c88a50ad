/** @samtune/quantize-ptq: Post-training INT8 quantization (QDQ) of exported SAM models, calibrated on your data, with an accuracy gate. */
export const PACKAGE_NAME = '@samtune/quantize-ptq';
