/**
 * Telling a SAM 2.1 checkpoint from a SAM 1 one by its key names (used by the SAM 1 loader to refuse
 * a SAM 2.1 file with a useful message, and by `checkpointFamily`).
 */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Whether these checkpoint keys are SAM 2.1's (`image_encoder.trunk.*` or `sam_mask_decoder.*`). */
export function isSam2Keys(keys: Iterable<string>): boolean {
  for (const k of keys) if (k.startsWith('image_encoder.trunk.') || k.startsWith('sam_mask_decoder.')) return true;
  return false;
}

/** Thrown by the SAM 1 loader for a SAM 2.1 checkpoint (read it with `loadSam2Checkpoint`). */
export class Sam2CheckpointForSam1Error extends SamtuneError {
  readonly code: string = 'sam2-checkpoint-for-sam1';
  readonly kind: ErrorKind = 'unsupported';
}
