/** @samtune/trainer: Fine-tunes the SAM mask decoder: embedding cache, batching, Adam, early stopping, metrics, atomic checkpoints, resume, report. */
export const PACKAGE_NAME = '@samtune/trainer';
