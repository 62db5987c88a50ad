import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when an instance's mask cannot be found again at evaluation time, or its features do not fit the model. */
export class EvaluateError extends SamtuneError {
  readonly code: string = 'evaluate';
  readonly kind: ErrorKind = 'input';
}
