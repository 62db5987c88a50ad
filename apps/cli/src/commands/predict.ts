/** `samtune predict`: masks for point/box prompts on one image. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { isExportDir, OnnxSamModel } from '@samtune/export';
import {
  decodeNpy,
  encodeSafetensors,
  floatTensor,
  LOW_RES_SIZE,
  readEmbedding,
  readSafetensors,
  type FloatTensor,
  type ImageEmbedding,
  type PredictPrompts,
  type PredictResult,
} from '@samtune/sam-model';
import { logitsToMask, readImage, writeMaskPng, writeOverlayPng, type RgbImage } from '@samtune/transforms';
import { parseBox, parseFlags, parsePoint, required } from '../args.js';
import { UsageError, type CliCommand, type CliIO } from '../command.js';
import { announceBackend, loadModel } from '../model-io.js';

/** Reads `--mask-input`: low-res logits [1,256,256] from .npy or .safetensors (`mask_input`, `low_res_masks` or the only tensor). */
function readMaskInput(path: string): FloatTensor {
  let t: FloatTensor | undefined;
  if (extname(path).toLowerCase() === '.npy') {
    t = decodeNpy(readFileSync(path), path);
  } else {
    const { tensors } = readSafetensors(path);
    const found =
      tensors.get('mask_input') ??
      tensors.get('low_res_masks') ??
      (tensors.size === 1 ? [...tensors.values()][0] : undefined);
    if (!found || found.dtype !== 'float32') {
      throw new UsageError(
        `--mask-input ${path}: needs a float32 tensor 'mask_input' or 'low_res_masks' (has ${[...tensors.keys()].join(', ') || 'none'})`,
      );
    }
    t = found as FloatTensor;
  }
  const n = LOW_RES_SIZE * LOW_RES_SIZE;
  if (t.data.length < n || t.shape.slice(-2).join(',') !== `${LOW_RES_SIZE},${LOW_RES_SIZE}`) {
    throw new UsageError(
      `--mask-input ${path}: expected low-res logits [1,${LOW_RES_SIZE},${LOW_RES_SIZE}], got [${t.shape.join(',')}]`,
    );
  }
  // [1,256,256], [256,256], [1,1,256,256] or [M,256,256] (the first mask) all give the first 256x256 plane.
  return floatTensor(t.data.slice(0, n), [1, LOW_RES_SIZE, LOW_RES_SIZE]);
}

/** What predict needs from a model: the tfjs `SamModel` or an exported ONNX directory. */
interface Predicting {
  embed(img: RgbImage): Promise<ImageEmbedding>;
  predict(emb: ImageEmbedding, prompts: PredictPrompts, multimask: boolean): Promise<PredictResult>;
  readonly maskThreshold: number;
  readonly sha256: string;
  release(): Promise<void>;
}

async function openCheckpoint(checkpoint: string, io: CliIO): Promise<Predicting> {
  await announceBackend(io);
  const model = await loadModel(checkpoint, io);
  return {
    embed: (img) => model.embedImage(img),
    predict: async (emb, prompts, multimask) => model.predict(emb, prompts, { multimask, returnMasks: true }),
    maskThreshold: model.config.maskThreshold,
    sha256: model.source.sha256,
    release: () => model.release(),
  };
}

async function openExportDir(dir: string, io: CliIO): Promise<Predicting> {
  const model = await OnnxSamModel.load(dir);
  const variant = model.decoderVariant;
  io.err(
    `model: ONNX export ${dir} (${model.info.model}, ${variant} decoder) of checkpoint sha256 ${model.info.checkpoint.sha256.slice(0, 12)}`,
  );
  return {
    embed: (img) => model.embed(img),
    // without --multimask: token 0 like the tfjs path; a single-mask decoder can only give the rule's mask
    predict: (emb, prompts, multimask) =>
      model.predict(emb, prompts, { multimask: multimask || (variant === 'single_mask' ? 'auto' : false) }),
    maskThreshold: model.info.mask_threshold,
    sha256: model.info.checkpoint.sha256,
    release: () => model.release(),
  };
}

export const predictCommand: CliCommand = {
  path: ['predict'],
  summary: 'predict masks for point and box prompts on one image',
  usage: `usage: samtune predict (--checkpoint <name|path|export dir> | --model <export dir>) (--image <file> | --embedding <file.safetensors>)
       [--point x,y,label]... [--box x0,y0,x1,y1] [--mask-input <file.npy|.safetensors>] [--multimask]
       --out <file.safetensors|file.png> [--overlay <file.png>] [--mask-threshold <logit>]

  --checkpoint a .pth/.safetensors/registry name (tfjs decoder), or a directory written by
              'samtune export' (model.json): then its ONNX models run on onnxruntime (--model says so explicitly)
  Prompts are in ORIGINAL image pixels: --point x,y,label (label 1 foreground, 0 background; repeat),
  --box x0,y0,x1,y1 (XYXY). Box and points together are passed to SAM together.
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
    });
    if (f.model !== undefined && !isExportDir(f.model))
      throw new UsageError(`--model ${f.model}: not a directory written by 'samtune export' (no model.json)`);
    const modelDir = f.model ?? (f.checkpoint !== undefined && isExportDir(f.checkpoint) ? f.checkpoint : undefined);
    const checkpoint = modelDir === undefined ? required(f.checkpoint, 'checkpoint') : modelDir;
    const out = required(f.out, 'out');
    const outExt = extname(out).toLowerCase();
    if (outExt !== '.safetensors' && outExt !== '.png')
      throw new UsageError(`--out ${out}: expected a .safetensors or .png file`);
    if (!f.image && !f.embedding) throw new UsageError('give --image <file> or --embedding <file>');
    if (f.overlay && !f.image) throw new UsageError('--overlay needs --image');
    const points = (f.point ?? []).map(parsePoint);
    const box = f.box ? parseBox(f.box) : undefined;
    if (points.length === 0 && !box) throw new UsageError('no prompt: give --point x,y,label and/or --box x0,y0,x1,y1');
    const maskInput = f['mask-input'] ? readMaskInput(f['mask-input']) : undefined;
    const threshold = f['mask-threshold'] === undefined ? undefined : Number(f['mask-threshold']);
    if (threshold !== undefined && !Number.isFinite(threshold))
      throw new UsageError(`--mask-threshold '${f['mask-threshold']}': expected a number (a logit)`);

    const model = modelDir !== undefined ? await openExportDir(modelDir, io) : await openCheckpoint(checkpoint, io);
    try {
      const img = f.image ? await readImage(f.image) : undefined;
      const emb = f.embedding ? readEmbedding(f.embedding) : await model.embed(img!);
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
      const best = iou.indexOf(Math.max(...iou));
      const [h, w] = emb.originalSize;
      const bestMask = logitsToMask(
        masks.data.subarray(best * h * w, (best + 1) * h * w),
        w,
        h,
        threshold ?? model.maskThreshold,
      );
      mkdirSync(dirname(out), { recursive: true });
      if (outExt === '.png') await writeMaskPng(out, bestMask);
      else {
        writeFileSync(
          out,
          encodeSafetensors(
            new Map([
              ['low_res_masks', res.lowResMasks],
              ['iou_predictions', res.iouPredictions],
              ['masks', masks],
            ]),
            {
              original_size: `${h},${w}`,
              checkpoint_sha256: model.sha256,
            },
          ),
        );
      }
      if (f.overlay && img)
        await writeOverlayPng(f.overlay, img, [bestMask], { points, ...(box ? { boxes: [box] } : {}) });
      io.out(
        JSON.stringify({
          iou_predictions: iou.map((v) => +v.toFixed(5)),
          best,
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
