/**
 * Flag parsing shared by the commands: `node:util` `parseArgs` in strict mode, with its errors turned
 * into `UsageError`s, and parsers for the prompt syntaxes (`x,y,label`, `x0,y0,x1,y1`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;
/** Parsed flag values of `parseFlags` for an options table `O`. */
export type Flags<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>
>['values'];

/** `parseArgs` (strict, no positionals) whose errors are `UsageError`s. */
export function parseFlags<O extends Options>(argv: string[], options: O): Flags<O> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** The value of a required flag. */
export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing required flag --${flag}`);
  return value;
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
