/**
 * Adapter registry, format auto-detection and `loadDataset`. Built-ins: datumaro, coco, voc, css,
 * labelme, yolo, sa1b.
 * Registered adapters are tried before the built-ins (latest first), so a user adapter can claim a
 * layout that a built-in would also accept.
 */
import { resolve } from 'node:path';
import type { DatasetAdapter } from './adapter.js';
import { cocoAdapter, cocoFileAdapter } from './coco.js';
import { LoadContext, isDir, isFile } from './context.js';
import { cssAdapter } from './css.js';
import { datumaroAdapter } from './datumaro.js';
import { labelMeAdapter } from './labelme.js';
import { sa1bAdapter } from './sa1b.js';
import { yoloAdapter } from './yolo.js';
import { AdapterRegistrationError, DatasetFormatError, DuplicateIdError } from './errors.js';
import type { Dataset, DatasetItem, LoadOptions } from './model.js';
import { splitDataset } from './split.js';
import { vocAdapter } from './voc.js';

const BUILTINS: readonly DatasetAdapter[] = [
  datumaroAdapter,
  cocoAdapter,
  vocAdapter,
  cssAdapter,
  labelMeAdapter,
  yoloAdapter,
  sa1bAdapter,
];
const registered: DatasetAdapter[] = [];

/** Names of the built-in formats, in detection order. */
export const BUILTIN_FORMATS: readonly string[] = BUILTINS.map((a) => a.name);

/**
 * Adds a format. `name` must be new (not a built-in or registered name) and must not be `auto`.
 * @example registerDatasetAdapter({ name: 'my-csv', detect: (root) => existsSync(join(root, 'labels.csv')), load })
 */
export function registerDatasetAdapter(adapter: DatasetAdapter): void {
  if (typeof adapter?.name !== 'string' || !/^[a-z0-9][a-z0-9_.-]*$/i.test(adapter.name) || adapter.name === 'auto') {
    throw new AdapterRegistrationError(
      `registerDatasetAdapter(adapter): expected a name of letters, digits, '_', '.', '-' (not 'auto'), got ${JSON.stringify(adapter?.name)}`,
    );
  }
  if (typeof adapter.detect !== 'function' || typeof adapter.load !== 'function') {
    throw new AdapterRegistrationError(
      `registerDatasetAdapter(adapter): expected functions detect(root) and load(root, ctx) on '${adapter.name}'`,
    );
  }
  if (listDatasetAdapters().some((a) => a.name === adapter.name)) {
    throw new AdapterRegistrationError(
      `registerDatasetAdapter(adapter): an adapter named '${adapter.name}' already exists`,
    );
  }
  registered.unshift(adapter);
}

/** Removes a registered adapter; returns false when none had that name (built-ins cannot be removed). */
export function unregisterDatasetAdapter(name: string): boolean {
  const i = registered.findIndex((a) => a.name === name);
  if (i < 0) return false;
  registered.splice(i, 1);
  return true;
}

/** Every adapter in detection order: registered (latest first), then the built-ins. */
export function listDatasetAdapters(): readonly DatasetAdapter[] {
  return [...registered, ...BUILTINS];
}

/** Names of the adapters whose `detect` accepts `root`, in detection order. */
export async function detectDatasetFormats(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const a of listDatasetAdapters()) if (await a.detect(resolve(root))) out.push(a.name);
  return out;
}

function adapterFor(name: string): DatasetAdapter {
  const a = listDatasetAdapters().find((x) => x.name === name);
  if (!a) {
    throw new DatasetFormatError(
      `loadDataset(options.format): expected 'auto' or one of ${listDatasetAdapters()
        .map((x) => `'${x.name}'`)
        .join(', ')}, got '${name}'`,
    );
  }
  return a;
}

/**
 * Loads a dataset directory, or a COCO instances `.json` file (images in `options.images`, default
 * its folder; see `cocoFileAdapter`), into the item model.
 * Bad input is reported in `Dataset.skipped` and skipped (or thrown with `strict: true`).
 * @throws DatasetFormatError when `root` is neither a directory nor a JSON file, no adapter recognises it, or `format` is unknown.
 */
export async function loadDataset(root: string, options: LoadOptions = {}): Promise<Dataset> {
  const abs = resolve(root);
  const cocoFile = /\.json$/i.test(abs) && (await isFile(abs));
  if (cocoFile && (options.format ?? 'auto') !== 'auto' && options.format !== 'coco')
    throw new DatasetFormatError(
      `loadDataset(root): '${abs}' is a JSON file, which is read as COCO instances; got format '${options.format}'`,
    );
  if (!cocoFile && !(await isDir(abs)))
    throw new DatasetFormatError(
      `loadDataset(root): expected an existing directory, got '${abs}', which ${(await isFile(abs)) ? 'is a file' : 'does not exist'}`,
    );
  const format = options.format ?? 'auto';
  let adapter: DatasetAdapter;
  if (cocoFile) adapter = cocoFileAdapter(abs, options.images);
  else if (format === 'auto') {
    const found = await detectDatasetFormats(abs);
    if (found.length === 0) {
      throw new DatasetFormatError(
        `loadDataset(root): no adapter recognises '${abs}'; tried ${listDatasetAdapters()
          .map((a) => a.name)
          .join(', ')} (see the @samtune/datasets README for each layout)`,
      );
    }
    adapter = adapterFor(found[0] as string);
  } else adapter = adapterFor(format);
  const ctx = new LoadContext(
    options.strict ?? false,
    options.imageCheck ?? 'header',
    options.concurrency ?? 8,
    options.allowImagesOutsideRoot ?? process.env.SAMTUNE_ALLOW_IMAGES_OUTSIDE_ROOT === '1',
  );
  const result = await adapter.load(abs, ctx);
  const subsets: Record<string, DatasetItem[]> = {};
  const ids = new Map<string, Set<string>>();
  for (const item of result.items) {
    const seen = ids.get(item.subset) ?? new Set<string>();
    ids.set(item.subset, seen);
    if (seen.has(item.id)) {
      ctx.report(
        new DuplicateIdError(
          { reader: 'loadDataset', file: item.imagePath, subset: item.subset, itemId: item.id },
          'item',
          item.id,
          'item',
        ),
      );
      continue;
    }
    seen.add(item.id);
    (subsets[item.subset] ??= []).push(item);
  }
  const ds: Dataset = {
    format: adapter.name,
    root: abs,
    labels: [...result.labels].sort((a, b) => a.id - b.id),
    subsets,
    skipped: ctx.skipped,
  };
  return options.split ? splitDataset(ds, options.split) : ds;
}
