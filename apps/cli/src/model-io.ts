/**
 * What several commands share: loading a model with a download progress bar, and naming the
 * tfjs backend in use. Formatting only; the work is in @samtune/sam-model.
 */
import {
  checkpointFamily,
  initBackend,
  Sam2Model,
  loadSam2Checkpoint,
  Sam2EmbeddingModel,
  SamModel,
  type LoadedSam2Checkpoint,
  type ModelSource,
} from '@samtune/sam-model';
import type { CliIO } from './command.js';
import { createProgressBar } from './progress.js';
import { backendLine } from './render.js';

/** A download progress bar for `label`, opened on the first bytes (for `onDownloadProgress` callbacks). */
export function downloadProgress(label: string): {
  update: (done: number, total: number | undefined) => void;
  done: () => void;
} {
  let bar: ReturnType<typeof createProgressBar> | undefined;
  return {
    update: (done, total) => {
      bar ??= createProgressBar(`download ${label}`);
      bar.update(Math.round(done / 1e6), Math.round((total ?? done) / 1e6), 'MB');
    },
    done: () => bar?.done(),
  };
}

/** Loads `--checkpoint <name|path>` (downloading a registry name with a progress bar) and says what loaded. */
export function loadModel(checkpoint: string, io: CliIO): Promise<SamModel> {
  return loadAnnounced(checkpoint, io, (onProgress) => SamModel.load(checkpoint, { onProgress }));
}

/** Loads a SAM 2.1 `--checkpoint` for its image features (see `loadModel`). */
export function loadSam2EmbeddingModel(checkpoint: string, io: CliIO): Promise<Sam2EmbeddingModel> {
  return loadAnnounced(checkpoint, io, (onProgress) => Sam2EmbeddingModel.load(checkpoint, { onProgress }));
}

/** `loadModel` for either family (`checkpointFamily`): a `SamModel`, or a `Sam2Model` for SAM 2.1. */
export function loadAnyModel(checkpoint: string, io: CliIO): Promise<SamModel | Sam2Model> {
  return checkpointFamily(checkpoint) === 'sam2'
    ? loadAnnounced(checkpoint, io, (onProgress) => Sam2Model.load(checkpoint, { onProgress }))
    : loadModel(checkpoint, io);
}

/** Loads a SAM 2.1 `--checkpoint`'s image-mode weights and config, no session (see `loadModel`). */
export function loadSam2Model(checkpoint: string, io: CliIO): Promise<LoadedSam2Checkpoint & { source: ModelSource }> {
  return loadAnnounced(checkpoint, io, async (onProgress) => {
    const ckpt = await loadSam2Checkpoint(checkpoint, { onProgress });
    return { ...ckpt, source: { path: ckpt.path, sha256: ckpt.sha256 } };
  });
}

/** What `loadAnnounced` names: the config's name and encoder kind, the file and its hash. */
interface Announced {
  readonly config: { readonly name: string; readonly imageEncoder: { readonly kind: string } };
  readonly source: ModelSource;
}

async function loadAnnounced<M extends Announced>(
  checkpoint: string,
  io: CliIO,
  load: (onProgress: (done: number, total: number | undefined) => void) => Promise<M>,
): Promise<M> {
  const bar = downloadProgress(checkpoint);
  const model = await load(bar.update);
  bar.done();
  io.err(
    `model: ${model.config.name} (${model.config.imageEncoder.kind}) from ${model.source.path} sha256 ${model.source.sha256.slice(0, 12)}`,
  );
  return model;
}

/** Selects the tfjs backend (SAMTUNE_BACKEND overrides) and prints which one runs (`backendLine`). */
export async function announceBackend(io: CliIO): Promise<string> {
  const info = await initBackend();
  io.err(backendLine(info.name, info.skipped, io.verbose ?? false));
  return info.name;
}
