/** One `<object>` of a Pascal VOC annotation file, as the VOC reader parsed it. */
import type { DatasetError } from './errors.js';

/** An XML `<object>` after validation. */
export interface VocObject {
  readonly index: number;
  readonly name: string;
  readonly box: readonly [number, number, number, number] | undefined;
  readonly attributes: Record<string, string | number | boolean>;
  readonly error: DatasetError | undefined;
}
