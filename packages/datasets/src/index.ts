/** @samtune/datasets: Readers for COCO, Pascal VOC, Common Semantic Segmentation and Datumaro datasets, with lazy masks and a pluggable adapter registry. */
export const PACKAGE_NAME = '@samtune/datasets';
