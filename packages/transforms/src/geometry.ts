/**
 * The reversible geometry of SAM's preprocessing (`ResizeLongestSide` + bottom/right padding).
 *
 * Two frames:
 * - ORIGINAL: pixels of the image as decoded, size `(H,W)`.
 * - MODEL (the 1024 frame): the image resized to `(h,w)` with `max(h,w) = 1024`, placed at the top-left
 *   of a `1024 x 1024` square (padding bottom/right).
 *
 * Coordinates are XY in pixel units; boxes are XYXY. As in the official `apply_coords`, a coordinate is
 * scaled per axis: `x' = x * (w / W)`, `y' = y * (h / H)` (no offset: the prompt encoder adds the 0.5
 * pixel-centre shift itself). The `uniform` option scales both axes by `1024 / max(H,W)` instead (what
 * the reference training-step fixture used for `boxes_1024`; it differs by < 0.5 model pixel).
 * Masks are resampled on pixel centres (pixel `i` covers `[i, i+1)`).
 *
 * SAM 2.1 (`resize: 'stretch'`): the image is stretched to the whole square (no aspect ratio, no
 * padding), so `inputSize = (1024,1024)` and a coordinate scales by `1024/W`, `1024/H`.
 */
import {
  assertMask,
  cropPadPlane,
  resizeMask,
  MaskShapeError,
  type BinaryMask,
  type ImageSize,
  type MaskResizeMethod,
} from './mask.js';
import { getPreprocessShape, SAM_IMAGE_SIZE } from './resize.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** A point `[x, y]` in pixel units. */
export type Point = readonly [number, number];
/** A box `[x0, y0, x1, y1]` (XYXY) in pixel units. */
export type Box = readonly [number, number, number, number];

/** Thrown when a coordinate buffer has the wrong length. */
export class CoordsShapeError extends SamtuneError {
  readonly code: string = 'coords-shape';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'CoordsShapeError';
}

/**
 * How prompt coordinates are scaled: `per-axis` (official `ResizeLongestSide.apply_coords`: x by `w/W`,
 * y by `h/H`) or `uniform` (both by `targetLength / max(H,W)`).
 */
export type CoordinateScale = 'per-axis' | 'uniform';

/**
 * How the image fills the model frame: `longest-side` (SAM 1: `ResizeLongestSide` + bottom/right
 * padding) or `stretch` (SAM 2.1: resized to the full square, aspect ratio not kept).
 */
export type FrameResize = 'longest-side' | 'stretch';

/** Options of `ResizeGeometry`. */
export interface ResizeGeometryOptions {
  /** Default `per-axis` (the official predictor). */
  readonly coordinateScale?: CoordinateScale;
  /** Default `longest-side` (SAM 1). */
  readonly resize?: FrameResize;
}

/** Serializable form of a `ResizeGeometry`. */
export interface ResizeGeometryJSON {
  readonly originalSize: readonly [number, number];
  readonly inputSize: readonly [number, number];
  readonly targetLength: number;
  readonly coordinateScale: CoordinateScale;
  /** Absent in JSON written before SAM 2.1 support: `longest-side`. */
  readonly resize?: FrameResize;
}

/** Maps coordinates, boxes and masks between the ORIGINAL frame and the MODEL (1024) frame. */
export class ResizeGeometry {
  /** `(H,W)` of the original image. */
  readonly originalSize: readonly [number, number];
  /** `(h,w)` of the resized image inside the model frame (`getPreprocessShape`). */
  readonly inputSize: readonly [number, number];
  /** Side of the square model frame (1024). */
  readonly targetLength: number;
  /** How coordinates are scaled (see `CoordinateScale`). */
  readonly coordinateScale: CoordinateScale;
  /** How the image fills the model frame (see `FrameResize`). */
  readonly resize: FrameResize;
  /** Original x → model x: `w / W` (`per-axis`) or `targetLength / max(H,W)` (`uniform`). */
  readonly scaleX: number;
  /** Original y → model y: `h / H` (`per-axis`) or `targetLength / max(H,W)` (`uniform`). */
  readonly scaleY: number;

  /** @param originalSize `(H,W)` of the original image. */
  constructor(
    originalSize: readonly [number, number],
    targetLength = SAM_IMAGE_SIZE,
    options: ResizeGeometryOptions = {},
  ) {
    const [H, W] = originalSize;
    this.resize = options.resize ?? 'longest-side';
    this.inputSize = this.resize === 'stretch' ? [targetLength, targetLength] : getPreprocessShape(H, W, targetLength);
    this.originalSize = [H, W];
    this.targetLength = targetLength;
    this.coordinateScale = options.coordinateScale ?? 'per-axis';
    const uniform = targetLength / Math.max(H, W);
    this.scaleX = this.coordinateScale === 'uniform' ? uniform : this.inputSize[1] / W;
    this.scaleY = this.coordinateScale === 'uniform' ? uniform : this.inputSize[0] / H;
  }

  /** The geometry of an image (or mask) of size `{ width, height }`. */
  static forSize(size: ImageSize, targetLength = SAM_IMAGE_SIZE, options: ResizeGeometryOptions = {}): ResizeGeometry {
    return new ResizeGeometry([size.height, size.width], targetLength, options);
  }

  /** Rebuilds a geometry from `toJSON()`. */
  static fromJSON(json: ResizeGeometryJSON): ResizeGeometry {
    return new ResizeGeometry(json.originalSize, json.targetLength, {
      coordinateScale: json.coordinateScale,
      resize: json.resize ?? 'longest-side',
    });
  }

