/** Errors of `@samtune/jobs`: every one a `SamtuneError` with a stable code and a kind. */
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** A queue id that Redis does not know (never enqueued, or another Redis). */
export class QueueNotFoundError extends SamtuneError {
  readonly code: string = 'queue-not-found';
  readonly kind: ErrorKind = 'not-found';
}

/** Bad producer / worker input: no images, an unusable data root, a bad Redis URL, a bad option. */
export class QueueInputError extends SamtuneError {
  readonly code: string = 'queue-input';
  readonly kind: ErrorKind = 'input';
}

/**
 * A job that can never succeed as given (unreadable image, image changed since it was enqueued): the
 * worker fails it at once, no retries. Also thrown when this worker's checkpoint differs from the
 * producer's: the worker then refuses the whole queue and leaves its jobs to other workers.
 */
export class JobInputError extends SamtuneError {
  readonly code: string = 'job-input';
  readonly kind: ErrorKind = 'input';
}
