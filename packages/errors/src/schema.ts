/**
 * Schema validation with TypeBox (the one schema library of samtune: the server's HTTP bodies, the
 * trainer config and `model.json`). `checkSchema` validates a value, and on failure throws one
 * `SchemaValidationError` that lists every problem as `<path>: <what is wrong>, got <value>`, so a
 * user fixes a config or file in one pass.
 */
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { SamtuneError, type ErrorKind } from './samtune-error.js';

/** One problem: a JSON pointer-like dotted path (`training.lr`), the schema's complaint, the value. */
export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
  readonly value: unknown;
}

/** Thrown by `checkSchema`; `problems` lists everything wrong. */
export class SchemaValidationError extends SamtuneError {
  readonly code: string = 'schema-validation';
  readonly kind: ErrorKind = 'input';
  constructor(
    message: string,
    readonly problems: readonly SchemaProblem[],
  ) {
    super(message);
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function at(value: unknown, pointer: string): unknown {
  let cur: unknown = value;
  for (const part of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/** The problems of `value` against `schema` (empty when it conforms). */
export function schemaProblems(schema: TSchema, value: unknown): SchemaProblem[] {
  return Value.Errors(schema, value).map((e) => {
    const path = e.instancePath.split('/').slice(1).join('.') || '(root)';
    // a missing property is reported on its parent: name the property in the path
    const missing = (e.params as { requiredProperties?: string[] }).requiredProperties;
    const where = missing ? [path === '(root)' ? '' : path, missing.join(', ')].filter(Boolean).join('.') : path;
    return missing
      ? { path: where, message: 'is required', value: undefined }
      : { path: where, message: e.message, value: at(value, e.instancePath) };
  });
}

/**
 * Validates `value` against `schema` and returns it typed.
 * @param what names the function and argument or file for the message, e.g. `readModelJson(dir): runs/x/model.json`
 * @throws SchemaValidationError listing every problem: `<what>: <path> <message>, got <value>`
 */
export function checkSchema<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  const problems = schemaProblems(schema, value);
  if (problems.length === 0) return value as Static<T>;
  const lines = problems.map(
    (p) => `${p.path} ${p.message}` + (p.message === 'is required' ? '' : `, got ${show(p.value)}`),
  );
  throw new SchemaValidationError(`${what}: ${lines.join('; ')}`, problems);
}
