/**
 * VOC segmentation PNGs: instance masks (SegmentationObject, index = object number, 255 = void) with
 * classes voted from SegmentationClass, and class-only masks split into connected components.
 */
import { MalformedAnnotationError, UnknownCategoryError, type DatasetErrorLocation } from './errors.js';
import { indexMask, indexStats, type IndexMap } from './label-map.js';
import type { DatasetInstance, DatasetLabel } from './model.js';
import { readIndexMap, semanticInstances, type MaskColorRule, type SemanticRule } from './semantic.js';
import type { VocObject } from './voc-object.js';
import { VOC_COLOR_LOOKUP, VOC_VOID, type VocLabelSet } from './voc-labels.js';

/** Colour rule of a VOC mask: palette indices, RGB through the VOC colour map or `labelmap.txt` colours. */
export function vocMaskRule(kind: 'instance' | 'class', labels: VocLabelSet): MaskColorRule {
  if (kind === 'instance' || !labels.classColors) return { colors: VOC_COLOR_LOOKUP, paletteAsIndex: true };
  return { colors: labels.classColors, paletteAsIndex: false };
}

/** Reads a VOC mask PNG as an index map checked against the image size. */
export function readMaskMap(
  path: string,
  kind: 'instance' | 'class',
  size: { width: number; height: number },
  loc: DatasetErrorLocation,
  labels: VocLabelSet,
): Promise<IndexMap> {
  return readIndexMap(path, vocMaskRule(kind, labels), size, loc);
}

function labelIndex(labels: VocLabelSet): Map<number, DatasetLabel> {
  return new Map(labels.labels.map((l) => [l.id, l]));
}

/** Class-only segmentation: one instance per 8-connected component of each instance class. */
export function vocSemanticInstances(
  path: string,
  clsMap: IndexMap,
  labels: VocLabelSet,
  loc: DatasetErrorLocation,
): (() => DatasetInstance)[] {
  const byId = labelIndex(labels);
  const rule: SemanticRule & MaskColorRule = {
    ...vocMaskRule('class', labels),
    isInstanceIndex: (i) => !labels.nonInstance.has(i),
    labelOf: (i) => byId.get(i),
    known: [...byId.keys()],
  };
  return semanticInstances(path, clsMap, rule, loc);
}

/** One builder per instance index present in the SegmentationObject map. */
export function vocInstanceMasks(
  objPath: string,
  objMap: IndexMap,
  clsMap: IndexMap | undefined,
  objects: readonly VocObject[],
  labels: VocLabelSet,
  loc: DatasetErrorLocation,
): { index: number; build: () => DatasetInstance }[] {
  const byId = labelIndex(labels);
  const stats = indexStats(objMap, (i) => i > 0 && i !== VOC_VOID);
  const votes = new Map<number, Map<number, number>>();
  if (clsMap) {
    for (let p = 0; p < objMap.data.length; p++) {
      const k = objMap.data[p] as number;
      const c = clsMap.data[p] as number;
      if (!stats.has(k) || labels.nonInstance.has(c)) continue;
      const v = votes.get(k) ?? new Map<number, number>();
      votes.set(k, v);
      v.set(c, (v.get(c) ?? 0) + 1);
    }
  }
  const size = { width: objMap.width, height: objMap.height };
  return [...stats.keys()]
    .sort((a, b) => a - b)
    .map((k) => ({
      index: k,
      build: (): DatasetInstance => {
        const id = `obj${k}`;
        const iloc = { ...loc, annotationId: id };
        const obj = objects.find((o) => o.index === k);
        let label: DatasetLabel | undefined;
        const v = votes.get(k);
        if (v && v.size > 0) {
          const [cls] = [...v.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] as [number, number];
          label = byId.get(cls);
          if (!label) throw new UnknownCategoryError(iloc, cls, [...byId.keys()]);
        } else if (obj) {
          if (obj.error) throw obj.error;
          label = labels.byName.get(obj.name);
        }
        if (!label)
          throw new MalformedAnnotationError(
            iloc,
            `instance index ${k} has no class: no SegmentationClass pixels and no XML object ${k}`,
            'annotation',
          );
        const attributes: Record<string, string | number | boolean> = {
          ...(obj?.attributes ?? {}),
          area: (stats.get(k) as { area: number }).area,
        };
        if (obj && obj.name !== label.name) attributes.xmlLabel = obj.name;
        const rule = vocMaskRule('instance', labels);
        return {
          id,
          label,
          box: (stats.get(k) as { box: [number, number, number, number] }).box,
          iscrowd: false,
          maskSource: 'png',
          attributes,
          mask: async () => indexMask(await readIndexMap(objPath, rule, size, loc), k),
        };
      },
    }));
}
