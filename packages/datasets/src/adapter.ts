/**
 * The adapter contract: how a format is recognised and read. Built-in readers and user adapters
 * implement the same interface; see `registerDatasetAdapter`.
 */
import type { DatasetLoadContext } from './context.js';
import type { DatasetItem, DatasetLabel } from './model.js';

/** What an adapter's `load` returns; `loadDataset` groups items by `item.subset`. */
export interface AdapterResult {
  /** Every declared category (also those without instances). */
  readonly labels: readonly DatasetLabel[];
  readonly items: readonly DatasetItem[];
}

/** A dataset format reader. */
export interface DatasetAdapter {
  /** Unique name, used by `--format <name>` and reported as `Dataset.format`. */
  readonly name: string;
  /**
   * What the format looks for under a root, in a few words (e.g. `ImageSets/ with JPEGImages/ or
   * Annotations/`): named in the error when `--format <name>` is forced on a folder where it finds nothing.
   */
  readonly layout?: string;
  /** True when `root` looks like this format. Must be cheap (file names, at most a small read). */
  detect(root: string): boolean | Promise<boolean>;
  /**
   * Reads the dataset under `root`. Report bad input with `ctx.report(new SomeDatasetError(...))`
   * and skip it; throw only for problems that make the whole dataset unreadable.
   */
  load(root: string, ctx: DatasetLoadContext): Promise<AdapterResult>;
}

/** Item id from a file name: POSIX path without its extension. */
export function stemOf(fileName: string): string {
  const posix = fileName.replace(/\\/g, '/');
  const slash = posix.lastIndexOf('/');
  const dot = posix.lastIndexOf('.');
  return dot > slash + 1 ? posix.slice(0, dot) : posix;
}
