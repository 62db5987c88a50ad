/** The flags of `samtune eval` with a checkpoint (a flag table, see `flags.ts`). */
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { Flag } from '../flags.js';

export const EVAL_FLAGS = Type.Object({
  checkpoint: common.checkpoint,
  'data-root': common.dataRoot,
  images: common.images,
  'val-fraction': Type.Optional(
    Flag.num(
      'score a run on its own validation images: split a one-subset dataset by --seed like train did (eval never splits without it)',
      'a number in [0, 1)',
      { minimum: 0, exclusiveMaximum: 1 },
    ),
  ),
  seed: common.seed('seed of that split and of point prompts'),
  format: common.format,
  subset: Type.Optional(
    Flag.text(
      'subset to score, any case (val also finds valid, validation, val2017); default: the validation subset, or the only subset, evaluated whole',
      { placeholder: '<name>' },
    ),
  ),
  crowd: common.crowd,
  prompt: Flag.oneOf(['box', 'point'], 'prompt kind', { default: 'box' }),
  'max-instances': Flag.int('instances per image, 0 = all', 0, { default: 0 }),
  clicks: Flag.int(
    'also measure clicks-to-quality with at most this many clicks (NoC@85/90, IoU@1/3/5; 20 is the standard), 0 = off',
    0,
    { default: 0 },
  ),
  out: Type.Optional(
    Flag.text('also write the metrics (and the skipped inputs) there, checked before the evaluation starts', {
      placeholder: '<file.json>',
    }),
  ),
  strict: common.strict,
  'cache-dir': common.cacheDir,
  backend: common.backend,
  json: common.json(
    'print only {"f1","iou","dice","ap","ap50","ap75","images","instances","crowd","crowdIgnored","skipped"} (and "clicks") on stdout',
  ),
});
