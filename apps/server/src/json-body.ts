/**
 * The JSON body parser of the `/api/` routes: a nesting-depth check before `JSON.parse` (a deeply
 * nested body is a 400 `InvalidJsonError`, never a stack overflow in whatever walks the value next)
 * and a prototype-poisoning check after it (`__proto__` or `constructor.prototype` keys: a 400
 * `ForbiddenKeyError` that says so, not "invalid JSON"), with secure-json-parse's own scan.
 */
import sjson from 'secure-json-parse';
import { ForbiddenKeyError, InvalidJsonError } from './errors.js';

/** Deepest nesting of arrays and objects a JSON body may have (the API's own bodies need 4). */
export const MAX_JSON_DEPTH = 32;

/** 0-based index of the first `[` or `{` nested deeper than `maxDepth` in `text`, or -1 (strings skipped). */
export function tooDeepAt(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/**
 * Parses a JSON request body.
 * @throws InvalidJsonError (400) for text that is not JSON or nests deeper than `maxDepth`;
 *   ForbiddenKeyError (400) for a `__proto__` or `constructor.prototype` key at any depth.
 */
export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const deep = tooDeepAt(text, maxDepth);
  if (deep >= 0)
    throw new InvalidJsonError(
      `body: expected JSON nested at most ${maxDepth} levels deep, got deeper nesting at character ${deep}`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidJsonError(`body: expected a JSON object, got invalid JSON (${(err as Error).message})`);
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
