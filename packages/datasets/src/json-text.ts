/**
 * Reading annotation JSON the way the tools that write it do: standard JSON, plus the `NaN`,
 * `Infinity` and `-Infinity` literals that Python's `json` module writes by default (and that
 * pycocotools therefore reads). Nesting is bounded before parsing, so a hostile file cannot exhaust
 * the stack of later code (`JSON.stringify`, recursive walkers); the readers turn a failure into a
 * `MalformedAnnotationError` naming the file.
 */

/** Deepest nesting of arrays/objects accepted. COCO, VOC-as-JSON and Datumaro need fewer than 10. */
export const MAX_JSON_DEPTH = 512;

/** A JSON text that cannot be read; `message` is the problem alone (the reader adds the file). */
export class JsonTextError extends Error {
  override readonly name = 'JsonTextError';
}

const SENTINEL = '\u0000samtune-py-json:';
const PY_VALUES: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

interface Scan {
  /** Offsets and lengths of Python literals outside strings. */
  readonly literals: { start: number; text: string }[];
}

/** One pass over the text: nesting depth (throws beyond `maxDepth`) and Python literals outside strings. */
function scan(text: string, maxDepth: number): Scan {
  const literals: { start: number; text: string }[] = [];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped char
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth)
        throw new JsonTextError(
          `expected JSON nested at most ${maxDepth} levels deep, got more than ${maxDepth} at offset ${i}`,
        );
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (c === 0x4e /* N */ && text.startsWith('NaN', i)) literals.push({ start: i, text: 'NaN' });
    else if (c === 0x49 /* I */ && text.startsWith('Infinity', i)) literals.push({ start: i, text: 'Infinity' });
    else if (c === 0x2d /* - */ && text.startsWith('-Infinity', i)) {
      literals.push({ start: i, text: '-Infinity' });
      i += '-Infinity'.length - 1;
    }
  }
  return { literals };
}

/**
 * Parses annotation JSON: standard JSON or Python's (`NaN`, `Infinity`, `-Infinity` become those
 * numbers). Throws `JsonTextError` when nested deeper than `maxDepth` or not parseable.
 */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const { literals } = scan(text, maxDepth);
  if (literals.length === 0) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new JsonTextError(`cannot parse JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const chunks: string[] = [];
  let at = 0;
  for (const lit of literals) {
    chunks.push(text.slice(at, lit.start), JSON.stringify(SENTINEL + lit.text));
    at = lit.start + lit.text.length;
  }
  chunks.push(text.slice(at));
  try {
    return JSON.parse(chunks.join(''), (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith(SENTINEL) ? PY_VALUES[value.slice(SENTINEL.length)] : value,
    ) as unknown;
  } catch (err) {
    throw new JsonTextError(
      `cannot parse JSON, even as Python's json with NaN/Infinity (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/**
 * A short text for a JSON value in messages: NaN and ±Infinity written as such (JSON.stringify
 * would say `null`), cut to `max` characters.
 */
export function describeJson(value: unknown, max = 200): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? `${SENTINEL}${String(v)}` : v,
    );
  } catch {
    text = Object.prototype.toString.call(value);
  }
  if (text === undefined) return String(value);
  text = text.replace(new RegExp(`"${SENTINEL.replace('\u0000', '\\\\u0000')}([^"]*)"`, 'g'), '$1');
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}

/** What a JSON value is, for messages: `null`, `an array`, `a string`, `a number`, `an object`, …. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'nothing' : `a ${t}`;
}

/** The detail for a failed read or parse of an annotation file (JsonTextError or an fs error). */
export function jsonFailure(err: unknown): string {
  if (err instanceof JsonTextError) return err.message;
  return `cannot read the file (${err instanceof Error ? err.message : String(err)})`;
}
