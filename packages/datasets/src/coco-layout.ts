/**
 * Where the COCO reader finds annotation files and their images: the folder layouts (standard,
 * COCO 2017, keypoints / stuff, Roboflow) and a lone JSON file.
 */
import { basename, join, resolve } from 'node:path';
import { isDir, isFile, listDir } from './context.js';

/** One annotation file, its subset and the folders its `file_name`s are looked up in (in order). */
export interface CocoSource {
  readonly subset: string;
  readonly file: string;
  readonly imageDirs: readonly string[];
}

const ROBOFLOW_FILE = '_annotations.coco.json';

/**
 * Annotation files of the `annotations/` folder, by kind. One file per subset is read: `instances_`,
 * else `person_keypoints_` / `stuff_`, else `panoptic_` (PNG segments, see `coco-panoptic.ts`).
 */
const ANNOTATION_FILE = /^(instances|person_keypoints|stuff|panoptic)_(.+)\.json$/;
const RANK: Readonly<Record<string, number>> = { instances: 0, person_keypoints: 1, stuff: 1, panoptic: 2 };

/** The annotation files of a COCO folder (see the `coco.ts` module comment). */
export async function findSources(root: string): Promise<CocoSource[]> {
  const out: CocoSource[] = [];
  const bySubset = new Map<string, { kind: string; name: string }>();
  for (const name of await listDir(join(root, 'annotations'))) {
    const m = ANNOTATION_FILE.exec(name);
    if (!m?.[1] || !m[2]) continue;
    const prev = bySubset.get(m[2]);
    if (!prev || (RANK[m[1]] ?? 9) < (RANK[prev.kind] ?? 9)) bySubset.set(m[2], { kind: m[1], name });
  }
  for (const [subset, { name }] of bySubset)
    out.push({
      subset,
      file: join(root, 'annotations', name),
      imageDirs: [join(root, 'images', subset), join(root, 'images'), join(root, subset)],
    });
  if (await isFile(join(root, ROBOFLOW_FILE)))
    out.push({ subset: 'default', file: join(root, ROBOFLOW_FILE), imageDirs: [root] });
  for (const name of await listDir(root)) {
    const dir = join(root, name);
    if (name !== 'annotations' && (await isDir(dir)) && (await isFile(join(dir, ROBOFLOW_FILE)))) {
      out.push({ subset: name, file: join(dir, ROBOFLOW_FILE), imageDirs: [dir] });
    }
  }
  return out;
}

/** Why an image is missing: where it was looked for, and the flag that names another folder. */
export function missingImageDetail(dirs: readonly string[]): string {
  return `does not exist (looked in ${dirs.map((d) => `'${d}'`).join(', ')}); give the image folder with --images <dir> (LoadOptions.images)`;
}

/**
 * A lone JSON file: `file_name`s resolve in `imageDir`; without it, in the file's folder, then, when
 * that folder is `annotations/` (the COCO 2017 layout, `annotations/instances_val2017.json`), in
 * `../<subset>/`, `../images/<subset>/` and `../images/`. The subset is `<subset>` for
 * `instances_<subset>.json` (also `person_keypoints_` / `stuff_` / `panoptic_`), else `default`.
 */
export function fileSource(file: string, imageDir?: string): CocoSource {
  const abs = resolve(file);
  const named = ANNOTATION_FILE.exec(basename(abs))?.[2];
  const dir = join(abs, '..');
  const parent = join(dir, '..');
  const layout = basename(dir) === 'annotations';
  const imageDirs = imageDir
    ? [resolve(imageDir)]
    : [
        dir,
        ...(layout && named ? [join(parent, named), join(parent, 'images', named)] : []),
        ...(layout ? [join(parent, 'images')] : []),
      ];
  return { subset: named ?? 'default', file: abs, imageDirs };
}
