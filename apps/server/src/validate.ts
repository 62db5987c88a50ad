/**
 * Validation of the JSON request bodies. Every error is an `InvalidFieldError` (400) that names the
 * field (`points[1][2]`, `box`, `annotations[0].segmentation.counts`) and says what was expected and
 * what came.
 */
import { validatePrompt } from '@samtune/transforms';
import { InvalidFieldError, show } from './errors.js';
import { rleProblem, type CocoRle } from './rle.js';
import { MAX_POINTS } from './schemas.js';

/** XYXY box in ORIGINAL image pixels. */
export type BoxXYXY = readonly [number, number, number, number];

/** A `POST /api/predict` body; prompts in ORIGINAL image pixels. */
export interface PredictRequest {
  readonly id: string;
  /** XY points. */
  readonly points: readonly (readonly [number, number])[];
  /** One label per point: 1 foreground, 0 background. */
  readonly labels: readonly number[];
  readonly box?: BoxXYXY;
  /** Three masks instead of one; undefined: SAM's rule (three only for a single point, no box). */
  readonly multimask?: boolean;
}

/** One accepted mask of a `POST /api/labels` body. */
export interface LabelInput {
  readonly category: string;
  readonly segmentation: CocoRle;
  /** Predicted IoU of the mask, kept as `score` in the COCO annotation. */
  readonly score?: number;
}

/** A `POST /api/labels` body: the full set of labels of one image (replaces what was saved). */
export interface LabelsRequest {
  readonly image: string;
  readonly annotations: readonly LabelInput[];
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new InvalidFieldError(field, `expected a finite number, got ${show(v)}`);
  return v;
}

function array(v: unknown, field: string, what: string): unknown[] {
  if (!Array.isArray(v)) throw new InvalidFieldError(field, `expected ${what}, got ${show(v)}`);
  return v;
}

function string(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim().length === 0)
    throw new InvalidFieldError(field, `expected a non-empty string, got ${show(v)}`);
  return v;
}

/** Checks the shape of a predict body (ranges need the image size: see `checkPromptRange`). */
export function parsePredictRequest(body: Record<string, unknown>): PredictRequest {
  const id = string(body.id, 'id');
  if (!/^[0-9a-f]{16}$/.test(id))
    throw new InvalidFieldError('id', `expected 16 hex digits (an id from POST /api/embed), got ${show(id)}`);
  const points: [number, number][] = [];
  const labels: number[] = [];
  if (body.points !== undefined && body.points !== null) {
    const list = array(body.points, 'points', 'an array of [x, y, label]');
    if (list.length > MAX_POINTS)
      throw new InvalidFieldError('points', `expected at most ${MAX_POINTS} points, got ${list.length}`);
    list.forEach((p, i) => {
      const triple = array(p, `points[${i}]`, '[x, y, label]');
      if (triple.length !== 3) throw new InvalidFieldError(`points[${i}]`, `expected [x, y, label], got ${show(p)}`);
      const label = triple[2];
      if (label !== 0 && label !== 1)
        throw new InvalidFieldError(
          `points[${i}][2]`,
          `expected label 1 (foreground) or 0 (background), got ${show(label)}`,
        );
      points.push([finite(triple[0], `points[${i}][0]`), finite(triple[1], `points[${i}][1]`)]);
      labels.push(label);
    });
  }
  let box: BoxXYXY | undefined;
  if (body.box !== undefined && body.box !== null) {
    const b = array(body.box, 'box', '[x0, y0, x1, y1]');
    if (b.length !== 4) throw new InvalidFieldError('box', `expected [x0, y0, x1, y1] (XYXY), got ${show(b)}`);
    box = b.map((v, i) => finite(v, `box[${i}]`)) as unknown as BoxXYXY;
  }
  if (points.length === 0 && !box)
    throw new InvalidFieldError('points', 'no prompt: expected at least one point or a box');
  if (body.multimask !== undefined && body.multimask !== null && typeof body.multimask !== 'boolean') {
    throw new InvalidFieldError('multimask', `expected true or false, got ${show(body.multimask)}`);
  }
  return {
    id,
    points,
    labels,
    ...(box ? { box } : {}),
    ...(typeof body.multimask === 'boolean' ? { multimask: body.multimask } : {}),
  };
}

/** Checks that prompts lie in the image `(H,W)` = `(height,width)`: the shared rule `validatePrompt` (@samtune/transforms). */
export function checkPromptRange(req: PredictRequest, width: number, height: number): void {
  validatePrompt(req, width, height, (field, detail) => new InvalidFieldError(field, detail));
}

function parseRle(v: unknown, field: string): CocoRle {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidFieldError(field, `expected a COCO RLE {size: [H, W], counts: [...]}, got ${show(v)}`);
  const o = v as Record<string, unknown>;
  const size = array(o.size, `${field}.size`, '[H, W]');
  if (size.length !== 2) throw new InvalidFieldError(`${field}.size`, `expected [H, W], got ${show(size)}`);
  const counts = array(o.counts, `${field}.counts`, 'an array of run lengths (uncompressed COCO RLE)');
  const rle: CocoRle = { size: size as [number, number], counts: counts as number[] };
  const problem = rleProblem(rle);
  if (problem)
    throw new InvalidFieldError(`${field}.${problem.split(':')[0]}`, problem.slice(problem.indexOf(':') + 2));
  return rle;
}

/** Checks the shape of a labels body (the image size is checked against the file by the store). */
export function parseLabelsRequest(body: Record<string, unknown>): LabelsRequest {
  const image = string(body.image, 'image');
  const list = array(body.annotations, 'annotations', 'an array of {category, segmentation}');
  const annotations = list.map((a, i): LabelInput => {
    const f = `annotations[${i}]`;
    if (typeof a !== 'object' || a === null || Array.isArray(a))
      throw new InvalidFieldError(f, `expected {category, segmentation}, got ${show(a)}`);
    const o = a as Record<string, unknown>;
    const category = string(o.category, `${f}.category`).trim();
    const segmentation = parseRle(o.segmentation, `${f}.segmentation`);
    const score = o.score === undefined || o.score === null ? undefined : finite(o.score, `${f}.score`);
    return { category, segmentation, ...(score === undefined ? {} : { score }) };
  });
  return { image, annotations };
}
