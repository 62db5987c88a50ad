/**
 * The JSON body parser of the `/api/` routes: @samtune/datasets' `parseJsonText` (nesting depth
 * checked before parsing, so a deeply nested body is a 400 `InvalidJsonError`, never a stack
 * overflow in whatever walks the value next; Python's `NaN`/`Infinity` become numbers that the
 * field checks refuse as not finite), then a prototype-poisoning check (`__proto__` or
 * `constructor.prototype` keys: a 400 `ForbiddenKeyError` that says so, not "invalid JSON") with
 * secure-json-parse's own scan.
 */
import { JsonTextError, parseJsonText } from '@samtune/datasets';
import sjson from 'secure-json-parse';
import { ForbiddenKeyError, InvalidJsonError } from './errors.js';

/** Deepest nesting of arrays and objects a request body may have (the API's own bodies need 4). */
export const MAX_BODY_DEPTH = 32;

/**
 * Parses a JSON request body.
 * @throws InvalidJsonError (400) for text that is not JSON or nests deeper than `maxDepth`;
 *   ForbiddenKeyError (400) for a `__proto__` or `constructor.prototype` key at any depth.
 */
export function parseJsonBody(text: string, maxDepth = MAX_BODY_DEPTH): unknown {
  let value: unknown;
  try {
    value = parseJsonText(text, maxDepth);
  } catch (err) {
    if (!(err instanceof JsonTextError)) throw err;
    throw new InvalidJsonError(`body: expected a JSON object, got invalid JSON (${err.message})`);
  }
  if (value !== null && typeof value === 'object' && (text.includes('__proto__') || text.includes('constructor'))) {
    try {
      sjson.scan(value, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      throw new ForbiddenKeyError(
        'body: expected no "__proto__" or "constructor": {"prototype": …} key (they would change object prototypes), got one',
      );
    }
  }
  return value;
}
