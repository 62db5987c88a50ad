/** Named errors of the export package. */
import type { Agreement } from '@samtune/sam-model';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/**
 * Thrown when a written model disagrees with the in-process model on the fixed verification inputs
 * (`max|onnx - ref| > 1e-4 + 1e-3 * max|ref|`). The file (and its `.data`) has been deleted.
 */
export class ExportVerificationError extends SamtuneError {
  readonly code: string = 'export-verification';
  readonly kind: ErrorKind = 'internal';
  constructor(
    readonly file: string,
    readonly output: string,
    readonly testCase: string,
    readonly agreement: Agreement,
  ) {
    super(
      `verify(${file}): output '${output}' on case '${testCase}' differs from the in-process model: ` +
        `max|diff| ${agreement.maxAbsDiff.toExponential(3)} > tolerance ${agreement.tolerance.toExponential(3)} ` +
        `(ratio ${agreement.ratio.toFixed(3)}, expected <= 1); the file was deleted`,
    );
  }
}

/** Thrown for prompts the ONNX recipe cannot express (no point and no box, bad lengths, bad mask input). */
export class OnnxPromptError extends SamtuneError {
  readonly code: string = 'onnx-prompt';
  readonly kind: ErrorKind = 'input';
}

/**
 * Thrown when a model file differs from what `model.json` records for it (`bytes`, `sha256`): the
 * file was replaced or cut short after the export.
 */
export class ModelFileChangedError extends SamtuneError {
  readonly code: string = 'model-file-changed';
  readonly kind: ErrorKind = 'conflict';
}

/** Thrown for an export directory without a valid `model.json`, or lacking a model file it names. */
export class ModelDirError extends SamtuneError {
  readonly code: string = 'model-dir';
  readonly kind: ErrorKind = 'input';
}

/** Thrown when a request needs what the exported model does not have (e.g. 3 masks from a single-mask decoder). */
export class ModelCapabilityError extends SamtuneError {
  readonly code: string = 'model-capability';
  readonly kind: ErrorKind = 'unsupported';
}

/** Thrown for an image the encoder cannot take (wrong channel count, larger than the input frame). */
export class EncoderInputError extends SamtuneError {
  readonly code: string = 'encoder-input';
  readonly kind: ErrorKind = 'input';
}
