/**
 * `samtune eval --predictions results.json`: scores a COCO results file from any tool against a
 * dataset subset like pycocotools' COCOeval (segm), with no model (`scorePredictions`). Never splits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { openDataset, pickSubset, readPredictions, scorePredictions } from '@samtune/evaluation';
import { parseFlags } from '../args.js';
import { UsageError, type CliIO } from '../command.js';
import { pct } from '../render.js';

/** The `eval --predictions` part of `samtune eval --help`. */
export const PREDICTIONS_USAGE = `usage: samtune eval --predictions <results.json> --data-root <dir|file> [flags]

Scores a COCO results file ([{image_id, category_id, segmentation (RLE or polygons), score}],
from detectron2, mmdetection, Ultralytics or any tool) like pycocotools' COCOeval (segm): mask AP,
AP50, AP75, crowd ground truth as ignore regions; plus pixel F1 / IoU / Dice over the pairs that
match one to one at IoU 0.50. image_id is the dataset's COCO image id. No checkpoint, no split.

  --data-root, --images, --format, --strict, --out, --json   as above
  --subset <name>            default: the only subset, else val/valid/validation`;

/** Parsed `eval --predictions` flags. */
export interface EvalPredictionsArgs {
  readonly predictions: string;
  readonly dataRoot: string;
  readonly images: string | undefined;
  readonly format: string;
  readonly subset: string | undefined;
  readonly out: string | undefined;
  readonly json: boolean;
  readonly strict: boolean;
}

/** Parses `eval --predictions` flags (model flags are refused: no model runs). */
export function parseEvalPredictionsArgs(argv: string[]): EvalPredictionsArgs {
  const v = parseFlags(argv, {
    predictions: { type: 'string' },
    'data-root': { type: 'string' },
    images: { type: 'string' },
    format: { type: 'string' },
    subset: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    strict: { type: 'boolean' },
  });
  if (!v.predictions) throw new UsageError('--predictions needs a results .json file');
  if (!v['data-root']) throw new UsageError('--data-root is required');
  return {
    predictions: v.predictions,
    dataRoot: v['data-root'],
    images: v.images,
    format: v.format ?? 'auto',
    subset: v.subset,
    out: v.out,
    json: v.json ?? false,
    strict: v.strict ?? false,
  };
}

/** At most this many skipped results are listed on stderr; the rest are counted. */
const LISTED = 10;

/** Runs `eval --predictions`; resolves to the exit code. */
export async function runEvalPredictions(argv: string[], io: CliIO): Promise<number> {
  const a = parseEvalPredictionsArgs(argv);
  const dataset = await openDataset(a.dataRoot, a.format, a.strict, a.images);
  const names = Object.keys(dataset.subsets);
  const subset = pickSubset(dataset, a.subset ?? (names.length === 1 ? (names[0] as string) : 'auto'));
  const results = await readPredictions(a.predictions);
  const r = await scorePredictions(dataset.subsets[subset.name] ?? [], dataset.labels, results, a.predictions);
  if (a.strict && r.skipped[0]) throw r.skipped[0];
  const problems = [
    ...dataset.skipped.filter((s) => s.subset === undefined || s.subset === subset.name).map((s) => s.message),
    ...r.skipped.map((s) => s.message),
  ];
  for (const p of problems.slice(0, LISTED)) io.err(`skipped: ${p}`);
  if (problems.length > LISTED) io.err(`skipped: … and ${problems.length - LISTED} more`);
  const metrics = {
    ap: r.ap,
    ap50: r.ap50,
    ap75: r.ap75,
    f1: r.f1,
    iou: r.iou,
    dice: r.dice,
    images: r.images,
    instances: r.instances,
    crowd: r.crowd,
    detections: r.detections,
    matched: r.matched,
    skipped: problems.length,
  };
  if (a.out !== undefined) {
    mkdirSync(dirname(resolve(a.out)), { recursive: true });
    writeFileSync(
      a.out,
      `${JSON.stringify({ ...metrics, subset: subset.name, predictions: resolve(a.predictions), dataRoot: resolve(a.dataRoot), skippedInputs: problems }, null, 2)}\n`,
    );
  }
  if (a.json) io.out(JSON.stringify(metrics));
  else {
    io.out(
      `${basename(a.predictions)} on ${subset.name} (${r.images} images, ${r.instances} instances, ${r.crowd} crowd regions ignored, ${r.detections} detections):`,
    );
    io.out(`  mask AP ${pct(r.ap)}  AP50 ${pct(r.ap50)}  AP75 ${pct(r.ap75)}`);
    io.out(
      `  ${r.matched} pairs matched at IoU 0.50 (of ${r.instances} instances, ${r.detections} detections): F1 ${pct(r.f1)}  IoU ${pct(r.iou)}  Dice ${pct(r.dice)}`,
    );
    if (problems.length > 0) io.out(`  skipped ${problems.length} input(s) (listed on stderr)`);
  }
  if (a.out !== undefined) io.err(`metrics written to ${a.out}`);
  return 0;
}
