/**
 * The COCO instances document that every samtune writer produces (`autolabel`, `samtune queue
 * collect`, the server's labels store), which `loadDataset` reads back: one type, with what each writer
 * adds as a type parameter (the annotations' segmentation and extra fields).
 */

/** Compressed COCO RLE: `counts` in pycocotools' string code; `size` is `[height, width]`. */
export interface CocoCompressedRle {
  readonly size: readonly [number, number];
  readonly counts: string;
}

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
  [extra: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [extra: string]: unknown;
}

/** One instance; `S` is the segmentation the writer stores (compressed RLE by default). */
export interface CocoAnnotation<S = CocoCompressedRle> {
  id: number;
  image_id: number;
  category_id: number;
  segmentation: S;
  area: number;
  /** `[x, y, width, height]` in pixels. */
  bbox: [number, number, number, number];
  iscrowd: 0 | 1;
  /** A model's confidence (samtune writes SAM's predicted IoU). */
  score?: number;
}

/** A COCO instances document with annotations `A`. */
export interface CocoDocument<A extends CocoAnnotation<unknown> = CocoAnnotation> {
  info?: { description?: string; date_created?: string; [extra: string]: unknown };
  images: CocoImage[];
  categories: CocoCategory[];
  annotations: A[];
  [extra: string]: unknown;
}
