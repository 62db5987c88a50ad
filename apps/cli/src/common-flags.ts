/** Flags that several commands share, written once (see `flags.ts`). */
import { Type } from 'typebox';
import { UsageError } from './command.js';
import { Flag } from './flags.js';

export const checkpoint = Flag.text(
  "tiny_vit | vit_b | vit_l | vit_h (downloaded, cached), a .pth/.pt/.safetensors file, or a run's best.safetensors",
  { placeholder: '<name|path>' },
);
export const dataRoot = Flag.text(
  'dataset folder (COCO, VOC, CSS, Datumaro, a plugin format; detected) or a COCO instances .json file',
  {
    placeholder: '<dir|file>',
  },
);
export const images = Type.Optional(
  Flag.text("image folder of a COCO .json --data-root (default: the file's folder)", { placeholder: '<dir>' }),
);
export const format = Flag.text('dataset format: auto (detected) or a format name', {
  placeholder: '<name>',
  default: 'auto',
});
export const cacheDir = Type.Optional(
  Flag.text('embedding cache folder (default <samtune cache>/embeddings)', { placeholder: '<dir>' }),
);
export const seed = (what: string) =>
  Type.Integer({ description: what, expected: 'an integer', placeholder: '<n>', default: 0 });
export const strict = Flag.bool('stop at the first bad image or annotation (default: report it, skip it, count it)');
export const json = (what: string) => Flag.bool(what);
export const backend = Type.Optional(
  Flag.text('tfjs backend: wasm | cpu | tensorflow | tensorflow-gpu', { placeholder: '<name>' }),
);
export const crowd = Flag.oneOf(
  ['keep', 'ignore'],
  "crowd instances (iscrowd 1; CVAT's mask-tool objects): keep scores them like the others, ignore leaves them out; counted either way",
  { default: 'keep' },
);
export const redis = Type.Optional(
  Flag.text('redis://[:password@]host:port of the queue (default $SAMTUNE_REDIS_URL)', { placeholder: '<url>' }),
);

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
