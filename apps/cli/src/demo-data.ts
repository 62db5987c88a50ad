/**
 * Where `samtune demo` finds its photos. The CLI package ships them: its build copies the repo's
 * `examples/plant-mini` (10 photos, CC BY 4.0, see its SOURCE.md) to `dist/examples/plant-mini`, so
 * an installed `@samtune/cli` has them next to its code. Run from the sources (`pnpm demo`), there is
 * no copy and the demo falls back to the repository's `examples/plant-mini` (found above the working
 * directory by `prepareDemo`).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The demo dataset's path below a demo root. */
export const DEMO_DATA_DIR = join('examples', 'plant-mini');

/**
 * The root that holds the shipped `examples/plant-mini` (the package's `dist/`), or undefined when
 * this module runs from `src/` (no copy there: the repository's data is used).
 * @param moduleUrl the URL of a module directly inside `dist/` or `src/` (default this one)
 */
export function bundledDemoRoot(moduleUrl: string = import.meta.url): string | undefined {
  const root = dirname(fileURLToPath(moduleUrl));
  return existsSync(join(root, DEMO_DATA_DIR, 'train', '_annotations.coco.json')) ? root : undefined;
}

/**
 * Options for `prepareDemo` that make the demo work installed: the shipped data as its root, and the
 * run directory under the working directory (`runs/demo`), never inside the installed package. From
 * the sources it adds nothing (the repository root is found as before).
 */
export function demoLocation(out: string | undefined, moduleUrl?: string): { cwd?: string; out?: string } {
  const bundled = bundledDemoRoot(moduleUrl);
  if (!bundled) return out !== undefined ? { out } : {};
  return { cwd: bundled, out: resolve(out ?? join('runs', 'demo')) };
}
