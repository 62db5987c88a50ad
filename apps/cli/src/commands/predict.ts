/**
 * `samtune predict`: masks for point/box prompts on one image. The model is a checkpoint (tfjs) or an
 * export directory (onnxruntime), both behind @samtune/export's `openPromptModel`. The request is checked
 * in `predict-input.ts`, the files written in `predict-output.ts`.
 */
import { UsageError } from '../command.js';
import { defineCommand } from '../flags.js';
import { PREDICT_FLAGS } from './predict-flags.js';
import { predictRequest } from './predict-input.js';
import { writePrediction } from './predict-output.js';

export const predictCommand = defineCommand({
  path: ['predict'],
  summary: 'predict masks for point and box prompts on one image',
  synopsis: `usage: samtune predict (--checkpoint <name|path|export dir> | --model <export dir>) (--image <file> | --embedding <file>)
       [--point x,y,label]... [--box x0,y0,x1,y1] --out <file.safetensors|file.png> [flags]`,
  flags: PREDICT_FLAGS,
  async run(f, io) {
    const req = await predictRequest(f);
    const { points, box, maskInput } = req;
    const { openPromptModel } = await import('@samtune/export');
    const { readEmbedding } = await import('@samtune/sam-model');
    const t = await import('@samtune/transforms');
    const { announceBackend, downloadProgress } = await import('../model-io.js');
    const img = f.image ? await t.readImage(f.image) : undefined;
    const stored = f.embedding ? readEmbedding(f.embedding) : undefined;
    // The server's prompt rule (validatePrompt), checked before any model work: exit 2.
    const [ih, iw] = img ? [img.height, img.width] : stored!.originalSize;
    const prompt = { points: points.map((p) => [p.x, p.y] as const), ...(box ? { box } : {}) };
    t.validatePrompt(prompt, iw, ih, (field, detail) => new UsageError(`${field}: ${detail}`));
    if (req.modelDir === undefined) await announceBackend(io);
    const progress = downloadProgress(req.checkpoint);
    const model = await openPromptModel(req.checkpoint, {
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
          ...(points.length ? { points: prompt.points, labels: points.map((p) => p.label) } : {}),
          ...(box ? { box } : {}),
          ...(maskInput ? { maskInput } : {}),
        },
        Boolean(f.multimask),
      );
      const opts = { threshold: f['mask-threshold'], overlay: f.overlay, ...(img ? { img } : {}) };
      await writePrediction(req, model, emb, res, opts, io);
      return 0;
    } finally {
      await model.release();
    }
  },
});
