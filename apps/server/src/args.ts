/** Command-line flags of `samtune-server` (parsing only). */
import { parseArgs } from 'node:util';
import { SamtuneError, type ErrorKind } from '@samtune/errors';
import { isLoopback } from './security.js';

/** Thrown for bad flags; `main` prints it with the usage and exits 2. */
export class UsageError extends SamtuneError {
  readonly code: string = 'usage';
  readonly kind: ErrorKind = 'input';
  override readonly name = 'UsageError';
}

export const USAGE = `usage: samtune-server (--checkpoint <name|path> | --model <export dir> [--int8]) [flags]

  --checkpoint      a published checkpoint name (tiny_vit, vit_b, …), a .pth, or a fine-tuned run's best.safetensors
  --model           an export directory (samtune export: model.json + ONNX files), run on onnxruntime
  --int8            with --model: run the INT8 files that samtune optimize wrote (encoder/decoder.int8.onnx)
  --images          folder of images to label; labels are saved there as _annotations.coco.json
  --port            port to listen on (default 8080; 0: any free port)
  --host            address to bind (default 127.0.0.1); anything but loopback requires --token
  --token           bearer token every /api/ request must carry (open the page as http://host:port/#token=<token>);
                    SAMTUNE_SERVER_TOKEN sets it without showing it in the process list
  --allow-host      another name the Host header may carry (repeatable), e.g. the machine's DNS name
  --cache           image embeddings kept in memory (default 16, 4 MiB each)
  --queue           model jobs waiting or running before new requests get 503 (default 32)
  --max-megapixels  largest image decoded, checked from its header before decoding (default 40)

Open http://<host>:<port>/ for the labelling page; the API is under /api/ (GET /api/openapi.json).`;

/** Parsed flags. */
export interface ServerArgs {
  /** Exactly one of `checkpoint` and `model` is set (unless `help`). */
  readonly checkpoint?: string;
  readonly model?: string;
  readonly int8: boolean;
  readonly port: number;
  readonly host: string;
  readonly images?: string;
  readonly token?: string;
  readonly allowHosts: readonly string[];
  readonly cache: number;
  readonly queue: number;
  readonly maxMegapixels: number;
  readonly help: boolean;
}

function integer(v: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw new UsageError(`--${flag}: expected an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

/**
 * Parses `argv` (without node and the script).
 * @param env environment (`SAMTUNE_SERVER_TOKEN` is the token when `--token` is absent)
 * @throws UsageError naming the flag
 */
export function parseServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ServerArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        checkpoint: { type: 'string' },
        model: { type: 'string' },
        int8: { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        images: { type: 'string' },
        token: { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        cache: { type: 'string' },
        queue: { type: 'string' },
        'max-megapixels': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const help = values.help === true;
  const checkpoint = str('checkpoint');
  const model = str('model');
  if (!help && (checkpoint === undefined) === (model === undefined))
    throw new UsageError(
      `--checkpoint / --model: expected exactly one (a checkpoint name or path, or an export directory), got ${checkpoint === undefined ? 'neither' : 'both'}`,
    );
  const int8 = values.int8 === true;
  if (int8 && model === undefined)
    throw new UsageError('--int8: expected together with --model <export dir>, got --checkpoint');
  const host = str('host') ?? '127.0.0.1';
  const token = str('token') ?? env.SAMTUNE_SERVER_TOKEN;
  if (token !== undefined && !/^[\x21-\x7e]{16,512}$/.test(token))
    throw new UsageError(
      `--token: expected 16 to 512 printable characters without spaces, got ${token.length} characters`,
    );
  if (!help && !isLoopback(host) && token === undefined)
    throw new UsageError(
      `--host ${host}: binding to anything but loopback requires --token <secret> (or SAMTUNE_SERVER_TOKEN), got none`,
    );
  const images = str('images');
  return {
    ...(checkpoint === undefined ? {} : { checkpoint }),
    ...(model === undefined ? {} : { model }),
    int8,
    port: integer(str('port'), 'port', 8080, 0, 65535),
    host,
    ...(images === undefined ? {} : { images }),
    ...(token === undefined ? {} : { token }),
    allowHosts: (values['allow-host'] as string[] | undefined) ?? [],
    cache: integer(str('cache'), 'cache', 16, 1, 4096),
    queue: integer(str('queue'), 'queue', 32, 1, 10_000),
    maxMegapixels: integer(str('max-megapixels'), 'max-megapixels', 40, 1, 1000),
    help,
  };
}
