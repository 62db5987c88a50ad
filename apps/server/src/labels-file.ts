/**
 * The labels file on disk: a COCO instances JSON written one item per line, so that no step ever
 * holds the whole file as one JavaScript string (V8 caps strings at ~512 MB, about 10k masks on
 * 12 MP photos):
 *
 * ```
 * {
 * "info":{…},
 * "images":[
 * {"id":1,"file_name":"a.jpg",…},
 * …
 * ],
 * "annotations":[
 * …
 * ],
 * "categories":[
 * …
 * ]
 * }
 * ```
 *
 * It is plain JSON: any COCO reader (pycocotools, `@samtune/datasets`) reads it. A file up to
 * `wholeFileBytes` is read with one `JSON.parse` (any layout, as other tools write it); a larger one
 * is read line by line, and must then have this layout (the server wrote it).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import type {
  CocoAnnotation as BaseCocoAnnotation,
  CocoCategory,
  CocoCompressedRle,
  CocoDocument as BaseCocoDocument,
  CocoImage,
} from '@samtune/datasets';
import type { CocoRle } from './rle.js';

/** Compressed COCO RLE: `counts` as pycocotools' string code (what the file stores for new masks). */
export type CompressedRle = CocoCompressedRle;
export type { CocoCategory, CocoImage };

/**
 * An annotation of the labels file (`@samtune/datasets`' one COCO type): compressed RLE as the server
 * writes it; uncompressed counts in files from elsewhere and in API replies; fields of other tools kept.
 */
export type CocoAnnotation = BaseCocoAnnotation<CompressedRle | CocoRle> & { [extra: string]: unknown };

/** The labels file: a COCO instances document. */
export type CocoDocument = BaseCocoDocument<CocoAnnotation>;

/** The labels file exists but cannot be used (not JSON, not a COCO object); it is never overwritten then. */
export class LabelsFileError extends SamtuneError {
  readonly code: string = 'labels-file';
  readonly kind: ErrorKind = 'input';
}

/** Files up to this size are read with one `JSON.parse`; larger ones line by line. */
export const WHOLE_FILE_BYTES = 256 * 2 ** 20;

const ARRAYS = ['images', 'annotations', 'categories'] as const;

/** Checks the top-level shape; fills in missing arrays. */
function asCocoDocument(o: unknown, file: string): CocoDocument {
  const d = o as Partial<CocoDocument> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    Array.isArray(d) ||
    ARRAYS.some((k) => d[k] !== undefined && !Array.isArray(d[k]))
  )
    throw new LabelsFileError(
      `readLabelsFile(): ${file} is not a COCO object {images: [], annotations: [], categories: []}; fix or move it, it is not overwritten`,
    );
  return {
    ...d,
    images: d.images ?? [],
    annotations: d.annotations ?? [],
    categories: d.categories ?? [],
  } as CocoDocument;
}

/** Reads a file in the line layout above, one line at a time. */
async function readLines(file: string, wholeFileBytes: number): Promise<unknown> {
  const doc: Record<string, unknown> = {};
  let array: unknown[] | undefined;
  let n = 0;
  let state: 'start' | 'keys' | 'end' = 'start';
  const bad = (what: string): LabelsFileError =>
    new LabelsFileError(
      `readLabelsFile(): ${file} is larger than ${wholeFileBytes} bytes and line ${n} is not in the server's one-item-per-line layout (${what}); fix or move it, it is not overwritten`,
    );
  const strip = (line: string): string => (line.endsWith(',') ? line.slice(0, -1) : line);
  for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
    n++;
    if (state === 'start') {
      if (line !== '{') throw bad("expected '{'");
      state = 'keys';
    } else if (array) {
      if (line === ']' || line === '],') array = undefined;
      else
        try {
          array.push(JSON.parse(strip(line)));
        } catch (err) {
          throw bad((err as Error).message);
        }
    } else if (state === 'keys') {
      if (line === '}') state = 'end';
      else {
        const m = /^("(?:[^"\\]|\\.)*"):\[$/.exec(line);
        try {
          if (m) doc[JSON.parse(m[1] as string) as string] = array = [];
          else Object.assign(doc, JSON.parse(`{${strip(line)}}`));
        } catch (err) {
          throw bad((err as Error).message);
        }
      }
    } else if (line.trim() !== '') throw bad('text after the closing brace');
  }
  if (state !== 'end') throw bad('the file ends before its closing brace');
  return doc;
}

/**
 * The document in `file` (an empty one when it does not exist).
 * @throws LabelsFileError when it cannot be read or is not a COCO object.
 */
export async function readLabelsFile(file: string, wholeFileBytes = WHOLE_FILE_BYTES): Promise<CocoDocument> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { images: [], annotations: [], categories: [] };
    throw new LabelsFileError(`readLabelsFile(): cannot read ${file}: ${(err as Error).message}`);
  }
  if (size > wholeFileBytes) return asCocoDocument(await readLines(file, wholeFileBytes), file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new LabelsFileError(`readLabelsFile(): cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return asCocoDocument(JSON.parse(text), file);
  } catch (err) {
    if (err instanceof LabelsFileError) throw err;
    throw new LabelsFileError(
      `readLabelsFile(): ${file} is not valid JSON (${(err as Error).message}); fix or move it, it is not overwritten`,
    );
  }
}

/** The document as the lines of the layout above, in chunks of about 1 MB (for `writeFileAtomicAsync`). */
export function* labelsFileChunks(doc: CocoDocument): Generator<string> {
  let buf = '{\n';
  const flush = function* (force: boolean): Generator<string> {
    if (buf.length >= 2 ** 20 || (force && buf.length > 0)) {
      yield buf;
      buf = '';
    }
  };
  const keys = [...Object.keys(doc).filter((k) => !(ARRAYS as readonly string[]).includes(k)), ...ARRAYS];
  for (const [i, key] of keys.entries()) {
    const comma = i < keys.length - 1 ? ',' : '';
    const value = doc[key];
    if (!(ARRAYS as readonly string[]).includes(key)) {
      buf += `${JSON.stringify(key)}:${JSON.stringify(value)}${comma}\n`;
      continue;
    }
    const items = value as unknown[];
    buf += `${JSON.stringify(key)}:[\n`;
    for (let j = 0; j < items.length; j++) {
      buf += `${JSON.stringify(items[j])}${j < items.length - 1 ? ',' : ''}\n`;
      yield* flush(false);
    }
    buf += `]${comma}\n`;
  }
  buf += '}\n';
  yield* flush(true);
}
