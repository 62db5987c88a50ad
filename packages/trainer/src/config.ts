/**
 * Training configuration, all of it derived from `TrainConfigSchema` (`config-schema.ts`): the defaults
 * (the reference recipe), merging of partial configs (a YAML file), dotted overrides
 * (`optimizer.lr=1e-4`, `data.train.batch-size=4`; kebab-case and camelCase keys are the same key), the
 * `--help` lines of every key, and validation. Each function takes the schema as an argument (default:
 * the training one), so that a key added to the schema is a key of all of them.
 */
import type { TObject, TSchema } from 'typebox';
import { schemaProblems, SamtuneError, type ErrorKind } from '@samtune/errors';
import { TrainConfigSchema, type KeySchema, type TrainConfig } from './config-schema.js';
import { checkRecipeEngine } from './recipe/options.js';

export {
  TrainConfigSchema,
  type KeyOptions,
  type KeySchema,
  type TrainConfig,
  type TrainEngineName,
  type PromptModeOption,
} from './config-schema.js';

/** Thrown for an unknown key, a value of the wrong type, or a missing required value. */
export class TrainConfigError extends SamtuneError {
  readonly code: string = 'train-config';
  readonly kind: ErrorKind = 'input';
}

/** Recursive partial, for YAML files and flags. */
export type PartialTrainConfig = DeepPartial<TrainConfig>;
type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

