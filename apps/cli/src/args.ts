/**
 * Flag parsing shared by every command: `node:util` `parseArgs` in strict mode, with its errors turned
 * into `UsageError`s that suggest the closest known flag ("did you mean --data-root?"); a variant for
 * `train` that also takes dotted config keys (`--optimizer.lr 1e-4`); and parsers for the prompt
 * syntaxes (`x,y,label`, `x0,y0,x1,y1`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

/** Edit distance with adjacent transpositions (optimal string alignment): `trian` → `train` is 1. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, () => i));
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `word` when it is close enough to be a typo (distance at most a third of
 * the length, at least 1; or one contains the other), else undefined.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  if (best === undefined) return undefined;
  const contains = word.length >= 3 && (best.includes(word) || word.includes(best));
  return bestD <= Math.max(1, Math.floor(word.length / 3)) || contains ? best : undefined;
}

/** `unknown flag --x` with a "did you mean" for the closest of `known` (names without `--`). */
export function unknownFlag(name: string, known: readonly string[]): UsageError {
  const hint = closest(name, known);
  return new UsageError(`unknown flag --${name}${hint ? ` (did you mean --${hint}?)` : ''}`);
}

type Options = NonNullable<ParseArgsConfig['options']>;
/** Parsed flag values of `parseFlags` for an options table `O`. */
export type Flags<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>
>['values'];

/** `parseArgs` (strict, no positionals) whose errors are `UsageError`s; unknown flags get a suggestion. */
export function parseFlags<O extends Options>(argv: readonly string[], options: O): Flags<O> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const e = err as Error & { code?: string };
    const unknown = /^Unknown option '--?([^']+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) throw unknownFlag(unknown, Object.keys(options));
    throw new UsageError(e.message);
  }
}

/**
 * `parseArgs` with `options` plus dotted keys: `--a.b value` or `--a.b=value` (write negative
 * values as `--a.b=-1`) come back in order as `[key, value]` pairs. Other unknown flags and
 * positional arguments are `UsageError`s.
 */
export function parseFlagsWithDotted<O extends Options>(
  argv: readonly string[],
  options: O,
): { values: Flags<O>; dotted: [string, string][] } {
  const args = [...argv];
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dotted: [string, string][] = [];
  const consumed = new Set<number>();
  for (const t of parsed.tokens) {
    if (consumed.has(t.index)) continue;
    if (t.kind === 'positional') throw new UsageError(`unexpected argument '${t.value}'`);
    if (t.kind !== 'option') continue;
    const spec = options[t.name];
    if (spec) {
      if (spec.type === 'string' && t.value === undefined) throw new UsageError(`--${t.name} needs a value`);
      if (spec.type === 'boolean' && t.inlineValue) throw new UsageError(`--${t.name} takes no value`);
      continue;
    }
    if (!t.rawName.startsWith('--') || !t.name.includes('.')) throw unknownFlag(t.name, Object.keys(options));
    let value = t.value;
    if (value === undefined) {
      const next = args[t.index + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${t.name} needs a value`);
      value = next;
      consumed.add(t.index + 1);
    }
    dotted.push([t.name, value]);
  }
  // Values of string flags: `parseArgs` keeps them; tokens after a dotted flag's value (a short-option
  // look-alike such as `-1`) were consumed above.
  return { values: parsed.values as Flags<O>, dotted };
}

/** The value of a required flag. */
export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing required flag --${flag}`);
  return value;
}

/**
 * `--redis <url>`, else `$SAMTUNE_REDIS_URL`: a URL with a password (`redis://:secret@host:6379`) in
 * the environment stays out of the process list.
 */
export function redisUrl(flag: string | undefined): string {
  const url = flag ?? process.env.SAMTUNE_REDIS_URL;
  if (url === undefined || url === '')
    throw new UsageError('missing required flag --redis (or SAMTUNE_REDIS_URL in the environment)');
  return url;
}

function numbers(text: string, flag: string, count: number, what: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.length !== count || values.some((v) => !Number.isFinite(v))) {
    throw new UsageError(`--${flag} '${text}': expected ${what}`);
  }
  return values;
}

/** `--point x,y,label` in original image pixels; label 1 (foreground) or 0 (background). */
export function parsePoint(text: string): { x: number; y: number; label: number } {
  const [x, y, label] = numbers(text, 'point', 3, 'x,y,label with label 1 (foreground) or 0 (background)') as [
    number,
    number,
    number,
  ];
  if (label !== 0 && label !== 1)
    throw new UsageError(`--point '${text}': label must be 1 (foreground) or 0 (background), got ${label}`);
  return { x, y, label };
}

/** `--box x0,y0,x1,y1` (XYXY, original image pixels, x0 < x1 and y0 < y1). */
export function parseBox(text: string): [number, number, number, number] {
  const b = numbers(text, 'box', 4, 'x0,y0,x1,y1 (XYXY, pixels)') as [number, number, number, number];
  if (!(b[0] < b[2] && b[1] < b[3])) throw new UsageError(`--box '${text}': needs x0 < x1 and y0 < y1`);
  return b;
}
