/**
 * The I/O contract of samtune's ONNX models: names, shapes and meanings of every input and output,
 * the metadata keys written into each model, and the single-mask selection rule.
 *
 * The decoder follows the official SAM export (segment-anything `scripts/export_onnx_model.py`,
 * `utils/onnx.py` `SamOnnxModel`): same input/output names, order, shapes and float32 types, so
 * consumers of the official model (its web demo, tools built on it) run a samtune decoder unchanged.
 */
import { SAMTUNE_PRODUCER_VERSION } from '@samtune/onnx';

/** samtune version written into model metadata and `model.json`. */
export const SAMTUNE_VERSION = SAMTUNE_PRODUCER_VERSION;

/** Opset of every exported model (>= 17 for LayerNormalization). */
export const EXPORT_OPSET = 17;

/** The three model files of an export directory, and `model.json`. */
export const EXPORT_FILES = {
  encoder: 'encoder.onnx',
  encoderRgb: 'encoder_rgb.onnx',
  decoder: 'decoder.onnx',
  modelJson: 'model.json',
} as const;

/** Which decoder outputs a model returns. */
export type DecoderVariant = 'multimask' | 'single_mask';

/** Which image encoder input a model takes. */
export type EncoderVariant = 'images' | 'rgb';

/** Decoder input names, in the official order. */
export const DECODER_INPUTS = [
  'image_embeddings',
  'point_coords',
  'point_labels',
  'mask_input',
  'has_mask_input',
  'orig_im_size',
] as const;
/** Decoder output names, in the official order (`masks` first: the official demo reads output 0). */
export const DECODER_OUTPUTS = ['masks', 'iou_predictions', 'low_res_masks'] as const;
/** Encoder input of the normalised-and-padded variant. */
export const ENCODER_INPUT = 'images';
/** Encoder input of the raw-RGB variant (official `ImageEncoderOnnxModel(use_preprocess=True)` name). */
export const ENCODER_RGB_INPUT = 'input_image';
/** Encoder output (both variants). */
export const ENCODER_OUTPUT = 'image_embeddings';

/** Point labels of the official export. */
export const POINT_LABEL = { padding: -1, background: 0, foreground: 1, boxTopLeft: 2, boxBottomRight: 3 } as const;

/**
 * The single-mask selection rule, as written into model metadata and `model.json`. It is sam-model's
 * `useMultimask` / `selectMaskIndex` (mask-selection.ts), evaluated inside the graph from `point_labels`.
 */
export const MASK_SELECTION_RULE =
  'samtune rule (sam-model useMultimask/selectMaskIndex): count the point_labels equal to 0 or 1 (points) ' +
  'and equal to 2 or 3 (box corners); padding (-1) is not counted. Exactly one point and no box corner: ' +
  'the ambiguous case, the mask of multimask tokens 1..3 with the highest predicted IoU is returned ' +
  '(the first on ties). Every other prompt (a box, a box with points, two or more points): token 0, the ' +
  "single-mask token. The official export's (num_points - 2.5) * 1000 reweighting is NOT used: with it a " +
  'box-only prompt (2 corner points) would return an untrained multimask token after box training.';

/** Token layout of the multimask decoder's 4 outputs (the official `return_single_mask=False` export). */
export const MULTIMASK_TOKENS =
  'index 0: the single-mask token (boxes, several points); indices 1..3: the multimask tokens (one ambiguous point)';

/** Description of one model input or output. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: 'float32';
  /** Numbers are fixed; strings name dynamic dims. */
  readonly shape: readonly (number | string)[];
  readonly description: string;
}

/** Decoder inputs for an embedding grid `(eh,ew)` with `c` channels (SAM: 64x64x256). */
export function decoderInputSpecs(c: number, eh: number, ew: number): TensorSpec[] {
  return [
    {
      name: 'image_embeddings',
      dtype: 'float32',
      shape: [1, c, eh, ew],
      description: 'image encoder output for one image',
    },
    {
      name: 'point_coords',
      dtype: 'float32',
      shape: [1, 'num_points', 2],
      description: 'XY in the 1024 resized frame (original pixels x 1024/max(H,W)); box corners are two points',
    },
    {
      name: 'point_labels',
      dtype: 'float32',
      shape: [1, 'num_points'],
      description:
        '1 foreground, 0 background, 2 box top-left, 3 box bottom-right, -1 padding; points without a box need a padding point (0,0) label -1',
    },
    {
      name: 'mask_input',
      dtype: 'float32',
      shape: [1, 1, 4 * eh, 4 * ew],
      description: 'low-res mask logits of an earlier prediction (zeros when none)',
    },
    { name: 'has_mask_input', dtype: 'float32', shape: [1], description: '1 when mask_input is used, else 0' },
    {
      name: 'orig_im_size',
      dtype: 'float32',
      shape: [2],
      description: '(H,W) of the original image: size of the output masks',
    },
  ];
}

/** Decoder outputs: M = 4 (multimask) or 1 (single-mask). */
export function decoderOutputSpecs(variant: DecoderVariant, eh: number, ew: number): TensorSpec[] {
  const m = variant === 'multimask' ? 4 : 1;
  const which = variant === 'multimask' ? MULTIMASK_TOKENS : 'the mask chosen by the mask-selection rule';
  return [
    {
      name: 'masks',
      dtype: 'float32',
      shape: [1, m, 'orig_height', 'orig_width'],
      description: `mask logits at orig_im_size (binary: > 0); ${which}`,
    },
    { name: 'iou_predictions', dtype: 'float32', shape: [1, m], description: 'predicted IoU of each mask' },
    {
      name: 'low_res_masks',
      dtype: 'float32',
      shape: [1, m, 4 * eh, 4 * ew],
      description: 'low-res mask logits (feed one back as mask_input)',
    },
  ];
}

/** Encoder input of a variant, for an `s x s` input frame (1024). */
export function encoderInputSpec(variant: EncoderVariant, s: number): TensorSpec {
  return variant === 'images'
    ? {
        name: ENCODER_INPUT,
        dtype: 'float32',
        shape: [1, 3, s, s],
        description: `RGB NCHW, resized to longest side ${s}, normalised with pixel_mean/pixel_std, then zero-padded bottom/right`,
      }
    : {
        name: ENCODER_RGB_INPUT,
        dtype: 'float32',
        shape: ['height', 'width', 3],
        description: `RGB HWC 0-255, resized to longest side ${s} and NOT padded (height, width <= ${s}); normalised then zero-padded inside the model`,
      };
}

/** Encoder output for `c` channels on an `(eh,ew)` grid. */
export function encoderOutputSpec(c: number, eh: number, ew: number): TensorSpec {
  return {
    name: ENCODER_OUTPUT,
    dtype: 'float32',
    shape: [1, c, eh, ew],
    description: 'image embeddings (decoder input image_embeddings)',
  };
}

/** Keys of the `metadata_props` written into each model. */
export const METADATA_KEYS = {
  component: 'samtune.component',
  version: 'samtune.version',
  checkpointSha256: 'samtune.checkpoint_sha256',
  checkpointPath: 'samtune.checkpoint',
  modelName: 'samtune.model',
  pixelMean: 'samtune.pixel_mean',
  pixelStd: 'samtune.pixel_std',
  imageSize: 'samtune.image_size',
  maskThreshold: 'samtune.mask_threshold',
  maskSelection: 'samtune.mask_selection',
  decoderVariant: 'samtune.decoder_variant',
  inputs: 'samtune.inputs',
  outputs: 'samtune.outputs',
} as const;
