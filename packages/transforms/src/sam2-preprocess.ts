/**
 * SAM 2.1's image pre-processing (`sam2/utils/transforms.py`, `SAM2Transforms`): uint8 RGB → float
 * `/255` → resize to `size x size` WITHOUT keeping the aspect ratio (torchvision `Resize` on the float
 * tensor = bilinear, `align_corners=False`, antialiased) → `(x - mean) / std` on [0,1] values. No
 * padding. The geometry is a `stretch` `ResizeGeometry`: prompts scale by `size/W`, `size/H`; low-res
 * masks go straight to `(H,W)`.
 */
import { ResizeGeometry } from './geometry.js';
import type { RgbImage } from './image-io.js';
import { PadSizeError } from './normalize.js';
import type { PreprocessedImage } from './preprocess.js';
import { resizePlanes } from './resample.js';
import { SAM_IMAGE_SIZE } from './resize.js';

/** SAM 2.1's mean on [0,1] values (ImageNet). */
export const SAM2_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** SAM 2.1's std on [0,1] values (ImageNet). */
export const SAM2_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/**
 * @param img ORIGINAL RGB image `(H,W,3)`.
 * @returns `tensor` Float32 `[1,3,size,size]` NCHW, with a `stretch` geometry (`inputSize = (size,size)`).
 */
export function preprocessImageSam2(
  img: RgbImage,
  size = SAM_IMAGE_SIZE,
  mean: readonly [number, number, number] = SAM2_MEAN,
  std: readonly [number, number, number] = SAM2_STD,
): PreprocessedImage {
  const { width: w, height: h, data } = img;
  if (data.length !== w * h * 3) {
    throw new PadSizeError(`preprocessImageSam2(img): expected data.length = H*W*3 = ${h * w * 3}, got ${data.length}`);
  }
  const unit = new Float32Array(data.length); // ToTensor: float32 v / 255
  for (let i = 0; i < data.length; i++) unit[i] = Math.fround((data[i] as number) / 255);
  const resized = resizePlanes(unit, w, h, size, size, 'torch-bilinear-aa', 3); // (size,size,3)
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const m = Math.fround(mean[c] as number);
    const s = Math.fround(std[c] as number);
    for (let i = 0; i < plane; i++)
      tensor[c * plane + i] = Math.fround(Math.fround((resized[i * 3 + c] as number) - m) / s);
  }
  const geometry = ResizeGeometry.forSize(img, size, { resize: 'stretch' });
  return { tensor, inputSize: geometry.inputSize, originalSize: geometry.originalSize, geometry };
}
