/**
 * `samtune predict`'s request, checked before any model work (a mistake is a `UsageError`, exit 2):
 * which model (export directory or checkpoint), which output file, which prompts and mask input.
 */
import { extname } from 'node:path';
import type { Static } from 'typebox';
import type { FloatTensor } from '@samtune/sam-model';
import { UsageError } from '../command.js';
import { checkOutputFile } from '../output-file.js';
import type { PREDICT_FLAGS } from './predict-flags.js';

/** A point prompt in original image pixels (label 1 foreground, 0 background). */
export interface PredictPoint {
  readonly x: number;
  readonly y: number;
  readonly label: number;
}

/** What `predict` runs: the checked flags. */
export interface PredictRequest {
  /** An export directory (onnxruntime), or undefined for a checkpoint (tfjs). */
  readonly modelDir: string | undefined;
  /** The export directory or the checkpoint. */
  readonly checkpoint: string;
  readonly out: string;
  readonly outKind: 'png' | 'safetensors';
  readonly points: readonly PredictPoint[];
  readonly box: Static<typeof PREDICT_FLAGS>['box'];
  readonly maskInput: FloatTensor | undefined;
}

/** Checks `predict`'s flags against each other and reads `--mask-input`. */
export async function predictRequest(f: Static<typeof PREDICT_FLAGS>): Promise<PredictRequest> {
  const { isExportDir, MaskInputError, readMaskInputFile } = await import('@samtune/export');
  if (f.model !== undefined && !isExportDir(f.model))
    throw new UsageError(`--model ${f.model}: not a directory written by 'samtune export' (no model.json)`);
  const modelDir = f.model ?? (f.checkpoint !== undefined && isExportDir(f.checkpoint) ? f.checkpoint : undefined);
  const checkpoint = modelDir ?? f.checkpoint;
  if (checkpoint === undefined) throw new UsageError('missing required flag --checkpoint');
  if (f.int8 && modelDir === undefined)
    throw new UsageError('--int8 needs an export directory (--model <dir>), not a checkpoint');
  const outExt = extname(f.out).toLowerCase();
  if (outExt !== '.safetensors' && outExt !== '.png')
    throw new UsageError(`--out ${f.out}: expected a .safetensors or .png file`);
  checkOutputFile(f.out);
  if (!f.image && !f.embedding) throw new UsageError('give --image <file> or --embedding <file>');
  if (f.overlay && !f.image) throw new UsageError('--overlay needs --image');
  const points = f.point.map(([x, y, label]) => ({ x, y, label }));
  const box = f.box;
  if (points.length === 0 && !box) throw new UsageError('no prompt: give --point x,y,label and/or --box x0,y0,x1,y1');
  let maskInput;
  try {
    maskInput = f['mask-input'] ? readMaskInputFile(f['mask-input']) : undefined;
  } catch (e) {
    if (e instanceof MaskInputError) throw new UsageError(`--mask-input: ${e.message}`);
    throw e;
  }
  return {
    modelDir,
    checkpoint,
    out: f.out,
    outKind: outExt === '.png' ? 'png' : 'safetensors',
    points,
    box,
    maskInput,
  };
}
