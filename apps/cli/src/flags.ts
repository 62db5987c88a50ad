/**
 * Flag tables: a command's flags are one TypeBox object (kebab-case flag name → schema), and that one
 * table gives the TypeScript type of the parsed flags (`Static`), the defaults, the `--help` lines, the
 * `node:util` `parseArgs` options, the conversion of the text (numbers, enums, `x,y,label` points,
 * `x0,y0,x1,y1` boxes, comma lists, repeated flags) and the validation messages
 * (`--max-instances: expected an integer >= 0, got '-1'`). Every command and `serve` parse this way.
 *
 * A flag's schema carries `description` (help), `expected` (the message's words), optionally
 * `placeholder` (`<dir>`), `default`, `repeat` (the flag may be given several times: an array) or
 * `csv` (one comma-separated value: an array), and `check` (a last test, returning what is wrong).
 * A flag without `default` and not wrapped in `Type.Optional` is required.
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Type, type Static, type TObject, type TSchema } from 'typebox';
import { schemaProblems } from '@samtune/errors';
import { UsageError, type CliCommand, type CliIO } from './command.js';
import { closest } from './suggest.js';

export { closest } from './suggest.js';

/** The annotations of a flag (TypeBox keeps unknown schema options as they are). */
interface FlagOptions {
  readonly placeholder?: string;
  readonly default?: unknown;
}
type Annotated = TSchema & {
  type?: string;
  description?: string;
  expected?: string;
  placeholder?: string;
  default?: unknown;
  repeat?: boolean;
  csv?: boolean;
  check?: (value: never) => string | undefined;
  '~optional'?: boolean;
};

const words = (values: readonly string[]) =>
  values.length === 1 ? values[0]! : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;

/** Builders of flag schemas. Without `default` they are required; wrap in `Type.Optional` otherwise. */
export const Flag = {
  /** A text value (`placeholder` e.g. `<dir>`). */
  text: (description: string, o: FlagOptions = {}) =>
    Type.String({ minLength: 1, description, expected: 'a value', placeholder: '<value>', ...o }),
  /** An integer in [min, max]. */
  int: (description: string, min: number, o: FlagOptions & { max?: number } = {}) =>
    Type.Integer({
      minimum: min,
      ...(o.max === undefined ? {} : { maximum: o.max }),
      description,
      expected: o.max === undefined ? `an integer >= ${min}` : `an integer in [${min}, ${o.max}]`,
      placeholder: '<n>',
      ...o,
    }),
  /** A finite number; `expected` says the range the other options set. */
  num: (description: string, expected: string, o: FlagOptions & Record<string, unknown> = {}) =>
    Type.Number({ description, expected, placeholder: '<x>', ...o }),
  /** One of `values`. */
  oneOf: <const V extends string>(values: readonly V[], description: string, o: FlagOptions = {}) =>
    Type.Union(values.map((v) => Type.Literal(v)) as unknown as [ReturnType<typeof Type.Literal<V>>], {
      description,
      expected: words(values),
      placeholder: values.join('|'),
      ...o,
    }),
  /** An existing folder. */
  folder: (description: string) =>
    Type.String({
      description,
      expected: 'an existing folder',
      placeholder: '<dir>',
      check: (dir: string) =>
        statSync(dir, { throwIfNoEntry: false })?.isDirectory() ? undefined : 'expected an existing folder',
    }),
  /** A switch: present = true. */
  bool: (description: string) => Type.Boolean({ description, expected: 'no value', default: false }),
  /** A comma-separated list of `values` (`--ops MatMul,Gemm`). */
  list: <const V extends string>(values: readonly V[], description: string) =>
    Type.Array(Type.Union(values.map((v) => Type.Literal(v)) as unknown as [ReturnType<typeof Type.Literal<V>>]), {
      minItems: 1,
      csv: true,
      description,
      expected: `a comma-separated list of ${words(values)}`,
      placeholder: '<a,b>',
    }),
  /** A flag given any number of times (`--queue a --queue b`). */
  texts: (description: string, placeholder = '<value>') =>
    Type.Array(Type.String({ minLength: 1 }), {
      repeat: true,
      default: [],
      description,
      expected: 'a value',
      placeholder,
    }),
  /** `--point x,y,label` (repeatable), original image pixels; label 1 (foreground) or 0 (background). */
  points: (description: string) =>
    Type.Array(Type.Tuple([Type.Number(), Type.Number(), Type.Union([Type.Literal(0), Type.Literal(1)])]), {
      repeat: true,
      default: [],
      description,
      expected: 'x,y,label with label 1 (foreground) or 0 (background)',
      placeholder: 'x,y,label',
    }),
  /** `--box x0,y0,x1,y1` (XYXY, original image pixels, x0 < x1 and y0 < y1). */
  box: (description: string) =>
    Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], {
      description,
      expected: 'x0,y0,x1,y1 (XYXY, pixels)',
      placeholder: 'x0,y0,x1,y1',
      check: (b: readonly number[]) => (b[0]! < b[2]! && b[1]! < b[3]! ? undefined : 'needs x0 < x1 and y0 < y1'),
    }),
};

