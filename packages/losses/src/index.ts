/** @samtune/losses: SAM fine-tuning losses: 20 * focal + dice + IoU-MSE, as pure tfjs functions. */
export const PACKAGE_NAME = '@samtune/losses';