  /** `{ originalSize, inputSize, targetLength, coordinateScale, resize }`. */
  toJSON(): ResizeGeometryJSON {
    return {
      originalSize: this.originalSize,
      inputSize: this.inputSize,
      targetLength: this.targetLength,
      coordinateScale: this.coordinateScale,
      resize: this.resize,
    };
  }

  /** ORIGINAL `[x, y]` → MODEL `[x, y]`. */
  pointToModel(p: Point): [number, number] {
    return [p[0] * this.scaleX, p[1] * this.scaleY];
  }

  /** MODEL `[x, y]` → ORIGINAL `[x, y]` (exact inverse of `pointToModel`). */
  pointFromModel(p: Point): [number, number] {
    return [p[0] / this.scaleX, p[1] / this.scaleY];
  }

  /** ORIGINAL XYXY box → MODEL XYXY box. */
  boxToModel(b: Box): [number, number, number, number] {
    return [b[0] * this.scaleX, b[1] * this.scaleY, b[2] * this.scaleX, b[3] * this.scaleY];
  }

  /** MODEL XYXY box → ORIGINAL XYXY box. */
  boxFromModel(b: Box): [number, number, number, number] {
    return [b[0] / this.scaleX, b[1] / this.scaleY, b[2] / this.scaleX, b[3] / this.scaleY];
  }

  /**
   * Flat XY pairs `[N,2]` (or XYXY boxes `[N,4]`, which are pairs too) ORIGINAL → MODEL, as float32
   * ready for the prompt encoder (the official `apply_coords` / `apply_boxes`).
   */
  pointsToModel(coords: ArrayLike<number>): Float32Array {
    return this.scalePairs('pointsToModel', coords, false);
  }

  /** Flat XY pairs `[N,2]` (or boxes `[N,4]`) MODEL → ORIGINAL, float32. */
  pointsFromModel(coords: ArrayLike<number>): Float32Array {
    return this.scalePairs('pointsFromModel', coords, true);
  }

  /** Flat XYXY boxes `[N,4]` ORIGINAL → MODEL, float32. */
  boxesToModel(boxes: ArrayLike<number>): Float32Array {
    if (boxes.length % 4 !== 0)
      throw new CoordsShapeError(`boxesToModel(boxes): expected a flat [N,4] XYXY array, got length ${boxes.length}`);
    return this.pointsToModel(boxes);
  }

  /** Flat XYXY boxes `[N,4]` MODEL → ORIGINAL, float32. */
  boxesFromModel(boxes: ArrayLike<number>): Float32Array {
    if (boxes.length % 4 !== 0)
      throw new CoordsShapeError(`boxesFromModel(boxes): expected a flat [N,4] XYXY array, got length ${boxes.length}`);
    return this.pointsFromModel(boxes);
  }

  /**
   * ORIGINAL mask `(H,W)` → MODEL mask `(1024,1024)`: resize to `(h,w)` with `method`, then zero-pad
   * bottom/right.
   */
  maskToModel(mask: BinaryMask, method: MaskResizeMethod = 'bilinear'): BinaryMask {
    const [H, W] = this.originalSize;
    const [h, w] = this.inputSize;
    const t = this.targetLength;
    assertMask('maskToModel', 'mask', mask);
    if (mask.width !== W || mask.height !== H) {
      throw new MaskShapeError(
        `maskToModel(mask): expected the original size (H,W)=(${H},${W}), got (${mask.height},${mask.width})`,
      );
    }
    const resized = resizeMask(mask, w, h, method);
    return { width: t, height: t, data: cropPadPlane(resized.data, w, h, t, t) };
  }

  /**
   * MODEL mask → ORIGINAL mask `(H,W)`: accepts the padded `(1024,1024)` square or the unpadded `(h,w)`
   * input region; crops to `(h,w)`, then resizes to `(H,W)` with `method`.
   */
  maskFromModel(mask: BinaryMask, method: MaskResizeMethod = 'bilinear'): BinaryMask {
    const [H, W] = this.originalSize;
    const [h, w] = this.inputSize;
    const t = this.targetLength;
    assertMask('maskFromModel', 'mask', mask);
    const square = mask.width === t && mask.height === t;
    const input = mask.width === w && mask.height === h;
    if (!square && !input) {
      throw new MaskShapeError(
        `maskFromModel(mask): expected (H,W)=(${t},${t}) or the input size (${h},${w}), got (${mask.height},${mask.width})`,
      );
    }
    const cropped = square ? { width: w, height: h, data: cropPadPlane(mask.data, t, t, w, h) } : mask;
    return resizeMask(cropped, W, H, method);
  }

  private scalePairs(fn: string, coords: ArrayLike<number>, inverse: boolean): Float32Array {
    if (coords.length % 2 !== 0)
      throw new CoordsShapeError(`${fn}(coords): expected flat XY pairs [N,2], got odd length ${coords.length}`);
    const out = new Float32Array(coords.length);
    for (let i = 0; i < coords.length; i += 2) {
      const x = coords[i] as number;
      const y = coords[i + 1] as number;
      out[i] = inverse ? x / this.scaleX : x * this.scaleX;
      out[i + 1] = inverse ? y / this.scaleY : y * this.scaleY;
    }
    return out;
  }
}
