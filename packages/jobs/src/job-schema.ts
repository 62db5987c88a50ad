/**
 * A worker trusts nothing in a job payload (it comes from Redis, which anyone with access to it can
 * write): `checkJobData` validates it against the TypeBox schema of its queue's kind, and confines
 * its paths to the queue's folders (`containedPath`: realpath-based) — `imagePath` inside the queue's
 * `dataRoot`, `outputPath` inside its `outDir`. A payload that fails either check throws
 * `JobInputError` / `PathOutsideFolderError` (kind `input`), which the worker turns into BullMQ's
 * `UnrecoverableError`: the job fails at once, never retried. The queue's own description
 * (`QueueMeta`) is validated the same way when a worker reads it.
 */
import { Type } from 'typebox';
import { checkSchema, SchemaValidationError } from '@samtune/errors';
import { containedPath } from '@samtune/sam-model';
import { JobInputError, QueueInputError } from './errors.js';
import type { AutolabelJobData, EmbedJobData } from './job-data.js';
import type { QueueMeta } from './queue-store.js';

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: '64 lower-case hex digits' });
const Path = Type.String({ minLength: 1, maxLength: 4096 });
const Coord = Type.Number({ minimum: -1e6, maximum: 1e6 });
const Mode = Type.Union([Type.Literal('box'), Type.Literal('points'), Type.Literal('both')], {
  description: 'box, points or both',
});
const CacheKey = Type.String({ pattern: '^[0-9a-f]{64}$', description: '64 lower-case hex digits' });

/** An `embed` job's payload. */
export const EmbedJobDataSchema = Type.Object(
  { imagePath: Path, imageSha256: Sha256, cacheKey: CacheKey, outputPath: Path },
  { additionalProperties: false },
);

/** One prompt of an `autolabel` job. */
export const JobPromptSchema = Type.Object(
  {
    instanceId: Type.String({ maxLength: 256 }),
    categoryId: Type.Integer(),
    box: Type.Optional(Type.Tuple([Coord, Coord, Coord, Coord])),
    points: Type.Optional(Type.Array(Type.Tuple([Coord, Coord]), { maxItems: 64 })),
  },
  { additionalProperties: false },
);

/** An `autolabel` job's payload. */
export const AutolabelJobDataSchema = Type.Object(
  {
    imagePath: Path,
    imageSha256: Sha256,
    cacheKey: CacheKey,
    outputPath: Path,
    prompt: Mode,
    prompts: Type.Array(JobPromptSchema, { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

const Absolute = Type.String({ pattern: '^/', description: 'an absolute path' });

/** A queue's description as stored in Redis (`samtune:meta:<id>`). */
export const QueueMetaSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z]+-[0-9a-f]{12}$' }),
  kind: Type.Union([Type.Literal('embed'), Type.Literal('autolabel')], { description: 'embed or autolabel' }),
  checkpoint: Path,
  checkpointSha256: Sha256,
  encoderKey: Type.String({ minLength: 1 }),
  outDir: Absolute,
  cacheDir: Type.Optional(Absolute),
  prompt: Type.Optional(Mode),
  categories: Type.Optional(Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() }))),
  dataRoot: Absolute,
  attempts: Type.Integer({ minimum: 1 }),
  createdAt: Type.String(),
});

/** `check()`, a schema failure rethrown as `wrap(message)` (the package's own error, kind `input`). */
function validate<T>(check: () => T, wrap: (message: string) => Error): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof SchemaValidationError) throw wrap(e.message);
    throw e;
  }
}

/** Validates a queue's meta read from Redis. @throws QueueInputError listing every problem */
export function checkQueueMeta(raw: unknown, id: string): QueueMeta {
  return validate(
    () => checkSchema(QueueMetaSchema, raw, `readQueueMeta(${id}): samtune:meta:${id}`) as QueueMeta,
    (m) => new QueueInputError(m),
  );
}

/**
 * A job's payload, validated for `meta.kind` and with its paths confined (see the module comment).
 * @throws JobInputError for a payload that breaks the schema
 * @throws PathOutsideFolderError for a path outside the queue's folders
 */
export function checkJobData(meta: QueueMeta, jobId: string, raw: unknown): EmbedJobData | AutolabelJobData {
  const what = `runJob(${meta.id}/${jobId})`;
  const data = validate(
    () =>
      meta.kind === 'embed'
        ? checkSchema(EmbedJobDataSchema, raw, `${what}: job data`)
        : checkSchema(AutolabelJobDataSchema, raw, `${what}: job data`),
    (m) => new JobInputError(m),
  );
  containedPath(meta.dataRoot, data.imagePath, { what: `${what}: data.imagePath` });
  containedPath(meta.outDir, data.outputPath, { what: `${what}: data.outputPath`, mode: 'write' });
  // The paths as the producer wrote them (label files and `collect` name images by them).
  return data;
}
