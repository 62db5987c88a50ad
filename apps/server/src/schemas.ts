/**
 * JSON schemas (TypeBox) of the API: fastify validates request bodies with them, and the OpenAPI
 * document at `/api/openapi.json` is generated from them (request and reply shapes). Coordinates are
 * ORIGINAL image pixels (x right, y down); boxes XYXY; masks COCO uncompressed RLE `{size: [H, W],
 * counts}` in column-major order. Value rules that need more than a shape (a label of 0 or 1, prompts
 * inside the image, valid RLE counts) are checked in `validate.ts` with messages naming the field.
 */
import { Type, type Static, type TSchema } from 'typebox';

/** Most points one prompt may carry. */
export const MAX_POINTS = 64;
/** Most annotations one `POST /api/labels` may carry. */
export const MAX_ANNOTATIONS = 10_000;

const nullable = <T extends TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

/** An embedding id: 16 lower-case hex digits (first 64 bits of the image bytes' SHA-256). */
export const EmbeddingId = Type.String({ pattern: '^[0-9a-f]{16}$', maxLength: 16, description: 'embedding id' });

/** An image name under `--images` (a relative path). */
export const ImageName = Type.String({ minLength: 1, maxLength: 1024 });

export const CocoRleSchema = Type.Object({
  size: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, maxItems: 2, description: '[H, W]' }),
  counts: Type.Array(Type.Integer({ minimum: 0 }), {
    description: 'runs of 0 and 1 (starting with 0) over the pixels in column-major order',
  }),
});

export const PredictBody = Type.Object({
  id: EmbeddingId,
  points: nullable(
    Type.Array(Type.Array(Type.Number(), { minItems: 3, maxItems: 3, description: '[x, y, label]' }), {
      maxItems: MAX_POINTS,
    }),
  ),
  box: nullable(Type.Array(Type.Number(), { minItems: 4, maxItems: 4, description: '[x0, y0, x1, y1]' })),
  multimask: nullable(Type.Boolean()),
});
export type PredictBody = Static<typeof PredictBody>;

export const LabelsBody = Type.Object({
  image: ImageName,
  annotations: Type.Array(
    Type.Object({
      category: Type.String({ minLength: 1, maxLength: 200 }),
      segmentation: CocoRleSchema,
      score: nullable(Type.Number()),
    }),
    { maxItems: MAX_ANNOTATIONS },
  ),
});
export type LabelsBody = Static<typeof LabelsBody>;

export const LabelsQuery = Type.Object({ image: Type.Optional(ImageName) });

export const ErrorReply = Type.Object({
  error: Type.Object({ name: Type.String(), code: Type.String(), message: Type.String() }),
});

const Queue = Type.Object({
  capacity: Type.Integer(),
  waiting: Type.Integer(),
  running: Type.Integer(),
  done: Type.Integer(),
  dropped: Type.Integer(),
  refused: Type.Integer(),
  meanMs: Type.Number(),
});

const Precision = Type.Union([Type.Literal('fp32'), Type.Literal('int8')]);

export const HealthReply = Type.Object({
  ok: Type.Boolean(),
  model: Type.String(),
  config: Type.Object({}, { additionalProperties: true }),
  backend: Type.String(),
  engine: Type.Union([Type.Literal('checkpoint'), Type.Literal('onnx')]),
  precision: Type.Object({ encoder: Precision, decoder: Precision }),
  pageDecoder: Type.Object(
    { available: Type.Boolean(), reason: Type.Union([Type.String(), Type.Null()]) },
    {
      description:
        'whether the labelling page decodes clicks itself (GET /api/decoder.onnx); if not (SAM 2.1), it posts them to /api/predict',
    },
  ),
  checkpoint: Type.Object({ path: Type.String(), sha256: Type.String() }),
  activeVersion: Type.String({
    description: 'the model version whose decoder is served (v0: the checkpoint as loaded)',
  }),
  images: Type.Union([Type.String(), Type.Null()]),
  labelsFile: Type.Union([Type.String(), Type.Null()]),
  cache: Type.Object({ size: Type.Integer(), capacity: Type.Integer() }),
  queue: Queue,
  limits: Type.Object({ maxPixels: Type.Integer(), maxImageBytes: Type.Integer(), maxJsonBytes: Type.Integer() }),
});

export const ImagesReply = Type.Object({
  dir: Type.Union([Type.String(), Type.Null()]),
  images: Type.Array(Type.Object({ name: Type.String(), labels: Type.Integer() })),
});

export const UploadQuery = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) });

export const UploadReply = Type.Object({ name: Type.String(), width: Type.Integer(), height: Type.Integer() });

export const EmbedReply = Type.Object({
  id: EmbeddingId,
  width: Type.Integer(),
  height: Type.Integer(),
  image: Type.Optional(Type.String()),
  cached: Type.Boolean(),
});
export type EmbedReply = Static<typeof EmbedReply>;

export const PredictReply = Type.Object({
  id: EmbeddingId,
  width: Type.Integer(),
  height: Type.Integer(),
  multimask: Type.Boolean(),
  iou: Type.Array(Type.Number()),
  best: Type.Integer(),
  masks: Type.Array(
    Type.Object({
      size: CocoRleSchema.properties.size,
      counts: CocoRleSchema.properties.counts,
      area: Type.Integer(),
    }),
  ),
});
export type PredictReply = Static<typeof PredictReply>;

export const SaveReply = Type.Object({
  file: Type.String(),
  imageId: Type.Integer(),
  saved: Type.Integer(),
  total: Type.Integer(),
});

const loose = { additionalProperties: true };
/** A COCO instances document (the labels file); fields the server does not know are kept as they are. */
export const CocoDocumentReply = Type.Object(
  {
    images: Type.Array(Type.Object({ id: Type.Integer(), file_name: Type.String() }, loose)),
    annotations: Type.Array(Type.Object({ id: Type.Integer(), image_id: Type.Integer() }, loose)),
    categories: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() }, loose)),
  },
  loose,
);

/** Replies of a route: the success schema under 200 and the error reply for every error status. */
export function replies(ok: TSchema, ...errors: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = { 200: ok };
  for (const s of errors) out[s] = ErrorReply;
  return out;
}
