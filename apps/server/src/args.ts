/** Command-line flags of `samtune-server` (parsing only). */
import { parseArgs } from 'node:util';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown for bad flags; `main` prints it with the usage and exits 2. */
export class UsageError extends SamtuneError {
  readonly code: string = 'usage';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'UsageError';
}

export const USAGE = `usage: samtune-server --checkpoint <name|path> [--port 8080] [--host 127.0.0.1] [--images <dir>] [--cache 16]

  --checkpoint  a published checkpoint name (tiny_vit, vit_b, …), a .pth, or a fine-tuned run's best.safetensors
  --port        port to listen on (0: any free port)
  --host        address to bind; keep 127.0.0.1 unless you mean to serve others
  --images      folder of images to label; labels are saved there as _annotations.coco.json
  --cache       image embeddings kept in memory (4 MiB each)

Open http://<host>:<port>/ for the labelling page; the API is under /api/ (see apps/server/README.md).`;

/** Parsed flags. */
export interface ServerArgs {
  readonly checkpoint: string;
  readonly port: number;
  readonly host: string;
  readonly images?: string;
  readonly cache: number;
  readonly help: boolean;
}

function integer(v: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new UsageError(`--${flag}: expected an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

/** Parses `argv` (without node and the script). @throws UsageError naming the flag. */
export function parseServerArgs(argv: readonly string[]): ServerArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        checkpoint: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        images: { type: 'string' },
        cache: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const help = values.help === true;
  const checkpoint = values.checkpoint as string | undefined;
  if (!checkpoint && !help) throw new UsageError('--checkpoint: required (a checkpoint name or path)');
  const images = values.images as string | undefined;
  return {
    checkpoint: checkpoint ?? '',
    port: integer(values.port as string | undefined, 'port', 8080, 0, 65535),
    host: (values.host as string | undefined) ?? '127.0.0.1',
    ...(images === undefined ? {} : { images }),
    cache: integer(values.cache as string | undefined, 'cache', 16, 1, 4096),
    help,
  };
}
