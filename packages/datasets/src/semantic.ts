/**
 * Mask PNGs as index maps (with the size and colour checks every reader needs), and instances from a
 * semantic (class-per-pixel) map: one instance per 8-connected component of each instance class.
 */
import { readFile } from 'node:fs/promises';
import {
  MaskDecodeError,
  MaskSizeMismatchError,
  UnknownCategoryError,
  UnreadableMaskError,
  type DatasetErrorLocation,
} from './errors.js';
import { componentMask, connectedComponents, pngToIndexMap, type IndexMap } from './label-map.js';
import type { DatasetInstance, DatasetLabel } from './model.js';
import { decodePng, PngDecodeError, readPngHeader } from './png.js';

/** How a mask PNG's pixels become indices (see `pngToIndexMap`). */
export interface MaskColorRule {
  readonly colors: Map<number, number> | undefined;
  readonly paletteAsIndex: boolean;
}

/**
 * Reads a mask PNG into an index map and checks it against the image size.
 * @throws UnreadableMaskError (not a PNG, corrupt, unknown colour), MaskSizeMismatchError.
 */
export async function readIndexMap(
  path: string,
  rule: MaskColorRule,
  image: { width: number; height: number },
  loc: DatasetErrorLocation,
): Promise<IndexMap> {
  let png;
  try {
    const bytes = await readFile(path);
    const header = readPngHeader(bytes, path); // the size is checked before anything is inflated
    if (header.width !== image.width || header.height !== image.height)
      throw new MaskSizeMismatchError(loc, path, header, image);
    png = await decodePng(bytes, path);
  } catch (err) {
    if (err instanceof MaskSizeMismatchError) throw err;
    if (err instanceof PngDecodeError || (err as NodeJS.ErrnoException).code !== undefined) {
      throw new UnreadableMaskError(loc, path, err instanceof Error ? err.message : String(err));
    }
    throw err;
  }
  const res = pngToIndexMap(png, rule.colors, rule.paletteAsIndex);
  if (!res.ok) throw new UnreadableMaskError(loc, path, res.reason);
  return res.map;
}

/** Describes which indices of a semantic map are instance classes, and their labels. */
export interface SemanticRule {
  /** False for background, void and ignore indices. */
  isInstanceIndex(index: number): boolean;
  /** The label of an instance index, or undefined when the dataset does not declare it. */
  labelOf(index: number): DatasetLabel | undefined;
  /** Declared ids, for error messages. */
  readonly known: readonly (string | number)[];
}

/**
 * One factory per connected component (8-connectivity) of every instance index in `map`, in raster
 * order of the components' first pixels. A factory throws UnknownCategoryError for an undeclared
 * index. The instance's mask re-reads `maskPath` and flood-fills from the component's first pixel.
 */
export function semanticInstances(
  maskPath: string,
  map: IndexMap,
  rule: SemanticRule & MaskColorRule,
  loc: DatasetErrorLocation,
): (() => DatasetInstance)[] {
  const image = { width: map.width, height: map.height };
  return connectedComponents(map, (i) => rule.isInstanceIndex(i)).map((c, n) => () => {
    const id = `cc${n + 1}`;
    const label = rule.labelOf(c.index);
    if (!label) throw new UnknownCategoryError({ ...loc, annotationId: id }, c.index, rule.known);
    return {
      id,
      label,
      box: c.box,
      iscrowd: false,
      maskSource: 'semantic',
      attributes: { area: c.area },
      mask: async () => {
        const fresh = await readIndexMap(maskPath, rule, image, loc);
        if (fresh.data[c.seed] !== c.index) {
          throw new MaskDecodeError(
            `instance.mask(): '${maskPath}' changed since loading: expected index ${c.index} at pixel ${c.seed}, got ${fresh.data[c.seed]}`,
          );
        }
        return componentMask(fresh, c.seed);
      },
    };
  });
}
