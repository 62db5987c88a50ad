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
  /** What was expected, in words: the failing (sub)schema's `expected` option, else its `description`. */
  readonly expected?: string;
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

/** The subschema at a `#/properties/a/properties/b` schema path. */
function subschema(schema: TSchema, schemaPath: string): TSchema | undefined {
  let cur: unknown = schema;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur as TSchema | undefined;
}

/**
 * The problems of `value` against `schema` (empty when it conforms), one per path: where a described
 * schema failed (e.g. a union `box, point or both`), its description replaces the branch errors.
 */
export function schemaProblems(schema: TSchema, value: unknown): SchemaProblem[] {
  const all = rawProblems(schema, value);
  const described = new Set(all.filter((p) => p.expected !== undefined).map((p) => p.path));
  const seen = new Set<string>();
  return all.filter((p) => {
    if (described.has(p.path) && p.expected === undefined) return false;
    const key = `${p.path}|${p.expected ?? p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function rawProblems(schema: TSchema, value: unknown): SchemaProblem[] {
  return Value.Errors(schema, value).map((e) => {
    const sub = subschema(schema, e.schemaPath) as { expected?: unknown; description?: unknown } | undefined;
    const description = sub?.expected ?? sub?.description;
    const expected = typeof description === 'string' ? { expected: description } : {};
    const path = e.instancePath.split('/').slice(1).join('.') || '(root)';
    // a missing property is reported on its parent: name the property in the path
    const missing = (e.params as { requiredProperties?: string[] }).requiredProperties;
    const where = missing ? [path === '(root)' ? '' : path, missing.join(', ')].filter(Boolean).join('.') : path;
    return missing
      ? { path: where, message: 'is required', value: undefined }
      : { path: where, message: e.message, value: at(value, e.instancePath), ...expected };
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
