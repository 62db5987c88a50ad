/**
 * The schema of `model.json` (TypeBox): its TypeScript types come from it, `readModelJson` validates
 * with it, and it declares the INT8 entries (`models.encoder_int8`, `models.decoder_int8`) and the
 * `quantization` block that `samtune optimize` (quantize-ptq) writes. Keys are snake_case and stable;
 * `format_version` changes on incompatible edits.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { SamConfig } from '@samtune/sam-model';

/** Value of `format`. */
export const MODEL_JSON_FORMAT = 'samtune-onnx';
/** Current `format_version`. */
export const MODEL_JSON_VERSION = 1;

/** A readonly array (the types of model.json are readonly, like the exporter's own specs). */
const List = <T extends TSchema>(t: T, opts?: { minItems?: number; maxItems?: number }) =>
  Type.Immutable(Type.Array(t, opts));

const Dim = Type.Union([Type.Integer({ minimum: 0 }), Type.String()]);

/** One input or output of a model file: numbers are fixed dims, strings name dynamic ones. */
export const TensorSpecSchema = Type.Object({
  name: Type.String(),
  dtype: Type.Literal('float32'),
  shape: List(Dim),
  description: Type.String(),
});

/** Worst agreement ratio per output over the verification cases (<= 1 passed). */
export const VerificationSummarySchema = Type.Object({
  /** What the model was compared with. */
  reference: Type.String(),
  cases: List(Type.String()),
  /** Output name -> worst `max|diff| / (1e-4 + 1e-3 max|ref|)` and the case it came from. */
  worst_ratio: Type.Record(Type.String(), Type.Object({ ratio: Type.Number(), case: Type.String() })),
});

const fileEntry = {
  /** File name relative to the directory. */
  file: Type.String({ minLength: 1 }),
  /** Initializers stored beside the model (large encoders), relative to the directory. */
  external_data: Type.Optional(Type.String({ minLength: 1 })),
  bytes: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  opset: Type.Integer({ minimum: 1 }),
  inputs: List(TensorSpecSchema),
  outputs: List(TensorSpecSchema),
  verification: Type.Optional(VerificationSummarySchema),
};

/** One model file of the directory. */
export const ModelFileEntrySchema = Type.Object(fileEntry);
export const EncoderEntrySchema = Type.Object({
  ...fileEntry,
  variant: Type.Union([Type.Literal('images'), Type.Literal('rgb')]),
});
export const DecoderEntrySchema = Type.Object({
  ...fileEntry,
  variant: Type.Union([Type.Literal('multimask'), Type.Literal('single_mask')]),
});

/** How an INT8 file was made and what it cost in F1 (written by `samtune optimize`). */
export const Int8InfoSchema = Type.Object({
  mode: Type.Union([Type.Literal('static'), Type.Literal('dynamic')]),
  method: Type.Optional(Type.String()),
  f1_drop_points: Type.Number(),
});
export const Int8EncoderEntrySchema = Type.Object({
  ...fileEntry,
  variant: Type.Union([Type.Literal('images'), Type.Literal('rgb')]),
  quantization: Int8InfoSchema,
});
export const Int8DecoderEntrySchema = Type.Object({
  ...fileEntry,
  variant: Type.Union([Type.Literal('multimask'), Type.Literal('single_mask')]),
  quantization: Int8InfoSchema,
});

/** One accuracy-gate decision of `samtune optimize`. */
export const GateDecisionSchema = Type.Object({
  model: Type.String(),
  fp32F1: Type.Number(),
  int8F1: Type.Number(),
  f1DropPoints: Type.Number(),
  maxF1Drop: Type.Number(),
  passed: Type.Boolean(),
});

/** The `quantization` block: when and how `samtune optimize` ran, and its gate decisions. */
export const QuantizationBlockSchema = Type.Object({
  created_at: Type.String(),
  mode: Type.Union([Type.Literal('static'), Type.Literal('dynamic')]),
  max_f1_drop: Type.Number(),
  /** The report file, relative to the directory. */
  report: Type.String(),
  decisions: List(GateDecisionSchema),
});

const Rgb = List(Type.Number(), { minItems: 3, maxItems: 3 });

/** Contents of `model.json`. */
export const ModelJsonSchema = Type.Object({
  format: Type.Literal(MODEL_JSON_FORMAT),
  format_version: Type.Literal(MODEL_JSON_VERSION),
  samtune_version: Type.String(),
  created_at: Type.String(),
  checkpoint: Type.Object({ path: Type.String(), sha256: Type.String() }),
  /** Config name (`tiny_vit`, `vit_b`, `custom`, …). */
  model: Type.String(),
  /** The full `SamConfig` (checked by sam-model when the config is used). */
  config: Type.Unsafe<SamConfig>(Type.Object({}, { additionalProperties: true })),
  /** Side of the square input frame (1024). */
  image_size: Type.Integer({ minimum: 1 }),
  /** RGB mean / std on the 0-255 scale. */
  pixel_mean: Rgb,
  pixel_std: Rgb,
  /** Logit threshold of binary masks (0). */
  mask_threshold: Type.Number(),
  mask_selection: Type.Object({ rule: Type.String(), multimask_tokens: Type.String() }),
  /**
   * Prompt recipe: coordinates are XY in the 1024 frame (`original * new_side / old_side` per axis,
   * official `ResizeLongestSide.apply_coords`); a box is two points labelled 2,3 after the points;
   * without a box a padding point (0,0) label -1 is appended.
   */
  prompt_recipe: Type.String(),
  models: Type.Object({
    encoder: Type.Optional(EncoderEntrySchema),
    encoder_rgb: Type.Optional(EncoderEntrySchema),
    decoder: Type.Optional(DecoderEntrySchema),
    encoder_int8: Type.Optional(Int8EncoderEntrySchema),
    decoder_int8: Type.Optional(Int8DecoderEntrySchema),
  }),
  quantization: Type.Optional(QuantizationBlockSchema),
});

export type TensorSpecJson = Static<typeof TensorSpecSchema>;
export type VerificationSummary = Static<typeof VerificationSummarySchema>;
export type ModelFileEntry = Static<typeof ModelFileEntrySchema>;
export type EncoderEntry = Static<typeof EncoderEntrySchema>;
export type DecoderEntry = Static<typeof DecoderEntrySchema>;
export type Int8Info = Static<typeof Int8InfoSchema>;
export type Int8EncoderEntry = Static<typeof Int8EncoderEntrySchema>;
export type Int8DecoderEntry = Static<typeof Int8DecoderEntrySchema>;
export type QuantizationBlock = Static<typeof QuantizationBlockSchema>;
export type ModelJson = Static<typeof ModelJsonSchema>;
