/**
 * MobileSAM's `TinyViT` image encoder (`forward_features`): PatchEmbed, stage 0 of MBConv blocks,
 * stages 1.. of TinyViT attention blocks, PatchMerging between stages, then the SAM neck.
 * Checkpoint keys under `image_encoder.` (the classifier `head`/`norm_head` are unused).
 */
import type { TinyVitConfig } from '../config.js';
import type { ParamScope } from '../layers.js';
import { neck } from './neck.js';
import { mbConv, patchMerging, tinyVitBlock, tinyVitPatchEmbed } from './tiny-vit-blocks.js';
import { SamtuneError, type ErrorKind } from '@samtune/errors';

/** Thrown when the last stage's grid is not the `imgSize/16` embedding grid SAM's decoder expects. */
export class EncoderGridError extends SamtuneError {
  readonly code: string = 'encoder-grid';
  readonly kind: ErrorKind = 'input';
}

/** `images [B,3,S,S]` (normalised, padded) -> `[B,outChans,S/16,S/16]`; `p` is the `image_encoder.` scope. */
export function tinyVitEncoder<T>(p: ParamScope<T>, config: TinyVitConfig, images: T): T {
  const { ops } = p;
  const stages = config.depths.length;
  const outDim = (s: number): number => config.embedDims[Math.min(s + 1, stages - 1)] as number;
  const layers = p.child('layers');

  // Stage 0: convolutions on NCHW.
  let x = tinyVitPatchEmbed(p.child('patch_embed'), images);
  const stage0 = layers.child(0);
  for (let b = 0; b < (config.depths[0] as number); b++) x = mbConv(stage0.child('blocks').child(b), x);
  if (stages > 1) x = patchMerging(stage0.child('downsample'), x, outDim(0));
  x = ops.transpose(x, [0, 2, 3, 1]); // NHWC token map

  for (let s = 1; s < stages; s++) {
    const layer = layers.child(s);
    const opts = {
      numHeads: config.numHeads[s] as number,
      windowSize: config.windowSizes[s] as number,
      localConvSize: config.localConvSize,
    };
    for (let b = 0; b < (config.depths[s] as number); b++) x = tinyVitBlock(layer.child('blocks').child(b), x, opts);
    if (s < stages - 1) {
      x = ops.transpose(
        patchMerging(layer.child('downsample'), ops.transpose(x, [0, 3, 1, 2]), outDim(s)),
        [0, 2, 3, 1],
      );
    }
  }

  const [, h, w] = ops.shape(x) as [number, number, number, number];
  const grid = config.imgSize / 16;
  if (h !== grid || w !== grid) {
    throw new EncoderGridError(
      `tinyVitEncoder(config, images): last stage grid is (H,W)=(${h},${w}), expected (${grid},${grid}) = imgSize/16 for imgSize ${config.imgSize}`,
    );
  }
  return neck(p, ops.transpose(x, [0, 3, 1, 2]));
}