type Json = Record<string, unknown>;
const isSection = (s: TSchema): s is TObject => (s as { type?: unknown }).type === 'object';
const camel = (k: string): string => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The defaults of `schema` (each key's `default`; a function default is called). */
export function defaultsOf(schema: TObject): Json {
  return Object.fromEntries(
    Object.entries(schema.properties).map(([k, s]) => {
      if (isSection(s)) return [k, defaultsOf(s)];
      const d = (s as KeySchema).default;
      return [k, typeof d === 'function' ? (d as () => unknown)() : structuredClone(d)];
    }),
  );
}

/** The defaults (reference recipe); `checkpoint`, `data.root` and `out` must be set by the caller. */
export function defaultTrainConfig(): TrainConfig {
  return defaultsOf(TrainConfigSchema) as TrainConfig;
}

/** One leaf key of a config schema: dotted kebab-case name (`data.train.batch-size`) and schema. */
export interface ConfigKey {
  readonly key: string;
  readonly schema: KeySchema;
}

/** Every leaf key of `schema`, in schema order. */
export function configKeys(schema: TObject = TrainConfigSchema, prefix = ''): ConfigKey[] {
  return Object.entries(schema.properties).flatMap(([k, s]) => {
    const key = `${prefix}${kebab(k)}`;
    return isSection(s) ? configKeys(s, `${key}.`) : [{ key, schema: s as KeySchema }];
  });
}

/** The value of a key in `--help`: its placeholder, else one from its type. */
export function placeholderOf(s: KeySchema): string {
  if (s.placeholder) return s.placeholder;
  const type = (s as { type?: string }).type;
  return type === 'integer' ? '<n>' : type === 'number' ? '<x>' : type === 'boolean' ? 'true|false' : '<value>';
}

/** `--help` lines for every key of `schema`: `--a.b <x>   description (default …)`. */
export function configHelp(schema: TObject = TrainConfigSchema): string[] {
  const defaults = defaultsOf(schema);
  return configKeys(schema).map(({ key, schema: s }) => {
    const d = key.split('.').reduce<unknown>((n, k) => (n as Json)[camel(k)], defaults);
    const none = d === '' || (Array.isArray(d) && d.length === 0);
    const shown = none ? '' : ` (default ${String(d)})`;
    const head = `  --${key} ${placeholderOf(s)}`;
    return `${head.padEnd(36)} ${s.description ?? ''}${typeof s.default === 'function' ? '' : shown}`;
  });
}

/** Converts a value (a flag's string or a YAML value) to the type `s` declares. */
function coerce(path: string, s: KeySchema, value: unknown): unknown {
  const type = (s as { type?: string }).type;
  const fail = (what: string) =>
    new TrainConfigError(
      `config '${path}': expected ${what}, got ${typeof value === 'string' ? `'${value}'` : JSON.stringify(value)}`,
    );
  if (typeof value !== 'string') {
    const ok =
      type === 'array'
        ? Array.isArray(value)
        : type === 'integer' || type === 'number'
          ? typeof value === 'number'
          : type === 'boolean'
            ? typeof value === 'boolean'
            : typeof value === 'string';
    if (!ok) throw fail(type === 'array' ? 'a list' : `a ${type === 'integer' ? 'number' : (type ?? 'string')}`);
    return value;
  }
  if (type === 'integer' || type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw fail('a number');
    return n;
  }
  if (type === 'boolean') {
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    throw fail('true/false');
  }
  if (type === 'array') {
    const parts = value.split(',').map((p) => p.trim());
    const items = (s as { items?: unknown }).items;
    if (!Array.isArray(items)) return parts.filter((p) => p !== '');
    const nums = parts.map(Number);
    if (parts.length !== items.length || nums.some((n, i) => parts[i] === '' || !Number.isFinite(n)))
      throw fail(`${items.length} comma-separated numbers`);
    return nums;
  }
  return value;
}

/** Sets one dotted key (`optimizer.lr`, `data.train.batch-size`) from a string or typed value, in place. */
export function applyOverride(
  config: TrainConfig | Json,
  dottedKey: string,
  value: unknown,
  schema: TObject = TrainConfigSchema,
): void {
  const keys = dottedKey.split('.').map(camel);
  let node = config as Json;
  let section: TObject = schema;
  for (const [i, k] of keys.entries()) {
    const path = keys.slice(0, i + 1).join('.');
    const s = Object.prototype.hasOwnProperty.call(section.properties, k) ? section.properties[k] : undefined;
    if (s === undefined) {
      throw new TrainConfigError(
        `config: unknown key '${dottedKey}' ('${path}' is not one of ${Object.keys(section.properties).join(', ')})`,
      );
    }
    if (i === keys.length - 1) {
      if (isSection(s))
        throw new TrainConfigError(
          `config: '${dottedKey}' is a section (${Object.keys(s.properties).join(', ')}), not a value`,
        );
      node[k] = coerce(path, s as KeySchema, value);
      return;
    }
    if (!isSection(s)) throw new TrainConfigError(`config: '${path}' is a value, '${dottedKey}' cannot go below it`);
    if (!isObject(node[k])) node[k] = {};
    node = node[k] as Json;
    section = s;
  }
}

/** Merges a nested partial config (a parsed YAML file) into `config`, in place; unknown keys throw. */
export function mergeConfig(
  config: TrainConfig | Json,
  partial: unknown,
  prefix = '',
  schema: TObject = TrainConfigSchema,
): void {
  if (partial === undefined || partial === null) return;
  if (!isObject(partial))
    throw new TrainConfigError(
      `config${prefix ? ` '${prefix}'` : ''}: expected a mapping, got ${JSON.stringify(partial)}`,
    );
  for (const [k, v] of Object.entries(partial)) {
    const key = prefix ? `${prefix}.${camel(k)}` : camel(k);
    if (isObject(v)) mergeConfig(config, v, key, schema);
    else applyOverride(config, key, v, schema);
  }
}

/** Fills the keys `c` lacks from `defaults`, in place (run states saved before a key existed). */
function fillMissing(c: Json, defaults: Json): void {
  for (const [k, v] of Object.entries(defaults)) {
    if (!(k in c)) c[k] = v;
    else if (isObject(v) && isObject(c[k])) fillMissing(c[k] as Json, v);
  }
}

/**
 * Checks types, ranges and required values against `TrainConfigSchema`; keys missing from a run state
 * saved by an older version take today's defaults.
 * @throws TrainConfigError naming every bad key, the expected range and the value.
 */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  fillMissing(c as unknown as Json, defaultTrainConfig() as unknown as Json);
  const problems = schemaProblems(TrainConfigSchema, c);
  if (problems.length > 0)
    throw new TrainConfigError(
      problems
        .map(
          (p) =>
            `config '${p.path}': expected ${p.expected ?? p.message.replace(/^must /, '')}, got ${JSON.stringify(p.value)}`,
        )
        .join('; '),
    );
  checkRecipeEngine(c.runtime.engine, { resolution: c.loss.resolution, iterations: c.prompt.iterations });
  return c;
}
