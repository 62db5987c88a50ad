/**
 * Pascal VOC label set: the 20 classes (ids 1..20, 0 = background, 255 = void) or a Datumaro/CVAT
 * `labelmap.txt` (`name:r,g,b:parts:actions` per line, id = line order).
 */
import { readFile } from 'node:fs/promises';
import { MalformedAnnotationError } from './errors.js';
import { colorLookup, vocColormap } from './label-map.js';
import type { DatasetLabel } from './model.js';

/** The VOC classes; index + 1 is the class id. */
export const VOC_CLASSES: readonly string[] = [
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
];

/** VOC's void / "difficult border" index. */
export const VOC_VOID = 255;

/** Labels of a VOC dataset and how class-mask colours map to label ids. */
export interface VocLabelSet {
  /** Instance labels (background and void excluded). */
  readonly labels: readonly DatasetLabel[];
  readonly byName: ReadonlyMap<string, DatasetLabel>;
  /** Class indices that are not instances (background, void). */
  readonly nonInstance: ReadonlySet<number>;
  /** RGB -> class id for class masks, or undefined to use palette indices / the VOC colour map. */
  readonly classColors: Map<number, number> | undefined;
}

const NON_INSTANCE_NAMES = new Set(['background', '_background_', 'ignored', 'void']);

function build(names: readonly (string | undefined)[], classColors: Map<number, number> | undefined): VocLabelSet {
  const labels: DatasetLabel[] = [];
  const nonInstance = new Set<number>([VOC_VOID]);
  names.forEach((name, id) => {
    if (name === undefined) return;
    if (NON_INSTANCE_NAMES.has(name.toLowerCase())) nonInstance.add(id);
    else labels.push({ id, name });
  });
  return { labels, byName: new Map(labels.map((l) => [l.name, l])), nonInstance, classColors };
}

/** The standard VOC label set. */
export function defaultVocLabels(): VocLabelSet {
  return build(['background', ...VOC_CLASSES], undefined);
}

/** RGB -> index lookup of the VOC colour map (all 256 entries). */
export const VOC_COLOR_LOOKUP = colorLookup(vocColormap(256));

/**
 * Parses `labelmap.txt`. Lines: `name:r,g,b:parts:actions` (colour may be empty); `#` comments.
 * @throws MalformedAnnotationError (scope `file`) for a bad line.
 */
export async function readVocLabelMap(path: string): Promise<VocLabelSet> {
  const text = await readFile(path, 'utf8');
  const names: string[] = [];
  const colors: number[] = [];
  let anyColor = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(':');
    const loc = { reader: 'loadVoc', file: path, annotationId: `line ${i + 1}` };
    const name = fields[0]?.trim() ?? '';
    if (!name || fields.length > 4)
      throw new MalformedAnnotationError(loc, `expected 'name:r,g,b:parts:actions', got '${line}'`, 'file');
    if (names.includes(name)) throw new MalformedAnnotationError(loc, `label '${name}' is defined twice`, 'file');
    const color = (fields[1] ?? '').trim();
    let rgb = [-1, -1, -1];
    if (color) {
      rgb = color.split(',').map((c) => Number(c.trim()));
      if (rgb.length !== 3 || rgb.some((c) => !Number.isInteger(c) || c < 0 || c > 255)) {
        throw new MalformedAnnotationError(loc, `expected colour 'r,g,b' with integers 0..255, got '${color}'`, 'file');
      }
      anyColor = true;
    }
    names.push(name);
    colors.push(...rgb);
  });
  let classColors: Map<number, number> | undefined;
  if (anyColor) {
    classColors = new Map();
    for (let i = 0; i < names.length; i++) {
      const [r, g, b] = colors.slice(i * 3, i * 3 + 3) as [number, number, number];
      if (r >= 0) classColors.set((r << 16) | (g << 8) | b, i);
    }
    // Void keeps its standard colour unless the label map claims it.
    const voidKey = (224 << 16) | (224 << 8) | 192;
    if (!classColors.has(voidKey)) classColors.set(voidKey, VOC_VOID);
  }
  return build(names, classColors);
}
