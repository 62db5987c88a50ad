/**
 * `samtune eval --predictions results.json`: scores a COCO results file from any tool against a
 * dataset subset like pycocotools' COCOeval (segm), with no model (`scorePredictions`). Never splits.
 */
import { basename, resolve } from 'node:path';
import { Type } from 'typebox';
import * as common from '../common-flags.js';
import { defineCommand, Flag, parseFlagTable } from '../flags.js';
import { checkOutputFile } from '../output-file.js';

const FLAGS = Type.Object({
  predictions: Flag.text(
    'a COCO results file ([{image_id, category_id, segmentation, score}]); image_id is the dataset COCO image id',
    { placeholder: '<results.json>' },
  ),
  'data-root': common.dataRoot,
  images: common.images,
  format: common.format,
  subset: Type.Optional(Flag.text('default: the only subset, else val/valid/validation', { placeholder: '<name>' })),
  out: Type.Optional(Flag.text('also write the metrics there', { placeholder: '<file.json>' })),
  strict: common.strict,
  json: common.json('print the metrics as one JSON object on stdout'),
});

/** Whether `argv` asks for `eval --predictions`. */
export function hasPredictionsFlag(argv: readonly string[]): boolean {
  return argv.some((x) => x === '--predictions' || x.startsWith('--predictions='));
}

/** At most this many skipped results are listed on stderr; the rest are counted. */
const LISTED = 10;

/** `samtune eval --predictions`: the flags are model-free (no checkpoint runs). */
export const evalPredictionsCommand = defineCommand({
  path: ['eval'],
  summary: 'score a COCO results file against a dataset like pycocotools',
  synopsis: `usage: samtune eval --predictions <results.json> --data-root <dir|file> [flags]

Scores a COCO results file (from detectron2, mmdetection, Ultralytics or any tool) like pycocotools'
COCOeval (segm): mask AP, AP50, AP75, crowd ground truth as ignore regions; plus pixel F1 / IoU / Dice
over the pairs that match one to one at IoU 0.50. No checkpoint, no split.`,
  flags: FLAGS,
  async run(a, io) {
    if (a.out !== undefined) checkOutputFile(a.out);
    const { openDataset, pickSubset, readPredictions, scorePredictions } = await import('@samtune/evaluation');
    const { writeFileAtomic } = await import('@samtune/tensor-files');
    const { pct } = await import('../render.js');
    const dataset = await openDataset(a['data-root'], a.format, a.strict, a.images);
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
      writeFileAtomic(
        a.out,
        `${JSON.stringify({ ...metrics, subset: subset.name, predictions: resolve(a.predictions), dataRoot: resolve(a['data-root']), skippedInputs: problems }, null, 2)}\n`,
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
  },
});

/** Parses `eval --predictions` flags (model flags are refused: no model runs). */
export const parseEvalPredictionsArgs = (argv: readonly string[]) => parseFlagTable(argv, FLAGS).flags;
