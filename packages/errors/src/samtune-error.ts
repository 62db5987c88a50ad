/**
 * The one error model of samtune. Every error a samtune package throws on purpose extends
 * `SamtuneError` and carries:
 * - `code`: a stable, machine-readable identifier (kebab-case, e.g. `image-not-found`) that tools and
 *   tests may match on; it never changes when a class is renamed;
 * - `kind`: one of five categories that decide how an app reacts (the server maps it to an HTTP
 *   status, the CLI to an exit code).
 * The message says which function and argument, and both the expected and the actual value.
 */

/** What kind of failure an error is. */
export type ErrorKind =
  /** The caller's input is wrong (bad argument, malformed file, out-of-range prompt). */
  | 'input'
  /** A named thing does not exist (file, image, embedding id, checkpoint). */
  | 'not-found'
  /** Valid input that this build cannot handle (format, op, backend, size). */
  | 'unsupported'
  /** The request conflicts with existing state (run directory exists, session disposed, busy). */
  | 'conflict'
  /** A bug or an environment failure (native binding, invariant broken). */
  | 'internal';

/** Every `ErrorKind`, for schemas and exhaustive maps. */
export const ERROR_KINDS: readonly ErrorKind[] = ['input', 'not-found', 'unsupported', 'conflict', 'internal'];

/** Base class of every samtune error: a stable `code`, a `kind`, and the class name as `name`. */
export abstract class SamtuneError extends Error {
  /** Stable machine-readable identifier, e.g. `checksum-mismatch`. */
  abstract readonly code: string;
  /** Failure category; decides HTTP status and exit code. */
  abstract readonly kind: ErrorKind;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // The subclass' name (minified builds keep class names for exported classes).
    this.name = new.target.name;
  }

  /** A plain JSON view: `{ name, code, kind, message }`. */
  toJSON(): { name: string; code: string; kind: ErrorKind; message: string } {
    return { name: this.name, code: this.code, kind: this.kind, message: this.message };
  }
}

/** True for any `SamtuneError`, also one from another copy of this package (checks the shape). */
export function isSamtuneError(err: unknown): err is SamtuneError {
  if (err instanceof SamtuneError) return true;
  if (!(err instanceof Error)) return false;
  const e = err as Partial<SamtuneError>;
  return typeof e.code === 'string' && typeof e.kind === 'string' && ERROR_KINDS.includes(e.kind as ErrorKind);
}

/** The kind of any thrown value: a `SamtuneError`'s own kind, else `internal`. */
export function errorKind(err: unknown): ErrorKind {
  return isSamtuneError(err) ? err.kind : 'internal';
}

/** HTTP status for each kind (the server's mapping). */
export const HTTP_STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  input: 400,
  'not-found': 404,
  unsupported: 422,
  conflict: 409,
  internal: 500,
};

/** Process exit code for each kind (the CLI's mapping): 2 for usage and input errors, 1 otherwise. */
export const EXIT_CODE_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  input: 2,
  'not-found': 2,
  unsupported: 1,
  conflict: 1,
  internal: 1,
};
