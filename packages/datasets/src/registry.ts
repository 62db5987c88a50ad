/**
 * Adapter registry, format auto-detection and `loadDataset`. Built-ins: datumaro, coco, voc, css,
 * labelme, yolo, sa1b.
 * Registered adapters are tried before the built-ins (latest first), so a user adapter can claim a
 * layout that a built-in would also accept.
 */
import { resolve } from 'node:path';
import { SamtuneError } from '@samtune/errors';
import type { DatasetAdapter } from './adapter.js';
import { cocoAdapter, cocoFileAdapter } from './coco.js';
import { LoadContext, isDir, isFile } from './context.js';
import { cssAdapter } from './css.js';
import { datumaroAdapter } from './datumaro.js';
import { labelMeAdapter } from './labelme.js';
import { sa1bAdapter } from './sa1b.js';
import { yoloAdapter } from './yolo.js';
import { AdapterRegistrationError, DatasetFormatError, DuplicateIdError, PluginAdapterError } from './errors.js';
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
/** Adapter name -> the plugin file that registered it (see `plugins.ts`). */
const sources = new Map<string, string>();

/** Records the plugin file an adapter came from (the first one recorded wins), so that its failures name the file. */
export function setAdapterSource(name: string, file: string): void {
  if (!sources.has(name)) sources.set(name, file);
}

/** Where an adapter came from, for messages: its plugin file, or "registered in code". */
function origin(name: string): string {
  const file = sources.get(name);
  return file !== undefined ? `plugin ${file}` : 'registered in code';
}

/** Names of the built-in formats, in detection order. */
export const BUILTIN_FORMATS: readonly string[] = BUILTINS.map((a) => a.name);

/**
 * Adds a format. `name` must be new (not a built-in or registered name) and must not be `auto`;
 * registering the same adapter object again is a no-op.
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
  // The same object again (a plugin that registers its adapter and also exports it as default): nothing to do.
  if (registered.includes(adapter) || BUILTINS.includes(adapter)) return;
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
  sources.delete(name);
  return true;
}

/** Every adapter in detection order: registered (latest first), then the built-ins. */
export function listDatasetAdapters(): readonly DatasetAdapter[] {
  return [...registered, ...BUILTINS];
}

/** An adapter whose `detect` threw: it counts as not recognising the folder. */
interface DetectFailure {
  readonly adapter: string;
  readonly error: PluginAdapterError;
}

/** Runs every adapter's `detect`; one that throws is passed over (and returned), never breaking the others. */
async function detectAll(root: string): Promise<{ found: string[]; failures: DetectFailure[] }> {
  const found: string[] = [];
  const failures: DetectFailure[] = [];
  for (const a of listDatasetAdapters()) {
    try {
      if (await a.detect(root)) found.push(a.name);
    } catch (e) {
      const detail = `adapter '${a.name}' (${origin(a.name)}): detect() threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}; the adapter was passed over`;
      failures.push({
        adapter: a.name,
        error: new PluginAdapterError({ reader: 'loadDataset', file: sources.get(a.name) ?? root }, detail, 'file'),
      });
    }
  }
  return { found, failures };
}

/** Names of the adapters whose `detect` accepts `root`, in detection order (a throwing `detect` counts as no). */
export async function detectDatasetFormats(root: string): Promise<string[]> {
  return (await detectAll(resolve(root))).found;
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

/** `--format <name>` was forced on a folder where that adapter finds nothing: say what it looked for. */
async function throwForcedFormatFoundNothing(adapter: DatasetAdapter, abs: string): Promise<never> {
  const detected = (await detectDatasetFormats(abs)).filter((n) => n !== adapter.name);
  throw new DatasetFormatError(
    `loadDataset(options.format): format '${adapter.name}' found no items in '${abs}'; it looks for ${
      adapter.layout ?? 'a layout its detect() accepts'
    }${detected.length > 0 ? `; the folder looks like ${detected.map((n) => `'${n}'`).join(', ')} (leave --format auto)` : ''}`,
  );
}

/** `adapter.load`; a plugin adapter's failure other than a dataset error is named with its plugin file. */
async function loadWith(adapter: DatasetAdapter, root: string, ctx: LoadContext): ReturnType<DatasetAdapter['load']> {
  const file = sources.get(adapter.name);
  try {
    return await adapter.load(root, ctx);
  } catch (e) {
    if (file === undefined || e instanceof SamtuneError) throw e;
    throw new PluginAdapterError(
      { reader: 'loadDataset', file },
      `adapter '${adapter.name}' (${origin(adapter.name)}): load('${root}') threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      'file',
    );
  }
}

/**
 * Loads a dataset directory, or a COCO instances `.json` file (images in `options.images`, default
 * its folder; see `cocoFileAdapter`), into the item model.
 * Bad input is reported in `Dataset.skipped` and skipped (or thrown with `strict: true`).
 * @throws DatasetFormatError when `root` is neither a directory nor a JSON file, no adapter recognises it,
 * `format` is unknown, or a forced `format` finds no items and reports nothing (the message names its layout).
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
  let failures: DetectFailure[] = [];
  if (cocoFile) adapter = cocoFileAdapter(abs, options.images);
  else if (format === 'auto') {
    const detected = await detectAll(abs);
    const found = detected.found;
    failures = detected.failures;
    if (found.length === 0) {
      throw new DatasetFormatError(
        `loadDataset(root): no adapter recognises '${abs}'; tried ${listDatasetAdapters()
          .map((a) => a.name)
          .join(
            ', ',
          )} (see the @samtune/datasets README for each layout)${failures.map((f) => `; ${f.error.detail}`).join('')}`,
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
  for (const f of failures) ctx.report(f.error);
  const result = await loadWith(adapter, abs, ctx);
  if (format !== 'auto' && !cocoFile && result.items.length === 0 && ctx.skipped.length === 0)
    await throwForcedFormatFoundNothing(adapter, abs);
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
