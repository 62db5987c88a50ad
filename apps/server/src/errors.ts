/**
 * HTTP errors of the server, and the mapping of any thrown error to a status code. Every error reply
 * is JSON `{ error: { name, message } }`; the name is the error class's name.
 */

/** An error with an HTTP status; the message says which field or path is wrong and why. */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** 400: the body is not valid JSON, or not a JSON object. */
export class InvalidJsonError extends HttpError {
  override readonly name: string = 'InvalidJsonError';
  constructor(message: string) {
    super(400, message);
  }
}

/** 400: a field of the request is missing, has the wrong type or is out of range. */
export class InvalidFieldError extends HttpError {
  override readonly name: string = 'InvalidFieldError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(400, `${field}: ${message}`);
  }
}

/** 404: `POST /api/predict` names an embedding id that is not (or no longer) in the cache. */
export class UnknownEmbeddingError extends HttpError {
  override readonly name: string = 'UnknownEmbeddingError';
  constructor(message: string) {
    super(404, message);
  }
}

/** 404: no route for this path, or an image name that is not under `--images`. */
export class NotFoundError extends HttpError {
  override readonly name: string = 'NotFoundError';
  constructor(message: string) {
    super(404, message);
  }
}

/** 405: the path exists but not with this method. */
export class MethodNotAllowedError extends HttpError {
  override readonly name: string = 'MethodNotAllowedError';
  constructor(
    readonly allowed: readonly string[],
    message: string,
  ) {
    super(405, message);
  }
}

/** 413: the request body is larger than the server's limit. */
export class PayloadTooLargeError extends HttpError {
  override readonly name: string = 'PayloadTooLargeError';
  constructor(message: string) {
    super(413, message);
  }
}

/** 415: a body of a content type the route does not take. */
export class UnsupportedMediaTypeError extends HttpError {
  override readonly name: string = 'UnsupportedMediaTypeError';
  constructor(message: string) {
    super(415, message);
  }
}

/** Errors of the samtune packages that are the client's fault, by name, with their status. */
const PACKAGE_ERROR_STATUS: Readonly<Record<string, number>> = {
  ImageNotFoundError: 404,
  ImageDecodeError: 400,
  PredictorInputError: 400,
  MaskShapeError: 400,
};

/** The status and JSON body for any thrown value (500 for everything unexpected). */
export function errorReply(err: unknown): { status: number; body: { error: { name: string; message: string } } } {
  if (err instanceof HttpError)
    return { status: err.status, body: { error: { name: err.name, message: err.message } } };
  const e = err instanceof Error ? err : new Error(String(err));
  const status = PACKAGE_ERROR_STATUS[e.name] ?? 500;
  return { status, body: { error: { name: e.name, message: e.message } } };
}
