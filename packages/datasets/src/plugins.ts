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
import { listDatasetAdapters, registerDatasetAdapter } from './registry.js';
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
  override readonly name = 'PluginLoadError';
}

const loaded = new Set<string>();

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
 * Imports each plugin (see the module comment) once per thread, relative to `base`.
 * @returns the names of the adapters that were added
 * @throws PluginLoadError naming the plugin and what went wrong
 */
export async function loadDatasetPlugins(specs: readonly string[], base = process.cwd()): Promise<string[]> {
  const before = new Set(listDatasetAdapters().map((a) => a.name));
  for (const spec of specs) {
    const url = resolvePluginSpecifier(spec, base);
    if (loaded.has(url)) continue;
    let mod: { default?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown };
    } catch (e) {
      throw new PluginLoadError(`loadDatasetPlugins(${spec}): cannot import ${url}: ${(e as Error).message}`);
    }
    loaded.add(url);
    await apply(mod.default, url, spec);
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
