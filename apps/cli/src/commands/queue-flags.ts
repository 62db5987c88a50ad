/** The flags of `samtune queue embed|autolabel` (a flag table, see `flags.ts`). */
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { Flag } from '../flags.js';

const COMMON = {
  redis: common.redis,
  'data-root': Flag.text(
    'a dataset folder (COCO, VOC, CSS, Datumaro), a _annotations.coco.json, or (embed) a folder of images (recursive)',
    { placeholder: '<path>' },
  ),
  out: Flag.text(
    'SHARED output folder that every worker sees at this same path (NFS/EFS mount, or a bucket mounted as a folder)',
    { placeholder: '<dir>' },
  ),
  checkpoint: Flag.text(
    'tiny_vit | vit_b | vit_l | vit_h | sam2.1_hiera_<size> or a .pth/.pt/.safetensors path every worker sees',
    { placeholder: '<name|path>' },
  ),
  format: Type.Optional(Flag.text('dataset format (default: detected)', { placeholder: '<name>' })),
  subset: Flag.texts('only this subset (repeatable; default all)', '<name>'),
  attempts: Flag.int('attempts per job for transient errors (bad input fails at once)', 1, { default: 3 }),
  json: common.json('print {"queue", "total", "added", "alreadyDone", "alreadyQueued", "skipped"}'),
};
const AUTOLABEL = {
  'cache-dir': Type.Optional(
    Flag.text("embedding cache to reuse and fill (e.g. the --out of 'queue embed'); default: none", {
      placeholder: '<dir>',
    }),
  ),
  prompt: Flag.oneOf(['both', 'box', 'points'], 'both: the box when an instance has one, else its points', {
    default: 'both',
  }),
};
/** `queue autolabel`'s flags. */
export const QUEUE_AUTOLABEL_FLAGS = Type.Object({ ...COMMON, ...AUTOLABEL });
/** `queue embed`'s flags: no --cache-dir and --prompt (its prompt is undefined, read as both). */
export const QUEUE_EMBED_FLAGS = Type.Object(COMMON) as unknown as typeof QUEUE_AUTOLABEL_FLAGS;
