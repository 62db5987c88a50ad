/**
 * `samtune predict`: masks for point/box prompts on one image. The model is a checkpoint (tfjs) or an
 * export directory (onnxruntime), both behind @samtune/export's `openPromptModel`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { encodePrediction, isExportDir, MaskInputError, openPromptModel, readMaskInputFile } from '@samtune/export';
import { readEmbedding, selectMaskIndex } from '@samtune/sam-model';
import { logitsToMask, readImage, validatePrompt, writeMaskPng, writeOverlayPng } from '@samtune/transforms';
import { parseBox, parseFlags, parsePoint, required } from '../args.js';
import { UsageError, type CliCommand } from '../command.js';
import { checkOutputFile } from '../output-file.js';
import { announceBackend, downloadProgress } from '../model-io.js';

export const predictCommand: CliCommand = {
  path: ['predict'],
  summary: 'predict masks for point and box prompts on one image',
  usage: `usage: samtune predict (--checkpoint <name|path|export dir> | --model <export dir>) (--image <file> | --embedding <file.safetensors>)
       [--point x,y,label]... [--box x0,y0,x1,y1] [--mask-input <file.npy|.safetensors>] [--multimask]
       --out <file.safetensors|file.png> [--overlay <file.png>] [--mask-threshold <logit>] [--int8]

  --checkpoint a .pth/.safetensors/registry name (tfjs decoder), or a directory written by
              'samtune export' (model.json): then its ONNX models run on onnxruntime (--model says so explicitly)
  Prompts are in ORIGINAL image pixels: --point x,y,label (label 1 foreground, 0 background; repeat),
  --box x0,y0,x1,y1 (XYXY). Box and points together are passed to SAM together.
  --int8          with an export directory: run the INT8 models 'samtune optimize' wrote (model.json
                  models.encoder_int8 / decoder_int8) where there are any, FP32 otherwise
  --embedding     reuse a file written by 'samtune embed' instead of encoding the image
  --mask-input    low-res logits [1,256,256] from an earlier prediction (e.g. its low_res_masks)
  --multimask     three masks (ambiguity-aware) instead of one (refused by an export made with
                  --single-mask, which always returns its one mask: best of three for a single point, else token 0)
  --out .safetensors: low_res_masks [M,256,256], iou_predictions [M], masks [M,H,W] (logits)
  --out .png:         the binary mask with the highest predicted IoU
  --overlay       also write that mask and the prompts drawn over the image (needs --image)
  --mask-threshold  logit above which a pixel is inside the .png/overlay mask (default 0, SAM's;
                  write negative values as --mask-threshold=-0.5)`,
  async run(argv, io) {
    const f = parseFlags(argv, {
      checkpoint: { type: 'string' },
      model: { type: 'string' },
      image: { type: 'string' },
      embedding: { type: 'string' },
      point: { type: 'string', multiple: true },
      box: { type: 'string' },
      'mask-input': { type: 'string' },
      multimask: { type: 'boolean' },
      out: { type: 'string' },
      overlay: { type: 'string' },
      'mask-threshold': { type: 'string' },
      int8: { type: 'boolean' },
    });
    if (f.model !== undefined && !isExportDir(f.model))
      throw new UsageError(`--model ${f.model}: not a directory written by 'samtune export' (no model.json)`);
    const modelDir = f.model ?? (f.checkpoint !== undefined && isExportDir(f.checkpoint) ? f.checkpoint : undefined);
    const checkpoint = modelDir === undefined ? required(f.checkpoint, 'checkpoint') : modelDir;
    if (f.int8 && modelDir === undefined)
      throw new UsageError('--int8 needs an export directory (--model <dir>), not a checkpoint');
    const out = required(f.out, 'out');
    const outExt = extname(out).toLowerCase();
    if (outExt !== '.safetensors' && outExt !== '.png')
      throw new UsageError(`--out ${out}: expected a .safetensors or .png file`);
    checkOutputFile(out);
    if (!f.image && !f.embedding) throw new UsageError('give --image <file> or --embedding <file>');
    if (f.overlay && !f.image) throw new UsageError('--overlay needs --image');
    const points = (f.point ?? []).map(parsePoint);
    const box = f.box ? parseBox(f.box) : undefined;
    if (points.length === 0 && !box) throw new UsageError('no prompt: give --point x,y,label and/or --box x0,y0,x1,y1');
    let maskInput;
    try {
      maskInput = f['mask-input'] ? readMaskInputFile(f['mask-input']) : undefined;
    } catch (e) {
      if (e instanceof MaskInputError) throw new UsageError(`--mask-input: ${e.message}`);
      throw e;
    }
    const threshold = f['mask-threshold'] === undefined ? undefined : Number(f['mask-threshold']);
    if (threshold !== undefined && !Number.isFinite(threshold))
      throw new UsageError(`--mask-threshold '${f['mask-threshold']}': expected a number (a logit)`);

    const img = f.image ? await readImage(f.image) : undefined;
    const stored = f.embedding ? readEmbedding(f.embedding) : undefined;
    // The server's prompt rule (validatePrompt), checked before any model work: exit 2.
    const [ih, iw] = img ? [img.height, img.width] : stored!.originalSize;
    const prompt = { points: points.map((p) => [p.x, p.y] as const), ...(box ? { box } : {}) };
    validatePrompt(prompt, iw, ih, (field, detail) => new UsageError(`${field}: ${detail}`));
    if (modelDir === undefined) await announceBackend(io);
    const progress = downloadProgress(checkpoint);
    const model = await openPromptModel(checkpoint, {
      onDownloadProgress: progress.update,
      ...(f.int8 ? { int8: true } : {}),
    });
    progress.done();
    io.err(model.description);
    try {
      const emb = stored ?? (await model.embed(img!));
      const res = await model.predict(
        emb,
        {
          ...(points.length
            ? { points: points.map((p) => [p.x, p.y] as const), labels: points.map((p) => p.label) }
            : {}),
          ...(box ? { box } : {}),
          ...(maskInput ? { maskInput } : {}),
        },
        Boolean(f.multimask),
      );
      const masks = res.masks!;
      const iou = Array.from(res.iouPredictions.data);
      const best = selectMaskIndex(res.iouPredictions.data);
      const [h, w] = emb.originalSize;
      const bestMask = logitsToMask(
        masks.data.subarray(best * h * w, (best + 1) * h * w),
        w,
        h,
        threshold ?? model.maskThreshold,
      );
      let pixels = 0;
      for (let i = 0; i < bestMask.data.length; i++) pixels += bestMask.data[i] ? 1 : 0;
      if (pixels === 0)
        io.err(
          `warning: the predicted mask is empty (0 px at threshold ${threshold ?? model.maskThreshold}; predicted IoU ${(iou[best] ?? Number.NaN).toFixed(3)}): it is written, but holds nothing; try another prompt or a lower --mask-threshold`,
        );
      mkdirSync(dirname(out), { recursive: true });
      if (outExt === '.png') await writeMaskPng(out, bestMask);
      else writeFileSync(out, encodePrediction(res, emb.originalSize, model.sha256));
      if (f.overlay && img)
        await writeOverlayPng(f.overlay, img, [bestMask], { points, ...(box ? { boxes: [box] } : {}) });
      io.out(
        JSON.stringify({
          iou_predictions: iou.map((v) => +v.toFixed(5)),
          best,
          pixels,
          out,
          ...(f.overlay ? { overlay: f.overlay } : {}),
        }),
      );
      return 0;
    } finally {
      await model.release();
    }
  },
};
