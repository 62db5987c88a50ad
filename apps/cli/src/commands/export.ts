/**
 * `samtune export`: ONNX models (encoder, raw-RGB encoder, decoder with the official SAM signature) +
 * model.json, verified after writing; the printed summary is `export-summary.ts`'s.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from 'typebox';
import { UsageError, type CliIO } from '../command.js';
import { defineCommand, Flag } from '../flags.js';
import { onnxExportSummary, transformersJsExportSummary } from './export-summary.js';

const FLAGS = Type.Object({
  checkpoint: Flag.text("a run's best.safetensors (or the run directory), an official .pth, or a registry name", {
    placeholder: '<path|name>',
  }),
  out: Flag.text('the folder to write', { placeholder: '<dir>' }),
  'single-mask': Flag.bool(
    'decoder.onnx returns one mask: for exactly one point and no box the best predicted IoU of the 3 multimask tokens, else token 0; default: all 4 tokens, like the official export',
  ),
  format: Flag.oneOf(
    ['onnx', 'transformers.js'],
    'onnx: the files above; transformers.js: a folder that @huggingface/transformers loads with SamModel.from_pretrained (SAM 2.1: Sam2Model) (config.json, preprocessor_config.json, onnx/vision_encoder.onnx, onnx/prompt_encoder_mask_decoder.onnx, samtune.json)',
    { default: 'onnx' },
  ),
  multimask: Flag.bool(
    'transformers.js only: pred_masks hold all 4 tokens (token 0, then the multimask tokens); SAM 2.1: the 3 multimask tokens',
  ),
});

export const exportCommand = defineCommand({
  path: ['export'],
  summary: 'export to ONNX (official SAM decoder signature), each model verified after writing',
  synopsis: `usage: samtune export --checkpoint <run/best.safetensors|run dir|name|path> --out <dir> [--single-mask]
       samtune export --format transformers.js --checkpoint <…> --out <dir> [--multimask]

  Writes <dir>/encoder.onnx      input images [1,3,1024,1024] (normalised, zero-padded)
         <dir>/encoder_rgb.onnx  input input_image [h,w,3] RGB 0-255 resized to longest side 1024, not padded
         <dir>/decoder.onnx      the official SAM ONNX decoder signature (image_embeddings, point_coords,
                                 point_labels, mask_input, has_mask_input, orig_im_size -> masks,
                                 iou_predictions, low_res_masks); N points dynamic; opset 17
         <dir>/model.json        files, I/O, mean/std, checkpoint sha256, mask-selection rule, verification
  Every model is run by onnxruntime right after writing and compared with the in-process model
  (tolerance 1e-4 + 1e-3*max|ref|); a model that fails is deleted and the command fails.
  A SAM 2.1 checkpoint (sam2.1_hiera_*) writes samexporter's pair instead, as X-AnyLabeling loads it:
  <dir>/encoder.onnx (image -> high_res_feats_0, high_res_feats_1, image_embed) and <dir>/decoder.onnx
  (image_embed, high_res_feats_0/1, point_coords, point_labels, mask_input, has_mask_input -> masks,
  iou_predictions), verified the same way; with --format transformers.js the transformers.js sam2 folder
  (Sam2Model.from_pretrained: onnx/vision_encoder.onnx -> image_embeddings.0/.1/.2,
  onnx/prompt_encoder_mask_decoder.onnx with input_points/input_labels/input_boxes -> iou_scores,
  pred_masks, object_score_logits).`,
  flags: FLAGS,
  async run(f, io) {
    const format = f.format;
    if (f.multimask && format !== 'transformers.js')
      throw new UsageError(
        '--multimask is for --format transformers.js (the onnx decoder has all 4 tokens by default)',
      );
    if (f.multimask && f['single-mask']) throw new UsageError('--multimask and --single-mask exclude each other');
    const { exportSamOnnx, exportTransformersJs } = await import('@samtune/export');
    const { announceBackend, loadModel } = await import('../model-io.js');
    let checkpoint = f.checkpoint;
    const out = f.out;
    const best = join(checkpoint, 'best.safetensors');
    if (existsSync(best) && statSync(checkpoint).isDirectory()) checkpoint = best;

    const log = (l: string): void => io.err(l);
    await announceBackend(io);
    const { checkpointFamily } = await import('@samtune/sam-model');
    if (checkpointFamily(checkpoint) === 'sam2') return exportSam2(checkpoint, out, f, io);
    const model = await loadModel(checkpoint, io);
    try {
      if (format === 'transformers.js') {
        const variant = f.multimask ? 'multimask' : 'single_mask';
        io.out(JSON.stringify(transformersJsExportSummary(await exportTransformersJs(model, out, { variant, log }))));
      } else {
        const r = await exportSamOnnx(model, out, { singleMask: Boolean(f['single-mask']), log });
        io.out(JSON.stringify(onnxExportSummary(r)));
      }
      return 0;
    } finally {
      await model.release();
    }
  },
});

/** A SAM 2.1 checkpoint: the samexporter encoder + decoder pair (`exportSam2Onnx`) or the transformers.js sam2 folder. */
async function exportSam2(
  checkpoint: string,
  out: string,
  f: { format: string; 'single-mask'?: boolean | undefined; multimask?: boolean | undefined },
  io: CliIO,
): Promise<number> {
  if (f['single-mask'])
    throw new UsageError(
      `a SAM 2.1 checkpoint exports as --format onnx (samexporter's encoder + decoder pair, multimask) or --format transformers.js, got --single-mask`,
    );
  const { exportSam2Onnx, exportSam2TransformersJs } = await import('@samtune/export');
  const { loadSam2Model } = await import('../model-io.js');
  const model = await loadSam2Model(checkpoint, io);
  const log = (l: string): void => io.err(l);
  if (f.format === 'transformers.js') {
    const variant = f.multimask ? 'multimask' : 'single_mask';
    io.out(JSON.stringify(transformersJsExportSummary(await exportSam2TransformersJs(model, out, { variant, log }))));
    return 0;
  }
  const r = await exportSam2Onnx(model, out, { log });
  const round = (x: Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, +v.toFixed(5)]));
  io.out(
    JSON.stringify({
      out: r.dir,
      format: 'samexporter-sam2',
      files: [r.files.encoder, r.files.decoder],
      worst_ratio: { encoder: round(r.worstRatio.encoder), decoder: round(r.worstRatio.decoder) },
    }),
  );
  return 0;
}
