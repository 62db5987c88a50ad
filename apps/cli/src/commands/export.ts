/** `samtune export`: ONNX models (encoder, raw-RGB encoder, decoder with the official SAM signature) + model.json, verified after writing. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { exportSamOnnx, exportTransformersJs } from '@samtune/export';
import { parseFlags, required } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';
import { announceBackend, loadModel } from '../model-io.js';

export const exportCommand: CliCommand = {
  path: ['export'],
  summary: 'export to ONNX (official SAM decoder signature), each model verified after writing',
  usage: `usage: samtune export --checkpoint <run/best.safetensors|run dir|name|path> --out <dir> [--single-mask]
       samtune export --format transformers.js --checkpoint <…> --out <dir> [--multimask]

  Writes <dir>/encoder.onnx      input images [1,3,1024,1024] (normalised, zero-padded)
         <dir>/encoder_rgb.onnx  input input_image [h,w,3] RGB 0-255 resized to longest side 1024, not padded
         <dir>/decoder.onnx      the official SAM ONNX decoder signature (image_embeddings, point_coords,
                                 point_labels, mask_input, has_mask_input, orig_im_size -> masks,
                                 iou_predictions, low_res_masks); N points dynamic; opset 17
         <dir>/model.json        files, I/O, mean/std, checkpoint sha256, mask-selection rule, verification
  Every model is run by onnxruntime right after writing and compared with the in-process model
  (tolerance 1e-4 + 1e-3*max|ref|); a model that fails is deleted and the command fails.

  --checkpoint   a run's best.safetensors (or the run directory), an official .pth, or a registry name
  --single-mask  decoder.onnx returns one mask: for exactly one point and no box the best predicted IoU of
                 the 3 multimask tokens, else token 0 (the token training trains for boxes and several
                 points); default: all 4 tokens, like the official export without --return-single-mask
  --format       onnx (default, the files above) or transformers.js: a folder that @huggingface/transformers
                 loads with SamModel.from_pretrained / AutoProcessor.from_pretrained (config.json,
                 preprocessor_config.json, onnx/vision_encoder.onnx, onnx/prompt_encoder_mask_decoder.onnx,
                 samtune.json); its pred_masks hold the mask-selection rule's one mask
  --multimask    transformers.js only: pred_masks hold all 4 tokens (token 0, then the multimask tokens)`,
  async run(argv, io) {
    const f = parseFlags(argv, {
      checkpoint: { type: 'string' },
      out: { type: 'string' },
      'single-mask': { type: 'boolean' },
      format: { type: 'string' },
      multimask: { type: 'boolean' },
    });
    const format = f.format ?? 'onnx';
    if (format !== 'onnx' && format !== 'transformers.js')
      throw new UsageError(`--format must be onnx or transformers.js, got '${format}'`);
    if (f.multimask && format !== 'transformers.js')
      throw new UsageError(
        '--multimask is for --format transformers.js (the onnx decoder has all 4 tokens by default)',
      );
    if (f.multimask && f['single-mask']) throw new UsageError('--multimask and --single-mask exclude each other');
    let checkpoint = required(f.checkpoint, 'checkpoint');
    const out = required(f.out, 'out');
    const best = join(checkpoint, 'best.safetensors');
    if (existsSync(best) && statSync(checkpoint).isDirectory()) checkpoint = best;

    await announceBackend(io);
    const model = await loadModel(checkpoint, io);
    try {
      if (format === 'transformers.js') {
        const variant = f.multimask ? 'multimask' : 'single_mask';
        const t = await exportTransformersJs(model, out, { variant, log: (l) => io.err(l) });
        const ratios = (v: { worst_ratio: Record<string, { ratio: number }> }): Record<string, number> =>
          Object.fromEntries(Object.entries(v.worst_ratio).map(([o, w]) => [o, +w.ratio.toFixed(5)]));
        io.out(
          JSON.stringify({
            out: t.dir,
            format,
            decoder: t.variant,
            files: Object.values(t.files),
            worst_ratio: {
              vision_encoder: ratios(t.verification.vision_encoder),
              decoder: ratios(t.verification.decoder),
            },
          }),
        );
        return 0;
      }
      const r = await exportSamOnnx(model, out, { singleMask: Boolean(f['single-mask']), log: (l) => io.err(l) });
      const models = Object.fromEntries(
        Object.entries(r.modelJson.models).map(([k, e]) => [
          k,
          {
            file: e.file,
            bytes: e.bytes,
            worst_ratio: Object.fromEntries(
              Object.entries(e.verification?.worst_ratio ?? {}).map(([o, w]) => [o, +w.ratio.toFixed(5)]),
            ),
          },
        ]),
      );
      io.out(
        JSON.stringify({
          out: r.dir,
          model_json: r.modelJsonPath,
          decoder: r.modelJson.models.decoder?.variant,
          models,
        }),
      );
      return 0;
    } finally {
      await model.release();
    }
  },
};
