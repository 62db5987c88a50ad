/**
 * The run folder (`train --out`) before a run writes anything, and what a resume takes from it.
 * - A folder is a samtune run folder when it holds the marker file `.samtune-run` (written when a run
 *   starts) or a `state.safetensors` (runs from before the marker). An existing non-empty folder
 *   that is neither is refused, without touching any file in it, unless `existOk`.
 * - `--resume` continues with the stored config, but never with the stored `data.plugins`: a run
 *   folder (its state file or a copied `config.yaml`) must never name code to run, so a resume
 *   keeps the plugins of the current command.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import type { TrainConfig } from './config.js';

/** Thrown when the run directory does not allow the requested start (exists without --resume, other checkpoint). */
export class RunDirectoryError extends SamtuneError {
  readonly code: string = 'run-directory';
  readonly kind: ErrorKind = 'conflict';
}

/** The marker file of a samtune run folder. */
export const RUN_MARKER = '.samtune-run';

const STATE_FILE = 'state.safetensors';

/** Whether `dir` is a samtune run folder (the marker, or a state file of an older run). */
export function isRunFolder(dir: string): boolean {
  return existsSync(join(dir, RUN_MARKER)) || existsSync(join(dir, STATE_FILE));
}

/**
 * Makes `out` ready for a run: created when missing; an existing non-empty folder must be a run
 * folder (or `existOk`), checked before any file is touched; then the temp files of atomic writes
 * cut short by a kill are removed (never read: the real files are renamed into place) and the
 * marker is written.
 * @throws RunDirectoryError when `out` cannot be a directory, or is a non-empty foreign folder
 */
export function prepareRunFolder(out: string, existOk: boolean): void {
  let entries: string[] = [];
  if (existsSync(out) && statSync(out).isDirectory()) entries = readdirSync(out);
  if (entries.length > 0 && !isRunFolder(out) && !existOk) {
    const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', …' : '');
    throw new RunDirectoryError(
      `runTraining(config.out): expected a new or empty folder or a samtune run folder (holding ${RUN_MARKER}), got '${out}' with ${entries.length} entries (${shown}) and no ${RUN_MARKER}; nothing was written: choose another --out, or pass --exist-ok to write the run files into it`,
    );
  }
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new RunDirectoryError(
      `runTraining(config.out): expected a directory that can be created, got '${out}' (${existsSync(out) ? 'it is a file' : 'a parent is a file or not writable'}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  for (const f of entries) if (/^\..+\.tmp$/.test(f)) rmSync(join(out, f), { force: true });
  if (!existsSync(join(out, RUN_MARKER)))
    writeFileSync(join(out, RUN_MARKER), 'samtune run folder (train --out): samtune train may write here\n');
}

/**
 * Empties a run folder for a fresh run (`demo`): removed only when it is missing, empty or a samtune
 * run folder; any other folder is refused untouched.
 * @throws RunDirectoryError for a non-empty folder that is not a run folder
 */
export function emptyRunFolder(out: string, caller: string): void {
  if (existsSync(out) && statSync(out).isDirectory() && readdirSync(out).length > 0 && !isRunFolder(out))
    throw new RunDirectoryError(
      `${caller}: expected a new or empty folder or a samtune run folder (holding ${RUN_MARKER}) to replace, got '${out}', which holds other files; nothing was removed: choose another --out`,
    );
  rmSync(out, { recursive: true, force: true });
}

/**
 * The config a resumed run continues with: the stored one, in the folder it is in now (`out`),
 * with the plugins of the current command (`current.data.plugins`), never the stored ones.
 */
export function resumedConfig(stored: TrainConfig, current: TrainConfig, out: string): TrainConfig {
  return { ...stored, out, data: { ...stored.data, plugins: [...current.data.plugins] } };
}

/** The config as a run folder stores it (state, `config.yaml`): without plugins, which it never names. */
export function storedConfig(config: TrainConfig): TrainConfig {
  return { ...config, data: { ...config.data, plugins: [] } };
}
