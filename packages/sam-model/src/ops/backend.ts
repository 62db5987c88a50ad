/**
 * tfjs backend selection at run time: `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`,
 * then tfjs `wasm`, then `cpu`. The native ones are optional peer dependencies of this package: used
 * when the application installed one, skipped ("is not installed") when not, and often unable to load
 * (no libtensorflow): a failed `require` is caught and the next one is tried.
 * `SAMTUNE_BACKEND=tensorflow-gpu|tensorflow|wasm|cpu` (or the `preferred` argument) forces one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

const require = createRequire(import.meta.url);

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  /** The backend now in use. */
  readonly name: BackendName;
  /** Why each earlier candidate was not used. */
  readonly skipped: readonly { name: BackendName; reason: string }[];
}

/** Thrown when a forced backend (argument or SAMTUNE_BACKEND) cannot be used. */
export class BackendUnavailableError extends SamtuneError {
  readonly code: string = 'backend-unavailable';
  readonly kind: ErrorKind = 'internal';
}

const NATIVE_MODULE: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let selected: BackendInfo | undefined;

/**
 * Why a native tfjs package cannot load, checked before `require` (a failed require of tfjs-node
 * still registers its kernels and floods the log), or undefined when its addon is present.
 */
function nativeAddonProblem(mod: string): string | undefined {
  let dir: string;
  try {
    dir = dirname(require.resolve(`${mod}/package.json`));
  } catch {
    return `${mod} is not installed`;
  }
  const lib = join(dir, 'lib');
  const found = existsSync(lib) && readdirSync(lib).some((d) => existsSync(join(lib, d, 'tfjs_binding.node')));
  return found ? undefined : `${mod} has no native addon (lib/napi-v*/tfjs_binding.node; its install step did not run)`;
}

async function tryBackend(name: BackendName): Promise<string | undefined> {
  try {
    const mod = NATIVE_MODULE[name];
    if (mod) {
      const problem = nativeAddonProblem(mod);
      if (problem) return problem;
      require(mod); // registers the 'tensorflow' backend (both packages use that name)
      if (!(await tf.setBackend('tensorflow'))) return `${mod} loaded but its backend did not initialise`;
      return undefined;
    }
    if (!(await tf.setBackend(name))) return `tfjs backend '${name}' did not initialise`;
    await tf.ready();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
}

function isBackendName(s: string): s is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(s);
}

/**
 * Selects (once) and returns the tfjs backend. Later calls return the same selection unless a
 * different `preferred` is passed.
 */
export async function initBackend(preferred: string | undefined = process.env.SAMTUNE_BACKEND): Promise<BackendInfo> {
  const want = preferred?.trim() || undefined;
  if (selected && (!want || want === selected.name)) return selected;
  if (want) {
    if (!isBackendName(want)) {
      throw new BackendUnavailableError(
        `initBackend(preferred): unknown backend '${want}' (SAMTUNE_BACKEND), expected one of ${BACKEND_ORDER.join(', ')}`,
      );
    }
    const reason = await tryBackend(want);
    if (reason)
      throw new BackendUnavailableError(`initBackend(preferred): backend '${want}' is not available: ${reason}`);
    selected = { name: want, skipped: [] };
    return selected;
  }
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of BACKEND_ORDER) {
    const reason = await tryBackend(name);
    if (!reason) {
      selected = { name, skipped };
      return selected;
    }
    skipped.push({ name, reason });
  }
  throw new BackendUnavailableError(
    `initBackend(): no tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}
