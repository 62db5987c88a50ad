/**
 * Fine-tuned checkpoints that hold only the tensors that were trained (the `mask_decoder.*` of a
 * run's `best.safetensors` / `last.safetensors`, about 16 MB for every SAM size instead of 41 MB for
 * MobileSAM and 2.5 GB for ViT-H) plus a reference to their base checkpoint, in safetensors metadata
 * `samtune.base_checkpoint`: `{"path": <absolute path>, "sha256": <hex>, "source": <name or path as given>}`.
 * `loadSamCheckpoint` resolves the base (its recorded path, else `source` — a registry name is found
 * in the cache or downloaded), checks its SHA-256, and returns the base weights with the stored ones
 * in place. A base must be a complete checkpoint: one level only, so two files naming each other
 * cannot loop (`BaseCheckpointNestedError`).
 */
import { existsSync } from 'node:fs';
import type { WeightMap } from '@samtune/tensor';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Metadata key of the base checkpoint reference. */
export const BASE_CHECKPOINT_KEY = 'samtune.base_checkpoint';

/** Where a fine-tuned checkpoint's untrained weights come from. */
export interface BaseCheckpointRef {
  /** Absolute local path of the base file when the checkpoint was written. */
  readonly path: string;
  /** Lower-case hex SHA-256 of the base file. */
  readonly sha256: string;
  /** The name or path the user gave (`tiny_vit`, `ckpt/sam.pth`); tried when `path` is gone. */
  readonly source?: string;
}

/** Thrown when a fine-tuned checkpoint's base checkpoint cannot be found. */
export class BaseCheckpointMissingError extends SamtuneError {
  readonly code: string = 'base-checkpoint-missing';
  readonly kind: ErrorKind = 'not-found';
}

/** Thrown when the base checkpoint found is another file than the one the checkpoint was trained from. */
export class BaseCheckpointMismatchError extends SamtuneError {
  readonly code: string = 'base-checkpoint-mismatch';
  readonly kind: ErrorKind = 'conflict';
}

/** Thrown when a fine-tuned checkpoint's base is itself a fine-tuned checkpoint (a base must be complete). */
export class BaseCheckpointNestedError extends SamtuneError {
  readonly code: string = 'base-checkpoint-nested';
  readonly kind: ErrorKind = 'input';
}

/** Reads the base reference from safetensors metadata; undefined for a complete checkpoint. */
export function readBaseCheckpointRef(
  metadata: Readonly<Record<string, string>>,
  path: string,
): BaseCheckpointRef | undefined {
  const json = metadata[BASE_CHECKPOINT_KEY];
  if (json === undefined) return undefined;
  let ref: Partial<BaseCheckpointRef> | undefined;
  try {
    ref = JSON.parse(json) as Partial<BaseCheckpointRef>;
  } catch {
    ref = undefined;
  }
  if (!ref || typeof ref.path !== 'string' || typeof ref.sha256 !== 'string')
    throw new BaseCheckpointMissingError(
      `loadSamCheckpoint(${path}): metadata '${BASE_CHECKPOINT_KEY}' must be {"path","sha256"}, got ${json.slice(0, 200)}`,
    );
  return { path: ref.path, sha256: ref.sha256, ...(typeof ref.source === 'string' ? { source: ref.source } : {}) };
}

/**
 * Loads a complete checkpoint as `mergeBaseCheckpoint` needs it (avoids an import cycle with
 * load.ts); throws `BaseCheckpointNestedError` for a fine-tuned one.
 */
type LoadBase = (nameOrPath: string) => Promise<{ weights: WeightMap; sha256: string; path: string }>;

/**
 * The base weights with `trained` in place.
 * @param override a path given by the user instead of the recorded one
 * @throws BaseCheckpointMissingError when neither `override`, the recorded path nor `source` loads
 * @throws BaseCheckpointMismatchError when the base found has another SHA-256
 * @throws BaseCheckpointNestedError when the base found is itself fine-tuned
 */
export async function mergeBaseCheckpoint(
  path: string,
  trained: WeightMap,
  ref: BaseCheckpointRef,
  load: LoadBase,
  override?: string,
): Promise<{ weights: WeightMap; base: { path: string; sha256: string } }> {
  const candidates = override !== undefined ? [override] : [ref.path, ...(ref.source ? [ref.source] : [])];
  const tried: string[] = [];
  let base: Awaited<ReturnType<LoadBase>> | undefined;
  for (const c of candidates) {
    if (c === ref.path && !existsSync(c)) {
      tried.push(`${c} (missing)`);
      continue;
    }
    try {
      base = await load(c);
      break;
    } catch (e) {
      if (e instanceof BaseCheckpointNestedError) throw e;
      tried.push(`${c} (${(e as Error).name}: ${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (!base)
    throw new BaseCheckpointMissingError(
      `loadSamCheckpoint(${path}): this file holds only the ${trained.size} fine-tuned tensors; its base checkpoint (sha256 ${ref.sha256}) was not found: tried ${tried.join('; ')}. Put the base file back at ${ref.path} (or pass its new path as the baseCheckpoint option of loadSamCheckpoint)`,
    );
  if (base.sha256 !== ref.sha256)
    throw new BaseCheckpointMismatchError(
      `loadSamCheckpoint(${path}): base checkpoint ${base.path} has sha256 ${base.sha256}, expected ${ref.sha256} (the file it was fine-tuned from)`,
    );
  const weights: WeightMap = new Map(base.weights);
  for (const [k, t] of trained) weights.set(k, t);
  return { weights, base: { path: base.path, sha256: base.sha256 } };
}
