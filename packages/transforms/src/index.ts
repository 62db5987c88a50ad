/** @samtune/transforms: Image I/O (sharp), SAM pre-processing (resize longest side, normalise, pad) with reversible geometry, and prompt sampling from masks. */
export const PACKAGE_NAME = '@samtune/transforms';