/** `unknown flag --x` with a "did you mean" for the closest of `known` (names without `--`). */
export function unknownFlag(name: string, known: readonly string[]): UsageError {
  const hint = closest(name, known);
  return new UsageError(`unknown flag --${name}${hint ? ` (did you mean --${hint}?)` : ''}`);
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
function convert(s: Annotated, text: string): unknown {
  const type = s.type;
  if (type === 'integer' || type === 'number') return NUMBER.test(text.trim()) ? Number(text) : text;
  if (type === 'array') {
    const parts = text.split(',').map((p) => p.trim());
    const items = (s as { items?: unknown }).items;
    return Array.isArray(items) ? parts.map((p) => (NUMBER.test(p) ? Number(p) : p)) : parts.filter(Boolean);
  }
  return text;
}

/** The `--help` lines of a flag table: `  --name <value>   description (default …)`, wrapped at 100 columns. */
export function flagHelp(flags: TObject): string[] {
  return Object.entries(flags.properties).flatMap(([name, schema]) => {
    const s = schema as Annotated;
    const head = `  --${name}${s.type === 'boolean' ? '' : ` ${s.placeholder ?? '<value>'}`}`;
    const d = s.default;
    const shown = d === undefined || d === false || (Array.isArray(d) && d.length === 0) ? '' : ` (default ${d})`;
    return wrap(`${s.description ?? ''}${shown}`, 100 - 30).map(
      (l, i) => `${i === 0 ? head.padEnd(29) : ''.padEnd(29)} ${l}`,
    );
  });
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    if (line && line.length + 1 + w.length > width) [lines[lines.length], line] = [line, w];
    else line = line ? `${line} ${w}` : w;
  }
  return [...lines, line];
}

/** Parsed flags and the dotted keys (`--a.b value`, in order) when the table allows them. */
export interface Parsed<S extends TObject> {
  readonly flags: Static<S>;
  readonly dotted: [string, string][];
}

/**
 * Parses `argv` against a flag table: unknown flags get a "did you mean", values are converted and
 * validated, defaults filled in. With `dotted`, `--a.b value` / `--a.b=value` pairs are collected.
 * @throws UsageError naming the flag, what was expected and what was given
 */
