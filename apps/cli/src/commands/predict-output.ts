/**
 * `samtune predict`'s output: the mask with the highest predicted IoU as a PNG (or every mask as
 * safetensors), the optional overlay, a warning for an empty mask, and the one-line JSON summary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PromptModel } from '@samtune/export';
import type { ImageEmbedding, PredictResult } from '@samtune/sam-model';
import type { RgbImage } from '@samtune/transforms';
import type { CliIO } from '../command.js';
import type { PredictRequest } from './predict-input.js';

/** Writes the prediction `res` of `req` and prints its summary; `overlay` needs the image `img`. */
export async function writePrediction(
  req: PredictRequest,
  model: PromptModel,
  emb: ImageEmbedding,
  res: PredictResult,
  opts: { readonly threshold: number | undefined; readonly overlay: string | undefined; readonly img?: RgbImage },
  io: CliIO,
): Promise<void> {
  const { selectMaskIndex } = await import('@samtune/sam-model');
  const { encodePrediction } = await import('@samtune/export');
  const t = await import('@samtune/transforms');
  const iou = Array.from(res.iouPredictions.data);
  const best = selectMaskIndex(res.iouPredictions.data);
  const [h, w] = emb.originalSize;
  const threshold = opts.threshold ?? model.maskThreshold;
  const bestMask = t.logitsToMask(res.masks!.data.subarray(best * h * w, (best + 1) * h * w), w, h, threshold);
  let pixels = 0;
  for (let i = 0; i < bestMask.data.length; i++) pixels += bestMask.data[i] ? 1 : 0;
  if (pixels === 0)
    io.err(
      `warning: the predicted mask is empty (0 px at threshold ${threshold}; predicted IoU ${(iou[best] ?? Number.NaN).toFixed(3)}): it is written, but holds nothing; try another prompt or a lower --mask-threshold`,
    );
  mkdirSync(dirname(req.out), { recursive: true });
  if (req.outKind === 'png') await t.writeMaskPng(req.out, bestMask);
  else writeFileSync(req.out, encodePrediction(res, emb.originalSize, model.sha256));
  const { box } = req;
  if (opts.overlay && opts.img)
    await t.writeOverlayPng(opts.overlay, opts.img, [bestMask], {
      points: req.points,
      ...(box ? { boxes: [box] } : {}),
    });
  io.out(
    JSON.stringify({
      iou_predictions: iou.map((v) => +v.toFixed(5)),
      best,
      pixels,
      out: req.out,
      ...(opts.overlay ? { overlay: opts.overlay } : {}),
    }),
  );
}
