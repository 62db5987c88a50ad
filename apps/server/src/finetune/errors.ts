/** Errors of fine-tuning and model versions (`/api/finetune*`, `/api/versions*`), in the server's shape. */
import { HttpError } from '../errors.js';
import type { ErrorKind } from '@samtune/errors';

/** 409: `POST /api/finetune` while a run is going on (one run at a time). */
export class FinetuneRunningError extends HttpError {
  override readonly code: string = 'FINETUNE_RUNNING';
  override readonly kind: ErrorKind = 'conflict';
  constructor(message: string) {
    super(409, message);
  }
}

/** 422: too few accepted labels to split into training and held-out data; the message says how many. */
export class TooFewLabelsError extends HttpError {
  override readonly code: string = 'too-few-labels';
  override readonly kind: ErrorKind = 'unsupported';
  constructor(message: string) {
    super(422, message);
  }
}

/** 422: the server cannot fine-tune as started (no `--images`, an export directory, a seeded model). */
export class FinetuneUnsupportedError extends HttpError {
  override readonly code: string = 'finetune-unsupported';
  override readonly kind: ErrorKind = 'unsupported';
  constructor(message: string) {
    super(422, message);
  }
}

/** 404: no version with this id. */
export class UnknownVersionError extends HttpError {
  override readonly code: string = 'unknown-version';
  override readonly kind: ErrorKind = 'not-found';
  constructor(message: string) {
    super(404, message);
  }
}

/** 409: the version cannot be served (failed, cancelled, still training, no decoder), or nothing to roll back to. */
export class VersionNotServableError extends HttpError {
  override readonly code: string = 'version-not-servable';
  override readonly kind: ErrorKind = 'conflict';
  constructor(message: string) {
    super(409, message);
  }
}
