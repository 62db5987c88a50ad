/**
 * Dataset plugins: modules that add adapters before a command runs (`samtune --plugin <module>`, a
 * `samtune.config.mjs` in the working directory, `data.plugins` of a training config, which the
 * training worker thread loads too). A plugin module's default export is one of:
 * - a `DatasetAdapter`, or an array of them;
 * - a function `(samtune) => void | Promise<void>` that receives `registerDatasetAdapter` and the
 *   shape helpers (`samtune.boxMask`, `samtune.checkBox`, …) — a plugin then needs no import of
 *   `@samtune/datasets`, so it works wherever the file lives;
 * - `{ adapters?: DatasetAdapter[], plugins?: string[] }` (a config file: more modules, relative to it).
 * A module may also call `registerDatasetAdapter` itself at import time when it resolves the same
 * `@samtune/datasets` as the command. Each module is loaded once per thread.
 *
 * A failing plugin is named by its file: an import that throws, a default-export function that
 * throws, an import or registration that does not settle within `timeoutMs` (a top-level await that
 * never settles would otherwise end the process silently with exit code 13), and later a `detect` or
 * `load` of one of its adapters that throws (`registry.ts`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import type { DatasetAdapter } from './adapter.js';
import { resolveContained } from './containment.js';
import { DatasetError, ImageOutsideRootError, UnknownCategoryError } from './errors.js';
import { rasterizePolygon } from './polygon.js';
import { readPng } from './png.js';
import { listDatasetAdapters, registerDatasetAdapter, setAdapterSource } from './registry.js';
import { decodeRleString } from './rle.js';
import { boxMask, checkBox, parsePolygon, parseRle, partsMask, xywhToXyxy } from './shapes.js';

/** The name of the config file looked for in the working directory. */
export const CONFIG_FILE_NAME = 'samtune.config.mjs';

/** What a function-style plugin receives. */
export const PLUGIN_API = {
  registerDatasetAdapter,
  listDatasetAdapters,
  boxMask,
  checkBox,
  parsePolygon,
  parseRle,
  partsMask,
  xywhToXyxy,
  rasterizePolygon,
  decodeRleString,
  readPng,
  resolveContained,
  DatasetError,
  ImageOutsideRootError,
  UnknownCategoryError,
} as const;

/** The type of `PLUGIN_API`. */
export type PluginApi = typeof PLUGIN_API;

/** Thrown when a plugin cannot be found, fails to load, or exports something else. */
export class PluginLoadError extends SamtuneError {
  readonly code: string = 'plugin-load';
  readonly kind: ErrorKind = 'input';
}

const loaded = new Set<string>();

/** How long a plugin may take to import and register (ms): `SAMTUNE_PLUGIN_TIMEOUT_MS`, default 30 s. */
export function pluginTimeoutMs(): number {
  const v = Number(process.env.SAMTUNE_PLUGIN_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/** `work`, or a `PluginLoadError` naming the plugin once `ms` have passed without it settling. */
async function bounded<T>(work: Promise<T>, ms: number, spec: string, file: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PluginLoadError(
            `loadDatasetPlugins(${spec}): ${file}: ${what} did not settle within ${ms} ms (a top-level await or a registration that never ends?); set SAMTUNE_PLUGIN_TIMEOUT_MS to wait longer`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The file of a plugin URL, for messages. */
const fileOf = (url: string): string => (url.startsWith('file:') ? fileURLToPath(url) : url);

/** A module specifier as an importable URL: paths resolve against `base`, package names from there. */
export function resolvePluginSpecifier(spec: string, base = process.cwd()): string {
  if (spec.startsWith('file:')) return spec;
  if (isAbsolute(spec) || spec.startsWith('.') || existsSync(resolve(base, spec)))
    return pathToFileURL(resolve(base, spec)).href;
  try {
    return pathToFileURL(createRequire(join(base, 'noop.js')).resolve(spec)).href;
  } catch (e) {
    throw new PluginLoadError(
      `loadDatasetPlugins(${spec}): expected a file path or an installed package name, found neither from ${base} (${(e as Error).message.split('\n')[0]})`,
    );
  }
}

function isAdapter(v: unknown): v is DatasetAdapter {
  return typeof v === 'object' && v !== null && typeof (v as DatasetAdapter).load === 'function';
}

async function apply(exported: unknown, url: string, spec: string): Promise<void> {
  if (exported === undefined) return; // registered at import time, or nothing
  if (typeof exported === 'function') return void (await (exported as (api: PluginApi) => unknown)(PLUGIN_API));
  if (isAdapter(exported)) return registerDatasetAdapter(exported);
  if (Array.isArray(exported)) {
    for (const a of exported) await apply(a, url, spec);
    return;
  }
  if (typeof exported === 'object' && exported !== null) {
    const o = exported as { adapters?: unknown; plugins?: unknown };
    if (o.adapters !== undefined) await apply(o.adapters, url, spec);
    if (Array.isArray(o.plugins))
      await loadDatasetPlugins(
        o.plugins.map((p) => String(p)),
        dirname(fileURLToPath(url)),
      );
    if (o.adapters !== undefined || o.plugins !== undefined) return;
  }
  throw new PluginLoadError(
    `loadDatasetPlugins(${spec}): expected the default export to be a dataset adapter {name, detect, load}, an array of them, a function (samtune) => void, or {adapters, plugins}; got ${Array.isArray(exported) ? 'an array' : typeof exported}`,
  );
}

/**
 * Imports each plugin (see the module comment) once per thread, relative to `base`; each import
 * and registration may take at most `options.timeoutMs` (default `pluginTimeoutMs()`).
 * @returns the names of the adapters that were added
 * @throws PluginLoadError naming the plugin and what went wrong
 */
export async function loadDatasetPlugins(
  specs: readonly string[],
  base = process.cwd(),
  options: { readonly timeoutMs?: number } = {},
): Promise<string[]> {
  const ms = options.timeoutMs ?? pluginTimeoutMs();
  const before = new Set(listDatasetAdapters().map((a) => a.name));
  for (const spec of specs) {
    const url = resolvePluginSpecifier(spec, base);
    if (loaded.has(url)) continue;
    const file = fileOf(url);
    const had = new Set(listDatasetAdapters().map((a) => a.name));
    let mod: { default?: unknown };
    try {
      mod = await bounded(import(url) as Promise<{ default?: unknown }>, ms, spec, file, 'the import');
    } catch (e) {
      if (e instanceof PluginLoadError) throw e;
      throw new PluginLoadError(`loadDatasetPlugins(${spec}): cannot import ${url}: ${(e as Error).message}`);
    }
    loaded.add(url);
    try {
      await bounded(apply(mod.default, url, spec), ms, spec, file, 'the default export (registration)');
    } catch (e) {
      if (e instanceof PluginLoadError) throw e;
      throw new PluginLoadError(
        `loadDatasetPlugins(${spec}): ${file}: registering the plugin threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      );
    } finally {
      for (const a of listDatasetAdapters()) if (!had.has(a.name)) setAdapterSource(a.name, file);
    }
  }
  return listDatasetAdapters()
    .map((a) => a.name)
    .filter((n) => !before.has(n));
}

/** `samtune.config.mjs` in `dir`, when there is one. */
export function findConfigFile(dir = process.cwd()): string | undefined {
  const p = join(dir, CONFIG_FILE_NAME);
  return existsSync(p) ? p : undefined;
}
