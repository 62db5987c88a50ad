/** The flags of `samtune predict` (a flag table, see `flags.ts`). */
import { Type } from 'typebox';
import { Flag } from '../flags.js';

const path = (description: string, placeholder: string) => Type.Optional(Flag.text(description, { placeholder }));
export const PREDICT_FLAGS = Type.Object({
  checkpoint: path(
    "a .pth/.safetensors/registry name (tfjs decoder), or a directory written by 'samtune export' (model.json): then its ONNX models run on onnxruntime",
    '<name|path|dir>',
  ),
  model: path("an export directory ('samtune export'), explicitly", '<dir>'),
  image: path('the image', '<file>'),
  embedding: path("reuse a file written by 'samtune embed' instead of encoding the image", '<file.safetensors>'),
  point: Flag.points('a point prompt in original image pixels, label 1 foreground, 0 background; repeatable'),
  box: Type.Optional(Flag.box('a box prompt (XYXY, original image pixels); with points, both go to SAM')),
  'mask-input': path(
    'low-res logits [1,256,256] from an earlier prediction (e.g. its low_res_masks)',
    '<file.npy|.safetensors>',
  ),
  multimask: Flag.bool('three masks (ambiguity-aware) instead of one (refused by an export made with --single-mask)'),
  out: Flag.text(
    '.safetensors: low_res_masks [M,256,256], iou_predictions [M], masks [M,H,W] (logits); .png: the mask with the highest predicted IoU',
    { placeholder: '<file.safetensors|file.png>' },
  ),
  overlay: path('also write that mask and the prompts drawn over the image (needs --image)', '<file.png>'),
  'mask-threshold': Type.Optional(
    Flag.num(
      "logit above which a pixel is inside the .png/overlay mask (default 0, SAM's; negative: --mask-threshold=-0.5)",
      'a number (a logit)',
    ),
  ),
  int8: Flag.bool("with an export directory: run the INT8 models 'samtune optimize' wrote, where there are any"),
});
