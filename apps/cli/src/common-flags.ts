/** Flags that several commands share, written once (see `flags.ts`). */
import { Type } from 'typebox';
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