export function parseFlagTable<S extends TObject>(argv: readonly string[], table: S, dotted = false): Parsed<S> {
  const args = [...argv];
  const entries = Object.entries(table.properties) as [string, Annotated][];
  const options = Object.fromEntries(
    entries.map(([n, s]) => [n, { type: s.type === 'boolean' ? 'boolean' : 'string', multiple: s.repeat === true }]),
  ) as Record<string, { type: 'string' | 'boolean'; multiple: boolean }>;
  let tokens;
  try {
    ({ tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const text: Record<string, string[]> = {};
  const pairs: [string, string][] = [];
  const consumed = new Set<number>();
  for (const t of tokens) {
    if (consumed.has(t.index)) continue;
    if (t.kind === 'positional') throw new UsageError(`unexpected argument '${t.value}'`);
    if (t.kind !== 'option') continue;
    const spec = options[t.name];
    if (spec === undefined && !(dotted && t.rawName.startsWith('--') && t.name.includes('.')))
      throw unknownFlag(t.name, Object.keys(options));
    if (spec?.type === 'boolean') {
      if (t.inlineValue) throw new UsageError(`--${t.name} takes no value`);
      (text[t.name] ??= []).push('true');
      continue;
    }
    let value = t.value;
    if (value === undefined && spec !== undefined) throw new UsageError(`--${t.name} needs a value`);
    if (value === undefined) {
      const next = args[t.index + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${t.name} needs a value`);
      value = next;
      consumed.add(t.index + 1);
    }
    if (spec === undefined) pairs.push([t.name, value]);
    else (text[t.name] ??= []).push(value);
  }
  const values: Record<string, unknown> = {};
  for (const [name, s] of entries) {
    const given = text[name];
    if (given === undefined) {
      if (s.default !== undefined) values[name] = structuredClone(s.default);
      else if (!s['~optional']) throw new UsageError(`missing required flag --${name}`);
      continue;
    }
    if (!s.repeat && given.length > 1) throw new UsageError(`--${name} given ${given.length} times, expected once`);
    values[name] =
      s.type === 'boolean'
        ? true
        : s.repeat
          ? given.map((g) => convert((s as { items: Annotated }).items, g))
          : convert(s, given[0]!);
    const problem = schemaProblems(s, values[name])[0];
    const checked = problem === undefined ? s.check?.(values[name] as never) : undefined;
    if (problem !== undefined || checked !== undefined)
      throw new UsageError(`--${name} '${given.join(' ')}': ${checked ?? `expected ${s.expected}`}`);
  }
  return { flags: values as Static<S>, dotted: pairs };
}

/** A command defined by its flag table (see `defineCommand`). */
export interface CommandSpec<S extends TObject> {
  readonly path: readonly string[];
  readonly summary: string;
  /** The first help lines: `usage: samtune …` and what the command does. */
  readonly synopsis: string;
  readonly flags: S;
  /** Help lines after the flags. */
  readonly notes?: readonly string[];
  /** Also accept dotted keys (`--a.b value`), handed to `run` in order. */
  readonly dotted?: boolean;
  /** The name of one required positional argument, first (`<id>`). */
  readonly positional?: string;
  run(
    flags: Static<S>,
    io: CliIO,
    more: { argv: readonly string[]; dotted: [string, string][]; positional: string },
  ): Promise<number>;
}

/** A `CliCommand` whose usage, parsing and validation come from its flag table. */
export function defineCommand<S extends TObject>(spec: CommandSpec<S>): CliCommand {
  return {
    path: spec.path,
    summary: spec.summary,
    get usage() {
      return [spec.synopsis, '', ...flagHelp(spec.flags), ...(spec.notes ?? [])].join('\n');
    },
    check: (argv) => void parse(argv),
    async run(argv, io) {
      const [p, positional] = parse(argv);
      return spec.run(p.flags, io, { argv, dotted: p.dotted, positional });
    },
  };
  function parse(argv: readonly string[]): [Parsed<S>, string] {
    if (spec.positional === undefined) return [parseFlagTable(argv, spec.flags, spec.dotted), ''];
    const [first, ...rest] = argv;
    if (first === undefined || first.startsWith('-')) throw new UsageError(`missing ${spec.positional}`);
    return [parseFlagTable(rest, spec.flags, spec.dotted), first];
  }
}
