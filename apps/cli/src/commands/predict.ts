/**
 * `samtune predict`: masks for point/box prompts on one image. The model is a checkpoint (tfjs) or an
 * export directory (onnxruntime), both behind @samtune/export's `openPromptModel`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { UsageError } from '../command.js';
import { defineCommand } from '../flags.js';
import { PREDICT_FLAGS } from './predict-flags.js';
import { checkOutputFile } from '../output-file.js';

export const predictCommand = defineCommand({
  path: ['predict'],
  summary: 'predict masks for point and box prompts on one image',
  synopsis: `usage: samtune predict (--checkpoint <name|path|export dir> | --model <export dir>) (--image <file> | --embedding <file>)
       [--point x,y,label]... [--box x0,y0,x1,y1] --out <file.safetensors|file.png> [flags]`,
  flags: PREDICT_FLAGS,
  async run(f, io) {
    const { encodePrediction, isExportDir, MaskInputError, openPromptModel, readMaskInputFile } =
      await import('@samtune/export');
    if (f.model !== undefined && !isExportDir(f.model))
      throw new UsageError(`--model ${f.model}: not a directory written by 'samtune export' (no model.json)`);
    const modelDir = f.model ?? (f.checkpoint !== undefined && isExportDir(f.checkpoint) ? f.checkpoint : undefined);
    if (modelDir === undefined && f.checkpoint === undefined)
      throw new UsageError('missing required flag --checkpoint');
    const checkpoint = modelDir ?? f.checkpoint!;
    if (f.int8 && modelDir === undefined)
      throw new UsageError('--int8 needs an export directory (--model <dir>), not a checkpoint');
    const out = f.out;
    const outExt = extname(out).toLowerCase();
    if (outExt !== '.safetensors' && outExt !== '.png')
      throw new UsageError(`--out ${out}: expected a .safetensors or .png file`);
    checkOutputFile(out);
    if (!f.image && !f.embedding) throw new UsageError('give --image <file> or --embedding <file>');
    if (f.overlay && !f.image) throw new UsageError('--overlay needs --image');
    const points = f.point.map(([x, y, label]) => ({ x, y, label }));
    const box = f.box;
    if (points.length === 0 && !box) throw new UsageError('no prompt: give --point x,y,label and/or --box x0,y0,x1,y1');
    let maskInput;
    try {
      maskInput = f['mask-input'] ? readMaskInputFile(f['mask-input']) : undefined;
    } catch (e) {
      if (e instanceof MaskInputError) throw new UsageError(`--mask-input: ${e.message}`);
      throw e;
    }
    const threshold = f['mask-threshold'];
    const { readEmbedding, selectMaskIndex } = await import('@samtune/sam-model');
    const t = await import('@samtune/transforms');
    const { announceBackend, downloadProgress } = await import('../model-io.js');
    const img = f.image ? await t.readImage(f.image) : undefined;
    const stored = f.embedding ? readEmbedding(f.embedding) : undefined;
    // The server's prompt rule (validatePrompt), checked before any model work: exit 2.
    const [ih, iw] = img ? [img.height, img.width] : stored!.originalSize;
    const prompt = { points: points.map((p) => [p.x, p.y] as const), ...(box ? { box } : {}) };
    t.validatePrompt(prompt, iw, ih, (field, detail) => new UsageError(`${field}: ${detail}`));
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
      const bestMask = t.logitsToMask(
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
      if (outExt === '.png') await t.writeMaskPng(out, bestMask);
      else writeFileSync(out, encodePrediction(res, emb.originalSize, model.sha256));
      if (f.overlay && img)
        await t.writeOverlayPng(f.overlay, img, [bestMask], { points, ...(box ? { boxes: [box] } : {}) });
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
});
